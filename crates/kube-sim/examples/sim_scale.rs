//! Scale figures of the simulated API server: 5,000 nodes and 5,000 pods with watchers.
//!
//! Prints the time to create the objects, the latency of listing every pod (kube-rs typed
//! list, including client-side decoding), the latency of a status-update storm with the
//! watchers connected, and the resident memory of the process (server, client and watcher
//! caches together).
//!
//! `cargo run --release -p kube-sim --example sim_scale [-- NODES PODS]`

mod common;

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use kube_sim::apiserver::{Config, SimApiServer};
use serde_json::json;

use common::rss_mib;

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "min {:.1} ms, median {:.1} ms, max {:.1} ms ({} runs)",
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let nodes = args.first().copied().unwrap_or(5_000);
    let pods_n = args.get(1).copied().unwrap_or(5_000);
    println!("rss at start: {:.0} MiB", rss_mib());
    let server = SimApiServer::start(Config::default()).await?;
    let client = server.client()?;

    let t = Instant::now();
    server.create_nodes("node", nodes)?;
    println!(
        "created {nodes} nodes in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let t = Instant::now();
    stream::iter(0..pods_n)
        .map(|i| {
            let pods = pods.clone();
            async move {
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": { "name": format!("pod-{i:05}"),
                                  "labels": { "app": "daemon", "shard": (i % 10).to_string() } },
                    "spec": { "nodeName": format!("node-{:04}", i % nodes.max(1) + 1),
                              "containers": [{ "name": "app", "image": "registry.k8s.io/pause:3.9",
                                               "ports": [{ "containerPort": 8080 }] }] },
                }))
                .expect("pod");
                pods.create(&PostParams::default(), &pod).await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    println!(
        "created {pods_n} pods over HTTP in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Watchers: two on pods, two on nodes, each keeping a reflector-like count.
    let mut watchers = Vec::new();
    for _ in 0..2 {
        let w = watcher(pods.clone(), watcher::Config::default()).applied_objects();
        watchers.push(tokio::spawn(w.for_each(|_| async {})));
        let n: Api<Node> = Api::all(client.clone());
        let w = watcher(n, watcher::Config::default()).applied_objects();
        watchers.push(tokio::spawn(w.for_each(|_| async {})));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("rss with data and 4 watchers: {:.0} MiB", rss_mib());

    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let list = pods.list(&ListParams::default()).await?;
        samples.push(t.elapsed());
        assert_eq!(list.items.len(), pods_n);
    }
    println!("list {pods_n} pods (typed): {}", summary(samples));

    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..10 {
        let req = axum::http::Request::get("/api/v1/namespaces/default/pods").body(Vec::new())?;
        let t = Instant::now();
        let body = client.request_text(req).await?;
        samples.push(t.elapsed());
        bytes = body.len();
    }
    println!(
        "list {pods_n} pods (raw HTTP, {:.1} MiB body): {}",
        bytes as f64 / 1048576.0,
        summary(samples)
    );

    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let list = pods.list(&ListParams::default().labels("shard=3")).await?;
        samples.push(t.elapsed());
        assert!(!list.items.is_empty());
    }
    println!(
        "list pods with labelSelector (1/10 match): {}",
        summary(samples)
    );

    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let list = pods.list(&ListParams::default().limit(500)).await?;
        samples.push(t.elapsed());
        assert_eq!(list.items.len(), 500.min(pods_n));
    }
    println!("list first page of 500 pods: {}", summary(samples));

    let t = Instant::now();
    stream::iter(0..pods_n)
        .map(|i| {
            let pods = pods.clone();
            async move {
                let status = json!({ "status": { "phase": "Running", "conditions": [
                    { "type": "Ready", "status": "True" }] } });
                pods.patch_status(
                    &format!("pod-{i:05}"),
                    &PatchParams::default(),
                    &Patch::Merge(status),
                )
                .await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    println!(
        "{pods_n} pod status patches with 4 watchers: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("rss at end: {:.0} MiB", rss_mib());
    for w in watchers {
        w.abort();
    }
    server.stop().await;
    Ok(())
}
