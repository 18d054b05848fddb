//! Scale figures of the kubelet simulator on the embedded API server: registers NODES fake
//! nodes, creates one pinned pod per node (as a daemon controller would) and waits until every
//! pod is Ready.
//!
//! Prints the node registration time, the time from the first pod create to the last pod
//! Ready (creation, binding, three status writes per pod, through watches), the CPU time of
//! the process and its resident memory (server, kubelet and caches together).
//!
//! `cargo run --release -p kube-sim --example sim_kubelet_scale [-- NODES]`

mod common;

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api,
    api::PostParams,
    runtime::{WatchStreamExt, watcher},
};
use kube_sim::{
    apiserver::{Config, SimApiServer},
    kubelet::{KubeletConfig, SimKubelet},
};
use serde_json::json;

use common::{Cpu, rss_mib};

fn ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let server = SimApiServer::start(Config::default()).await?;
    let client = server.client()?;

    let config = KubeletConfig {
        heartbeat_interval: Duration::ZERO,
        delete_nodes_on_stop: false,
        ..KubeletConfig::with_nodes("scale", nodes).start_delay(Duration::from_millis(500))
    };
    let t = Instant::now();
    let kubelet = SimKubelet::start(client.clone(), config).await?;
    println!(
        "registered {nodes} nodes in {:.2} s (process CPU so far {:.2} s)",
        t.elapsed().as_secs_f64(),
        Cpu::now().total()
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let names = kubelet.node_names();
    let t = Instant::now();
    stream::iter(names)
        .map(|node| {
            let pods = pods.clone();
            async move {
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("daemon-{node}"), "labels": {"app": "daemon"}},
                    "spec": {
                        "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}],
                        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [{"matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
                    }
                }))
                .expect("pod");
                pods.create(&PostParams::default(), &pod).await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    println!("created {nodes} pods in {:.2} s", t.elapsed().as_secs_f64());

    // Ready pods as seen through a watch, checked against a list when the watch goes quiet.
    let mut ready_pods = std::collections::BTreeSet::new();
    let stream = watcher(pods.clone(), watcher::Config::default()).applied_objects();
    futures::pin_mut!(stream);
    while ready_pods.len() < nodes {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await;
        let Ok(next) = next else {
            let listed = pods.list(&Default::default()).await?;
            let listed_ready = listed.iter().filter(|p| ready(p)).count();
            println!(
                "watch quiet for 10 s with {} Ready pods seen; a list shows {listed_ready} Ready",
                ready_pods.len()
            );
            if listed_ready == nodes {
                println!(
                    "the watch missed {} Ready transitions",
                    nodes - ready_pods.len()
                );
                break;
            }
            continue;
        };
        let Some(pod) = next? else {
            break;
        };
        if ready(&pod) {
            ready_pods.insert(pod.metadata.name.clone().unwrap_or_default());
        }
    }
    println!(
        "all pods Ready {:.2} s after the first create (start delay 0.5-0.6 s; process CPU so far {:.2} s)",
        t.elapsed().as_secs_f64(),
        Cpu::now().total()
    );
    println!("rss: {:.0} MiB", rss_mib());
    kubelet.stop().await?;
    server.stop().await;
    Ok(())
}
