//! Scale figures of the whole controller on the embedded simulated cluster: NODES fake nodes,
//! one ExtendedDaemonSet without a canary (rolling update `maxUnavailable: 10%`, at most 10%
//! of the nodes starting a pod at once: `maxParallelPodCreation` 10% of the nodes, slow start
//! +10% a second; pod start delay 1 s, grace period 1 s), the controller running in-process
//! with `/metrics` served on a local port.
//!
//! Three phases: the first deployment, a rolling update to a new image, and a canary + rolling
//! update to another image (canary on 10% of the nodes, promoted automatically after 5 s).
//! Prints the time of each phase from the apply until every node runs a Ready pod of the new
//! revision and no old pod is left (read from the EDS status: `observedGeneration`, the
//! `Ready` condition and the counts), the theoretical minimum of the updates with its formula
//! and the ratio to it, and for each phase and in total:
//!
//! - the reconciles of the `eds_reconcile_duration_seconds` histogram (those that planned and
//!   executed): count, mean and the bucket counts;
//! - every call of the reconcile function, timed on its tracing span (including the calls that
//!   return early because the caches have not caught up with the controller's own writes):
//!   count, mean and max of the wall time (span creation to close, API calls included) and of
//!   the busy time (time spent polling the future: snapshot, planning and executor CPU);
//! - the reconciles that planned, by phase: the computing (building the snapshot from the
//!   caches, and `plan()`), as CPU time of the thread that ran it, and the wall time of the
//!   writes;
//! - the CPU time of the process (API server, kubelet simulator and controller together).
//!
//! And the resident memory at the end. Wall times and process CPU include the simulated API
//! server's work, and the API calls of a reconcile wait for it; the busy time is the
//! controller's own. The node lease heartbeats of the kubelet simulator are off: nothing in the
//! embedded cluster reads them, and at thousands of nodes they would add hundreds of requests
//! a second to the CPU figures. Controller warnings go to stderr (`RUST_LOG` overrides the
//! `warn` filter).
//!
//! With `--timeline`, a watch of the pods times each hop of the reaction chain of the updates,
//! node by node (old pod deleted, gone, new pod created, bound, started, Ready, next delete);
//! it is one more watcher of every pod event, so it is off by default.
//!
//! `cargo run --release -p eds --example controller_scale [-- NODES] [--timeline]`

/// The allocator of the `eds` binary (mimalloc 2, see src/main.rs): with the simulated cluster
/// in the process, the system allocator spends about 40% of the CPU at 5,000 nodes (glibc's
/// `malloc`/`free` on a heap of 1.6 GiB).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../../kube-sim/examples/common/mod.rs"]
mod common;
#[path = "scale/controller.rs"]
mod controller;
#[path = "scale/latency.rs"]
mod latency;
#[path = "scale/rollout.rs"]
mod rollout;
#[path = "scale/timeline.rs"]
mod timeline;
#[path = "scale/writes.rs"]
mod writes;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetStatus, constants::keys};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, ResourceExt, api::ListParams};
use kube_sim::{
    apiserver::{Config, SimApiServer},
    cluster::install_crds,
    kubelet::{FakeNode, KubeletConfig, SimKubelet},
};

use common::{Cpu, rss_mib};
use rollout::{NAME, NAMESPACE};
use tracing::span;
use tracing_subscriber::{
    EnvFilter, Layer, layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt,
};
use writes::Writes;

const START_DELAY: Duration = Duration::from_secs(1);
/// Quiet period after the rollout, over which the controller's writes are counted.
const QUIET: Duration = Duration::from_secs(60);
/// Nodes added one at a time at the end, to time node -> pod.
const LATE_NODES: usize = 20;

/// Timing of the reconcile function's spans, collected by [`ReconcileTimer`].
#[derive(Clone, Default)]
struct SpanStats {
    calls: u64,
    wall: Duration,
    busy: Duration,
    max_wall: Duration,
    max_busy: Duration,
    /// Per reconcile that planned: thread CPU time of its `snapshot` and `plan` phases.
    snapshot: Vec<Duration>,
    plan: Vec<Duration>,
    /// Per reconcile that planned: wall time of its `execute` phase (the API writes).
    execute: Vec<Duration>,
    /// Per reconcile that planned: wall time of the whole call.
    planned_wall: Vec<Duration>,
}

/// `p50 / mean / max` of `values`, in milliseconds.
fn spread(values: &[Duration]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = ms(sorted.iter().sum::<Duration>()) / sorted.len() as f64;
    format!(
        "p50 {:.1} / mean {mean:.1} / max {:.1} ms",
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() - 1])
    )
}

impl SpanStats {
    fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mean = |d: Duration| ms(d) / self.calls.max(1) as f64;
        format!(
            "{} calls; wall mean {:.1} ms, max {:.1} ms; busy mean {:.1} ms, max {:.1} ms",
            self.calls,
            mean(self.wall),
            ms(self.max_wall),
            mean(self.busy),
            ms(self.max_busy)
        )
    }

    /// The phases of the reconciles that planned.
    fn phases(&self) -> String {
        let computing: Vec<Duration> = self
            .snapshot
            .iter()
            .zip(&self.plan)
            .map(|(s, p)| *s + *p)
            .collect();
        format!(
            "{} planned: wall {}; computing (snapshot + plan, thread CPU) {} \
             [snapshot {}, plan {}]; writes (wall) {}",
            self.planned_wall.len(),
            spread(&self.planned_wall),
            spread(&computing),
            spread(&self.snapshot),
            spread(&self.plan),
            spread(&self.execute),
        )
    }
}

/// CPU time of the calling thread so far (Linux; zero elsewhere): on a shared machine, time
/// spent preempted is not the controller's computing.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Per-span state: when the span was created, when it was last entered, time spent entered.
struct SpanTiming {
    created: Instant,
    entered: Option<Instant>,
    busy: Duration,
    /// Thread CPU time when the span was last entered.
    entered_cpu: Duration,
    /// Phases of a reconcile span, added up from its children.
    snapshot: Duration,
    plan: Duration,
    execute: Option<Duration>,
}

impl SpanTiming {
    fn new() -> Self {
        Self {
            created: Instant::now(),
            entered: None,
            busy: Duration::ZERO,
            entered_cpu: Duration::ZERO,
            snapshot: Duration::ZERO,
            plan: Duration::ZERO,
            execute: None,
        }
    }
}

/// A tracing layer timing the `reconcile` span of the controller (one span per call) and its
/// phases (`snapshot`, `plan`, `execute`).
#[derive(Clone, Default)]
struct ReconcileTimer(Arc<Mutex<SpanStats>>);

impl ReconcileTimer {
    /// The figures since the last call, and starts counting afresh.
    fn take(&self) -> SpanStats {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

const RECONCILE_TARGET: &str = "eds_controller::reconcile";
const PHASES: [&str; 3] = ["snapshot", "plan", "execute"];
/// Phases without an await: timed by the CPU time of the thread that ran them.
const SYNC_PHASES: [&str; 2] = ["snapshot", "plan"];

impl<S> Layer<S> for ReconcileTimer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &span::Attributes<'_>,
        id: &span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = attrs.metadata();
        if meta.target() != RECONCILE_TARGET
            || (meta.name() != "reconcile" && !PHASES.contains(&meta.name()))
        {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanTiming::new());
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(t) = span.extensions_mut().get_mut::<SpanTiming>()
        {
            t.entered = Some(Instant::now());
            if SYNC_PHASES.contains(&span.name()) {
                t.entered_cpu = thread_cpu();
            }
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(t) = ext.get_mut::<SpanTiming>() else {
            return;
        };
        if let Some(entered) = t.entered.take() {
            t.busy += entered.elapsed();
        }
        let name = span.name();
        if !SYNC_PHASES.contains(&name) {
            return;
        }
        let cpu = thread_cpu().saturating_sub(t.entered_cpu);
        drop(ext);
        // The synchronous phases run on one thread between enter and exit.
        if let Some(parent) = span.parent()
            && let Some(p) = parent.extensions_mut().get_mut::<SpanTiming>()
        {
            match name {
                "snapshot" => p.snapshot += cpu,
                "plan" => p.plan += cpu,
                _ => {}
            }
        }
    }

    fn on_close(&self, id: span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(t) = span.extensions_mut().remove::<SpanTiming>() else {
            return;
        };
        let wall = t.created.elapsed();
        if span.name() == "execute" {
            if let Some(parent) = span.parent()
                && let Some(p) = parent.extensions_mut().get_mut::<SpanTiming>()
            {
                p.execute = Some(wall);
            }
            return;
        }
        if span.name() != "reconcile" {
            return;
        }
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.calls += 1;
        s.wall += wall;
        s.busy += t.busy;
        s.max_wall = s.max_wall.max(wall);
        s.max_busy = s.max_busy.max(t.busy);
        if let Some(execute) = t.execute {
            s.snapshot.push(t.snapshot);
            s.plan.push(t.plan);
            s.execute.push(execute);
            s.planned_wall.push(wall);
        }
    }
}

/// The reconcile-duration histogram and the counters of one `/metrics` scrape.
#[derive(Clone, Default)]
struct Scrape {
    count: u64,
    sum: f64,
    /// Cumulative bucket counts by upper bound, in the exposition order.
    buckets: Vec<(String, u64)>,
    errors: u64,
    created: u64,
    deleted: u64,
}

impl Scrape {
    fn parse(text: &str) -> Self {
        let mut s = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let value: f64 = value.parse().unwrap_or(0.0);
            if key == "eds_reconcile_duration_seconds_sum" {
                s.sum = value;
            } else if key == "eds_reconcile_duration_seconds_count" {
                s.count = value as u64;
            } else if let Some(le) = key
                .strip_prefix("eds_reconcile_duration_seconds_bucket{le=\"")
                .and_then(|r| r.strip_suffix("\"}"))
            {
                s.buckets.push((le.to_string(), value as u64));
            } else if key.starts_with("eds_reconcile_errors_total") {
                s.errors += value as u64;
            } else if key == "eds_pods_created_total" {
                s.created = value as u64;
            } else if key == "eds_pods_deleted_total" {
                s.deleted = value as u64;
            }
        }
        s
    }

    /// What was counted between `earlier` and this scrape.
    fn since(&self, earlier: &Self) -> Self {
        let before = |le: &str| {
            earlier
                .buckets
                .iter()
                .find(|(l, _)| l == le)
                .map_or(0, |(_, n)| *n)
        };
        Self {
            count: self.count - earlier.count,
            sum: self.sum - earlier.sum,
            buckets: self
                .buckets
                .iter()
                .map(|(le, n)| (le.clone(), n - before(le)))
                .collect(),
            errors: self.errors - earlier.errors,
            created: self.created - earlier.created,
            deleted: self.deleted - earlier.deleted,
        }
    }

    fn summary(&self) -> String {
        let mean_ms = self.sum / self.count.max(1) as f64 * 1000.0;
        // Per-bucket counts (the exposition's are cumulative), empty buckets left out.
        let mut previous = 0;
        let mut buckets = Vec::new();
        let mut lower = "0".to_string();
        for (le, n) in &self.buckets {
            if *n > previous {
                buckets.push(format!("{lower}-{le} s: {}", n - previous));
            }
            previous = *n;
            lower.clone_from(le);
        }
        format!(
            "{} reconciles, mean {mean_ms:.1} ms ({}); {} errors; {} pods created, {} deleted",
            self.count,
            buckets.join(", "),
            self.errors,
            self.created,
            self.deleted
        )
    }
}

async fn scrape(addr: SocketAddr) -> Result<Scrape, Box<dyn std::error::Error>> {
    let (code, body) = controller::http_get(addr, "/metrics").await?;
    if code != 200 {
        return Err(format!("/metrics answered {code}: {body}").into());
    }
    Ok(Scrape::parse(&body))
}

/// Where the figures of a phase come from.
struct Probes {
    /// With `--timeline`: the client of the pod watch timing each hop of the updates.
    timeline: Option<kube::Client>,
    metrics: SocketAddr,
    timer: ReconcileTimer,
    writes: Writes,
}

/// Runs one rollout phase: applies `image` and waits until it runs everywhere, then prints
/// the figures of the phase.
async fn phase(
    what: &str,
    api: &Api<ExtendedDaemonSet>,
    image: &str,
    nodes: usize,
    probes: &Probes,
    floor: Option<&latency::Floor>,
) -> Result<ExtendedDaemonSetStatus, Box<dyn std::error::Error>> {
    let Probes {
        timeline: timeline_client,
        metrics,
        timer,
        writes,
    } = probes;
    let metrics = *metrics;
    let (before, cpu) = (scrape(metrics).await?, Cpu::now());
    timer.take();
    writes.take();
    let selector = format!("{}={NAME}", keys::EDS_NAME_LABEL);
    let timeline = match timeline_client {
        Some(client) if floor.is_some() => {
            Some(timeline::Timeline::start(client, NAMESPACE, &selector).await)
        }
        _ => None,
    };
    let t = Instant::now();
    let canary = floor.is_some_and(|f| f.canary.is_some());
    let generation = rollout::apply(api, &rollout::eds(image, nodes, canary)).await?;
    let status = rollout::wait_complete(api, generation, nodes as i32, t).await?;
    let elapsed = t.elapsed();
    let (after, spans) = (scrape(metrics).await?, timer.take());
    println!(
        "{what}: {nodes}/{nodes} nodes run a Ready pod of {} in {:.2} s",
        status.active_replica_set,
        elapsed.as_secs_f64()
    );
    println!("  histogram: {}", after.since(&before).summary());
    println!("  reconcile spans: {}", spans.summary());
    println!("  reconciles that {}", spans.phases());
    println!("  process CPU: {}", Cpu::now().since(cpu).summary());
    let counts = writes.take();
    println!(
        "  controller API writes: {} = {:.2} per node",
        writes::summary(&counts),
        counts.values().sum::<u64>() as f64 / nodes as f64
    );
    if let Some(floor) = floor {
        println!(
            "  theoretical minimum {}; ratio {:.2}",
            floor.explain(),
            elapsed.as_secs_f64() / floor.total.as_secs_f64()
        );
        if let Some(timeline) = timeline {
            println!("{}", timeline.report());
        }
    }
    Ok(status)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000);
    let with_timeline = std::env::args().any(|a| a == "--timeline");
    let timer = ReconcileTimer::default();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::registry()
        .with(timer.clone())
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .init();
    let (cpu_start, started) = (Cpu::now(), Instant::now());

    // The simulated cluster, as `SimCluster::start` assembles it, without lease heartbeats.
    let server = SimApiServer::start(Config::default()).await?;
    let client = server.client()?;
    install_crds(&client, &eds_api::crds()).await?;
    let width = nodes.to_string().len();
    let config = KubeletConfig {
        nodes: (1..=nodes)
            .map(|i| FakeNode::new(format!("node-{i:0width$}")))
            .collect(),
        heartbeat_interval: Duration::ZERO,
        delete_nodes_on_stop: false,
        ..KubeletConfig::default().start_delay(START_DELAY)
    };
    let jitter = config.jitter;
    let kubelet = SimKubelet::start(server.local_client(), config).await?;
    println!(
        "nodes: {nodes} (pod start delay {:.1} s + up to {:.0}%); cluster up in {:.2} s",
        START_DELAY.as_secs_f64(),
        jitter * 100.0,
        started.elapsed().as_secs_f64()
    );

    let writes = Writes::default();
    let mut controller_config = kube::Config::new(server.url().parse()?);
    controller_config.default_namespace = NAMESPACE.into();
    let t = Instant::now();
    let controller =
        controller::start(writes.client(controller_config)?, "eds-scale", NAMESPACE).await?;
    let metrics = controller.metrics;
    println!(
        "controller caches synced in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), rollout::NAMESPACE);
    let probes = Probes {
        timeline: with_timeline.then(|| client.clone()),
        metrics,
        timer: timer.clone(),
        writes: writes.clone(),
    };
    let first = phase(
        "first deployment",
        &api,
        "registry.k8s.io/pause:3.0",
        nodes,
        &probes,
        None,
    )
    .await?;
    // 10% rounded up, as the controller scales percentages of maxUnavailable.
    let per_wave = nodes.div_ceil(10);
    let floor =
        latency::rolling_update_floor(nodes, per_wave, START_DELAY, jitter, rollout::GRACE, None);
    phase(
        "rolling update",
        &api,
        "registry.k8s.io/pause:3.1",
        nodes,
        &probes,
        Some(&floor),
    )
    .await?;
    // The canary takes 10% of the nodes, rounded up as the controller scales percentages.
    let canary_nodes = nodes.div_ceil(10);
    let floor = latency::rolling_update_floor(
        nodes,
        per_wave,
        START_DELAY,
        jitter,
        rollout::GRACE,
        Some((canary_nodes, rollout::CANARY_DURATION)),
    );
    let update = phase(
        "canary + rolling update",
        &api,
        "registry.k8s.io/pause:3.2",
        nodes,
        &probes,
        Some(&floor),
    )
    .await?;

    writes.take();
    tokio::time::sleep(QUIET).await;
    println!(
        "idle {:.0} s: controller API writes {}",
        QUIET.as_secs_f64(),
        writes::summary(&writes.take())
    );
    let late =
        latency::new_node_latency(&client, NAMESPACE, keys::EDS_NAME_LABEL, LATE_NODES, |k| {
            let prefix = format!("late-{k:02}");
            let created = server.create_nodes(&prefix, 1);
            async move {
                created?;
                Ok(format!("{prefix}-0001"))
            }
        })
        .await?;
    println!(
        "new node -> its pod created ({LATE_NODES} nodes, one at a time): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        late.p50.as_secs_f64() * 1000.0,
        late.p99.as_secs_f64() * 1000.0,
        late.max.as_secs_f64() * 1000.0
    );
    println!(
        "  controller API writes: {}",
        writes::summary(&writes.take())
    );

    // Cross-check the status against the pods themselves.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let list = pods
        .list(&ListParams::default().labels(&format!("{}={NAME}", keys::EDS_NAME_LABEL)))
        .await?;
    let of_new = list
        .items
        .iter()
        .filter(|p| p.labels().get(keys::ERS_NAME_LABEL) == Some(&update.active_replica_set))
        .count();
    println!(
        "pods at the end: {} ({of_new} of {}, revision before: {})",
        list.items.len(),
        update.active_replica_set,
        first.active_replica_set
    );

    let total = scrape(metrics).await?;
    println!("total histogram: {}", total.summary());
    println!(
        "total process CPU: {}",
        Cpu::now().since(cpu_start).summary()
    );
    println!("rss at end: {:.0} MiB", rss_mib());

    controller.stop().await;
    kubelet.stop().await?;
    server.stop().await;
    Ok(())
}
