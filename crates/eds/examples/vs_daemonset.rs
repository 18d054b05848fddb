//! Side by side: the Kubernetes DaemonSet controller and this ExtendedDaemonSet controller
//! rolling the same pod template to a new image on the same fake nodes.
//!
//! On the cluster of `--kubeconfig` (or `EDS_TEST_KUBECONFIG`), or on the embedded simulated
//! cluster when neither is given, it:
//!
//! - registers `--nodes` fake nodes with the kubelet simulator of `kube-sim` (in-process, as
//!   `eds sim kubelet` does), labelled `bench.extendeddaemonset.datadoghq.com/vs-daemonset-ds`
//!   and `...-eds`, the node selectors of the DaemonSet and of the ExtendedDaemonSet, so that
//!   they run nothing else (the late nodes of each half carry only that half's label);
//! - starts this controller in-process (its API writes counted by a layer on its client);
//! - in namespace `eds-vs-daemonset`, creates a DaemonSet and an ExtendedDaemonSet with the same
//!   pod template (pod start delay 1 s on the simulated kubelet, grace period 1 s) and the same
//!   `maxUnavailable` (`--max-unavailable`, default 10%; the ExtendedDaemonSet has no canary
//!   unless `--canary`), waits for both to run everywhere, then updates both images, one after
//!   the other;
//! - prints for each: the rollout time, its ratio to the theoretical minimum (the formula of
//!   `controller_scale`, printed), the pod creates and deletes seen by a watch during the
//!   rollout (and for the ExtendedDaemonSet every write of its controller), and the time from a
//!   new node to its pod (p50/p99 over `--late-nodes` nodes added one at a time; the
//!   DaemonSet's late nodes are removed again before the ExtendedDaemonSet's rollout, which
//!   waits until the ExtendedDaemonSet is complete on exactly `--nodes` nodes);
//! - deletes everything it created (workloads, fake nodes and their pods, the namespace).
//!
//! Whether a DaemonSet controller runs is detected by the first sign of one within 120 s: a
//! ControllerRevision or a pod owned by the DaemonSet, or its `status.observedGeneration`
//! (a kube-controller-manager with its default client QPS of 20 takes a while to write the
//! status of a DaemonSet of 1,000 nodes, but writes its ControllerRevision first); the output
//! says which it saw. The embedded simulator has no kube-controller-manager: there only the
//! ExtendedDaemonSet half runs (without waiting), and the output says so.
//! A real cluster needs the CRDs installed (`kubectl apply -f crds/`) and no other
//! ExtendedDaemonSet controller watching the namespace.
//!
//! `cargo run --release -p eds --example vs_daemonset -- [--nodes 100] [--max-unavailable 10%]
//!  [--canary] [--kubeconfig PATH]`

#[path = "scale/controller.rs"]
#[allow(dead_code)]
mod controller;
#[path = "scale/latency.rs"]
mod latency;
#[path = "scale/rollout.rs"]
#[allow(dead_code)]
mod rollout;
#[path = "scale/writes.rs"]
mod writes;

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::Parser;
use eds_api::{ExtendedDaemonSet, constants::keys};
use futures::StreamExt;
use k8s_openapi::{
    api::{
        apps::v1::{ControllerRevision, DaemonSet},
        core::v1::{Namespace, Pod},
    },
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    runtime::{WatchStreamExt, watcher},
};
use kube_sim::{
    apiserver::{Config, SimApiServer},
    cluster::install_crds,
    kubelet::{FakeNode, KubeletConfig, SimKubelet},
};
use serde_json::json;
use writes::Writes;

const NAMESPACE: &str = "eds-vs-daemonset";
const DS_NAME: &str = "foo-ds";
/// Label of the DaemonSet's pods (its selector).
const DS_LABEL: (&str, &str) = ("app", "vs-daemonset-ds");
/// Label of the fake nodes the DaemonSet runs on, its node selector.
const DS_NODE_LABEL: &str = "bench.extendeddaemonset.datadoghq.com/vs-daemonset-ds";
/// Label of the fake nodes the ExtendedDaemonSet runs on, its node selector.
const EDS_NODE_LABEL: &str = "bench.extendeddaemonset.datadoghq.com/vs-daemonset-eds";
const START_DELAY: Duration = Duration::from_secs(1);
/// How long the DaemonSet may show no sign of a controller (no ControllerRevision, no pod, no
/// `status.observedGeneration`) before concluding that no DaemonSet controller runs.
const DS_DETECT: Duration = Duration::from_secs(120);
const IMAGES: [&str; 2] = ["registry.k8s.io/pause:3.0", "registry.k8s.io/pause:3.1"];

type Error = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(about = "Rollout of a DaemonSet and of an ExtendedDaemonSet, side by side")]
struct Args {
    /// Cluster to run on (default: $EDS_TEST_KUBECONFIG, else the embedded simulator).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Fake nodes to register.
    #[arg(long, default_value_t = 100)]
    nodes: usize,
    /// `maxUnavailable` of both rolling updates: a number of nodes or a percentage.
    #[arg(long, default_value = "10%")]
    max_unavailable: String,
    /// Give the ExtendedDaemonSet a canary (10% of the nodes, promoted after 5 s).
    #[arg(long)]
    canary: bool,
    /// Nodes added one at a time to time node -> pod, for each workload.
    #[arg(long, default_value_t = 10)]
    late_nodes: usize,
    /// Fake node names are `<prefix>-0`, `<prefix>-1`, ...
    #[arg(long, default_value = "vs-ds")]
    prefix: String,
}

/// Pod creates and deletes of one workload seen by a watch on its pods.
#[derive(Clone, Default)]
struct Churn(Arc<Mutex<(u64, u64)>>);

impl Churn {
    /// Watches the pods of `namespace` matching `labels` from now on.
    async fn watch(
        client: &kube::Client,
        labels: &str,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), Error> {
        let churn = Self::default();
        let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
        let config = watcher::Config::default().labels(labels);
        let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
        let counts = churn.clone();
        let task = tokio::spawn(async move {
            let mut synced = Some(synced_tx);
            let mut known = HashSet::new();
            let mut events = std::pin::pin!(watcher(api, config).default_backoff());
            while let Some(event) = events.next().await {
                match event {
                    Ok(watcher::Event::InitApply(pod)) => {
                        known.insert(pod.metadata.uid.unwrap_or_default());
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(s) = synced.take() {
                            let _ = s.send(());
                        }
                    }
                    Ok(watcher::Event::Apply(pod))
                        if known.insert(pod.metadata.uid.clone().unwrap_or_default()) =>
                    {
                        counts.0.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
                    }
                    Ok(watcher::Event::Delete(_)) => {
                        counts.0.lock().unwrap_or_else(|e| e.into_inner()).1 += 1;
                    }
                    _ => {}
                }
            }
        });
        synced_rx.await?;
        Ok((churn, task))
    }

    fn counts(&self) -> (u64, u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The DaemonSet, with the pod template of the ExtendedDaemonSet.
fn daemon_set(image: &str, max_unavailable: &str) -> Result<DaemonSet, Error> {
    let max_unavailable = match max_unavailable.parse::<u32>() {
        Ok(n) => json!(n),
        Err(_) => json!(max_unavailable),
    };
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": DS_NAME, "namespace": NAMESPACE},
        "spec": {
            "selector": {"matchLabels": {DS_LABEL.0: DS_LABEL.1}},
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": 0},
            },
            "template": rollout::pod_template(image, Some((DS_NODE_LABEL, "true")), &[DS_LABEL]),
        },
    }))?)
}

async fn apply_ds(api: &Api<DaemonSet>, ds: &DaemonSet) -> Result<i64, Error> {
    let applied = api
        .patch(
            DS_NAME,
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(ds),
        )
        .await?;
    Ok(applied.metadata.generation.unwrap_or_default())
}

/// The first sign of a DaemonSet controller acting on the DaemonSet (generation
/// `generation`) within [`DS_DETECT`]: what was seen, or `None`.
async fn ds_controller_sign(
    client: &kube::Client,
    generation: i64,
) -> Result<Option<String>, Error> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NAMESPACE);
    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let list = ListParams::default().labels(&format!("{}={}", DS_LABEL.0, DS_LABEL.1));
    let t = Instant::now();
    while t.elapsed() < DS_DETECT {
        let ds = rollout::read_retrying("reading the DaemonSet", || api.get(DS_NAME)).await?;
        let uid = ds.metadata.uid.unwrap_or_default();
        let owned =
            |refs: &Option<Vec<OwnerReference>>| refs.iter().flatten().any(|r| r.uid == uid);
        let observed = ds.status.and_then(|s| s.observed_generation);
        let sign = if observed.is_some_and(|g| g >= generation) {
            Some(format!(
                "status.observedGeneration {}",
                observed.unwrap_or_default()
            ))
        } else if let Some(rev) =
            rollout::read_retrying("listing ControllerRevisions", || revisions.list(&list))
                .await?
                .items
                .into_iter()
                .find(|r| owned(&r.metadata.owner_references))
        {
            Some(format!(
                "ControllerRevision {}",
                rev.metadata.name.unwrap_or_default()
            ))
        } else {
            rollout::read_retrying("listing the DaemonSet's pods", || pods.list(&list))
                .await?
                .items
                .into_iter()
                .find(|p| owned(&p.metadata.owner_references))
                .map(|p| format!("pod {}", p.metadata.name.unwrap_or_default()))
        };
        if let Some(sign) = sign {
            return Ok(Some(format!(
                "{sign} after {:.1} s",
                t.elapsed().as_secs_f64()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(None)
}

/// Waits until the DaemonSet runs an available pod of `generation` on each of the `nodes`
/// nodes and no other pod is left.
async fn wait_ds(
    api: &Api<DaemonSet>,
    pods: &Api<Pod>,
    generation: i64,
    nodes: i32,
    started: Instant,
) -> Result<(), Error> {
    let selector = format!("{}={}", DS_LABEL.0, DS_LABEL.1);
    let mut next_report = Duration::from_secs(10);
    loop {
        let s = rollout::read_retrying("reading the DaemonSet", || api.get(DS_NAME))
            .await?
            .status
            .unwrap_or_default();
        let done = s.observed_generation.is_some_and(|g| g >= generation)
            && s.desired_number_scheduled == nodes
            && s.updated_number_scheduled == Some(nodes)
            && s.number_available == Some(nodes)
            && s.number_ready == nodes;
        let list = ListParams::default().labels(&selector);
        if done
            && rollout::read_retrying("listing the DaemonSet's pods", || pods.list(&list))
                .await?
                .items
                .len()
                == nodes as usize
        {
            return Ok(());
        }
        let elapsed = started.elapsed();
        if elapsed >= next_report {
            println!(
                "  {:5.1} s: desired {}, ready {}, updated {}, available {}",
                elapsed.as_secs_f64(),
                s.desired_number_scheduled,
                s.number_ready,
                s.updated_number_scheduled.unwrap_or(0),
                s.number_available.unwrap_or(0)
            );
            next_report += Duration::from_secs(10);
        }
        if elapsed > rollout::PHASE_TIMEOUT {
            return Err(format!(
                "DaemonSet rollout not complete after {:?}",
                rollout::PHASE_TIMEOUT
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one workload's rollout measured.
struct Figures {
    elapsed: Duration,
    created: u64,
    deleted: u64,
}

fn print_figures(what: &str, f: &Figures, floor: &latency::Floor, nodes: usize) {
    println!(
        "{what}: image update on {nodes} nodes in {:.2} s; theoretical minimum {}; ratio {:.2}",
        f.elapsed.as_secs_f64(),
        floor.explain(),
        f.elapsed.as_secs_f64() / floor.total.as_secs_f64()
    );
    println!(
        "  pod writes seen by a watch: {} creates + {} deletes = {:.2} per node",
        f.created,
        f.deleted,
        (f.created + f.deleted) as f64 / nodes as f64
    );
}

fn print_latency(late: &latency::Latency, count: usize) {
    println!(
        "  new node -> its pod created ({count} nodes, one at a time): p50 {:.0} ms, p99 {:.0} ms, \
         max {:.0} ms",
        late.p50.as_secs_f64() * 1000.0,
        late.p99.as_secs_f64() * 1000.0,
        late.max.as_secs_f64() * 1000.0
    );
}

/// Name of late node `k` of half `what` (`ds` or `eds`).
fn late_name(prefix: &str, what: &str, k: usize) -> String {
    format!("{prefix}-{what}-late-{k}")
}

/// Adds late node `{prefix}-{what}-late-{k}`, labelled `label` only (so that only one of the
/// two workloads selects it), and returns its name.
async fn add_late(
    kubelet: &SimKubelet,
    prefix: &str,
    what: &str,
    label: &str,
    k: usize,
) -> Result<String, Error> {
    let name = late_name(prefix, what, k);
    let mut node = FakeNode::new(&name);
    node.labels.insert(label.into(), "true".into());
    kubelet.add_node(node).await?;
    Ok(name)
}

/// The benchmark proper, on a cluster with the fake nodes and the controller up.
async fn bench(
    args: &Args,
    client: &kube::Client,
    kubelet: &SimKubelet,
    writes: &Writes,
    embedded: bool,
    jitter: f64,
) -> Result<(), Error> {
    let nodes = args.nodes;
    let per_wave = rollout::scaled(&args.max_unavailable, nodes).ok_or("maxUnavailable")?;
    let eds_api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), NAMESPACE);
    let ds_api: Api<DaemonSet> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let eds_of = |image: &str| {
        let mut eds = rollout::eds_with(
            image,
            nodes,
            args.canary,
            &args.max_unavailable,
            Some((EDS_NODE_LABEL, "true")),
        );
        eds.metadata.namespace = Some(NAMESPACE.into());
        eds
    };

    // The DaemonSet half, where a DaemonSet controller runs.
    let t = Instant::now();
    let generation = apply_ds(&ds_api, &daemon_set(IMAGES[0], &args.max_unavailable)?).await?;
    let sign = if embedded {
        None
    } else {
        ds_controller_sign(client, generation).await?
    };
    let ds_runs = sign.is_some();
    if let Some(sign) = sign {
        println!("DaemonSet controller: present ({sign})");
        wait_ds(&ds_api, &pods, generation, nodes as i32, t).await?;
        println!(
            "DaemonSet: first deployment on {nodes} nodes in {:.2} s",
            t.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "DaemonSet controller: none ({}): only the ExtendedDaemonSet half runs, there is \
             nothing to compare it with",
            if embedded {
                "the embedded simulator has no kube-controller-manager".to_string()
            } else {
                format!(
                    "no ControllerRevision, pod or status.observedGeneration of the DaemonSet \
                     within {} s",
                    DS_DETECT.as_secs()
                )
            }
        );
        ds_api.delete(DS_NAME, &DeleteParams::default()).await?;
    }

    let t = Instant::now();
    let first_generation = rollout::apply(&eds_api, &eds_of(IMAGES[0])).await?;
    rollout::wait_complete(&eds_api, first_generation, nodes as i32, t).await?;
    println!(
        "ExtendedDaemonSet: first deployment on {nodes} nodes in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let floor =
        latency::rolling_update_floor(nodes, per_wave, START_DELAY, jitter, rollout::GRACE, None);
    if ds_runs {
        let (churn, watch) =
            Churn::watch(client, &format!("{}={}", DS_LABEL.0, DS_LABEL.1)).await?;
        let t = Instant::now();
        let generation = apply_ds(&ds_api, &daemon_set(IMAGES[1], &args.max_unavailable)?).await?;
        wait_ds(&ds_api, &pods, generation, nodes as i32, t).await?;
        let elapsed = t.elapsed();
        watch.abort();
        let (created, deleted) = churn.counts();
        let figures = Figures {
            elapsed,
            created,
            deleted,
        };
        print_figures("DaemonSet", &figures, &floor, nodes);
        let late = latency::new_node_latency(
            client,
            NAMESPACE,
            &format!("{}={}", DS_LABEL.0, DS_LABEL.1),
            args.late_nodes,
            |k| add_late(kubelet, &args.prefix, "ds", DS_NODE_LABEL, k),
        )
        .await?;
        print_latency(&late, args.late_nodes);
        // Back to `nodes` nodes (the ExtendedDaemonSet never selected these).
        for k in 0..args.late_nodes {
            kubelet
                .remove_node(&late_name(&args.prefix, "ds", k))
                .await?;
        }
    }

    let eds_floor = if args.canary {
        latency::rolling_update_floor(
            nodes,
            per_wave,
            START_DELAY,
            jitter,
            rollout::GRACE,
            Some((nodes.div_ceil(10), rollout::CANARY_DURATION)),
        )
    } else {
        floor
    };
    let eds_label = format!("{}={}", keys::EDS_NAME_LABEL, rollout::NAME);
    // Still complete on exactly `nodes` nodes (desired included) after the DaemonSet half,
    // so that the churn and the writes counted below are the image update's alone.
    let t = Instant::now();
    rollout::wait_complete(&eds_api, first_generation, nodes as i32, t).await?;
    if t.elapsed() > Duration::from_secs(1) {
        println!(
            "ExtendedDaemonSet: complete again on {nodes} nodes after {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let (churn, watch) = Churn::watch(client, &eds_label).await?;
    writes.take();
    let t = Instant::now();
    let generation = rollout::apply(&eds_api, &eds_of(IMAGES[1])).await?;
    rollout::wait_complete(&eds_api, generation, nodes as i32, t).await?;
    let elapsed = t.elapsed();
    watch.abort();
    let (created, deleted) = churn.counts();
    let figures = Figures {
        elapsed,
        created,
        deleted,
    };
    let what = if args.canary {
        "ExtendedDaemonSet (canary + rolling update)"
    } else {
        "ExtendedDaemonSet"
    };
    print_figures(what, &figures, &eds_floor, nodes);
    let counts = writes.take();
    println!(
        "  every API write of the controller: {} = {:.2} per node",
        writes::summary(&counts),
        counts.values().sum::<u64>() as f64 / nodes as f64
    );
    let late = latency::new_node_latency(client, NAMESPACE, &eds_label, args.late_nodes, |k| {
        add_late(kubelet, &args.prefix, "eds", EDS_NODE_LABEL, k)
    })
    .await?;
    print_latency(&late, args.late_nodes);
    Ok(())
}

/// Deletes the workloads and the namespace (if this run created it), best effort.
async fn clean_up(client: &kube::Client, namespace_created: bool) {
    let eds_api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), NAMESPACE);
    let ds_api: Api<DaemonSet> = Api::namespaced(client.clone(), NAMESPACE);
    let background = DeleteParams::background();
    for result in [
        eds_api.delete(rollout::NAME, &background).await.map(|_| ()),
        ds_api.delete(DS_NAME, &background).await.map(|_| ()),
    ] {
        match result {
            Ok(()) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => println!("clean-up: {e}"),
        }
    }
    if namespace_created {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        if let Err(e) = namespaces.delete(NAMESPACE, &background).await {
            println!("clean-up: namespace {NAMESPACE}: {e}");
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    if rollout::scaled(&args.max_unavailable, args.nodes).is_none() {
        return Err(format!(
            "--max-unavailable: {:?} is neither a number of nodes nor a percentage (0-100%)",
            args.max_unavailable
        )
        .into());
    }
    if args.nodes == 0 {
        return Err("--nodes: at least 1 node is needed".into());
    }
    if args.late_nodes == 0 {
        return Err("--late-nodes: at least 1 node is needed to time node -> pod".into());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let kubeconfig = args
        .kubeconfig
        .clone()
        .or_else(|| std::env::var_os("EDS_TEST_KUBECONFIG").map(PathBuf::from));
    let started = Instant::now();
    let (server, mut config) = match &kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| format!("--kubeconfig {}: {e}", path.display()))?;
            let config =
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await?;
            println!("cluster: {} ({})", config.cluster_url, path.display());
            (None, config)
        }
        None => {
            let server = SimApiServer::start(Config::default()).await?;
            install_crds(&server.client()?, &eds_api::crds()).await?;
            let config = kube::Config::new(server.url().parse()?);
            println!("cluster: the embedded simulator (no kube-controller-manager)");
            (Some(server), config)
        }
    };
    config.default_namespace = NAMESPACE.into();
    let client = kube::Client::try_from(config.clone())?;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    if crds
        .get_opt("extendeddaemonsets.datadoghq.com")
        .await?
        .is_none()
    {
        return Err(
            "the ExtendedDaemonSet CRDs are not installed on this cluster: kubectl apply -f crds/"
                .into(),
        );
    }

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": NAMESPACE}}))?;
    let namespace_created = match namespaces.create(&PostParams::default(), &namespace).await {
        Ok(_) => true,
        Err(kube::Error::Api(s)) if s.code == 409 => false,
        Err(e) => return Err(format!("creating namespace {NAMESPACE}: {e}").into()),
    };

    let mut kubelet_config =
        KubeletConfig::with_nodes(&args.prefix, args.nodes).start_delay(START_DELAY);
    for node in &mut kubelet_config.nodes {
        node.labels.insert(DS_NODE_LABEL.into(), "true".into());
        node.labels.insert(EDS_NODE_LABEL.into(), "true".into());
    }
    if server.is_some() {
        // Nothing watches node leases on the simulator.
        kubelet_config.heartbeat_interval = Duration::ZERO;
    }
    kubelet_config.delete_nodes_on_stop = true;
    let jitter = kubelet_config.jitter;
    // On the embedded simulator the kubelet calls it in-process, as in `SimCluster`.
    let kubelet_client = server
        .as_ref()
        .map_or_else(|| client.clone(), |s| s.local_client());
    let kubelet = SimKubelet::start(kubelet_client, kubelet_config).await?;
    println!(
        "fake nodes: {} (pod start delay {:.1} s + up to {:.0}%), up in {:.2} s; maxUnavailable {}",
        args.nodes,
        START_DELAY.as_secs_f64(),
        jitter * 100.0,
        started.elapsed().as_secs_f64(),
        args.max_unavailable
    );

    let writes = Writes::default();
    let controller =
        match controller::start(writes.client(config)?, "eds-vs-daemonset", NAMESPACE).await {
            Ok(c) => c,
            Err(e) => {
                let _ = kubelet.stop().await;
                clean_up(&client, namespace_created).await;
                return Err(e);
            }
        };

    let result = bench(&args, &client, &kubelet, &writes, server.is_some(), jitter).await;

    // The controller first, so that it does not write the status of what is being deleted;
    // the fake nodes' pods go with the nodes.
    controller.stop().await;
    clean_up(&client, namespace_created).await;
    if let Err(e) = kubelet.stop().await {
        println!("clean-up: fake nodes: {e}");
    }
    if let Some(server) = server {
        server.stop().await;
    }
    println!(
        "cleaned up: workloads, fake nodes and their pods{}",
        if namespace_created { ", namespace" } else { "" }
    );
    result
}
