//! The floor of a rolling update and the time from a new node to its pod, for the scale
//! examples.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api,
    runtime::{WatchStreamExt, watcher},
};

/// The shortest a rolling update can take with `maxUnavailable` `per_wave` nodes (10% in the
/// scale examples), `maxParallelPodCreation` as many and slow start by 10% per interval: every
/// node is replaced once, at most `per_wave` at a time, and a node is unavailable from the delete
/// of its old pod until its new pod is Ready. The old pod terminates until its
/// `deletionTimestamp`, which the API server stores in whole seconds: delete time + grace
/// period, truncated, so half a second less than the grace period on average (`grace`). The
/// new pod is Ready its start delay after it is bound (`start`: plus half the jitter on
/// average). With a canary, its nodes are replaced first and promoted
/// when both the canary duration has passed and its pods are Ready; the rolling update then
/// replaces the other nodes.
pub struct Floor {
    pub per_wave: usize,
    pub waves: usize,
    pub start: Duration,
    pub grace: Duration,
    /// Canary nodes and canary duration, with a canary.
    pub canary: Option<(usize, Duration)>,
    pub total: Duration,
}

impl Floor {
    /// The formula with its values.
    pub fn explain(&self) -> String {
        let wave = format!(
            "({:.1} s mean grace + {:.2} s mean pod start)",
            self.grace.as_secs_f64(),
            self.start.as_secs_f64()
        );
        let rolling = format!("{} waves of {} nodes x {wave}", self.waves, self.per_wave);
        match self.canary {
            None => format!("{rolling} = {:.2} s", self.total.as_secs_f64()),
            Some((nodes, duration)) => format!(
                "canary on {nodes} nodes: max({:.1} s duration, {wave}) + {rolling} of the \
                 other nodes = {:.2} s",
                duration.as_secs_f64(),
                self.total.as_secs_f64()
            ),
        }
    }
}

/// [`Floor`] of `nodes` nodes replaced `per_wave` at a time, with a pod start delay `start`
/// (+ up to `jitter` of it) and a grace period `grace`, with a canary on `canary.0` of them for
/// `canary.1`.
pub fn rolling_update_floor(
    nodes: usize,
    per_wave: usize,
    start: Duration,
    jitter: f64,
    grace: Duration,
    canary: Option<(usize, Duration)>,
) -> Floor {
    // deletionTimestamp in whole seconds: the pod goes at a uniform point of the last second.
    let grace = grace.saturating_sub(Duration::from_millis(500));
    let per_wave = per_wave.max(1);
    let start = start.mul_f64(1.0 + jitter / 2.0);
    let rolled = nodes - canary.map_or(0, |(c, _)| c.min(nodes));
    let waves = rolled.div_ceil(per_wave);
    let canary_time = canary.map_or(Duration::ZERO, |(_, d)| d.max(grace + start));
    Floor {
        per_wave,
        waves,
        start,
        grace,
        canary,
        total: canary_time + (grace + start) * waves as u32,
    }
}

/// Percentiles of the node -> pod times.
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Adds `count` Ready nodes one at a time (`add(k)` adds the `k`th and returns its name) and
/// times each from the call until a pod in `namespace` matching the label selector `labels`,
/// bound or pinned to it, is seen through a watch.
pub async fn new_node_latency<F, Fut>(
    client: &kube::Client,
    namespace: &str,
    labels: &str,
    count: usize,
    mut add: F,
) -> Result<Latency, Box<dyn std::error::Error>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<String, Box<dyn std::error::Error>>>,
{
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let config = watcher::Config::default().labels(labels);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
    let watch = tokio::spawn(async move {
        let mut synced = Some(synced_tx);
        let mut events = std::pin::pin!(watcher(api, config).default_backoff());
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::InitDone) => {
                    if let Some(s) = synced.take() {
                        let _ = s.send(());
                    }
                }
                Ok(watcher::Event::Apply(pod)) => {
                    if let Some(node) = node_of(&pod) {
                        let _ = tx.send((node, Instant::now()));
                    }
                }
                _ => {}
            }
        }
    });
    synced_rx.await?;
    let mut times = Vec::with_capacity(count);
    for k in 0..count {
        let t0 = Instant::now();
        let node = add(k).await?;
        loop {
            let seen = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .map_err(|_| format!("no pod on the new node {node} within 30 s"))?;
            let Some((on, at)) = seen else {
                return Err("pod watch ended".into());
            };
            if on == node {
                times.push(at - t0);
                break;
            }
        }
    }
    watch.abort();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    Ok(Latency {
        p50: at(0.5),
        p99: at(0.99),
        max: *times.last().ok_or("no node")?,
    })
}

/// The node a pod is bound to, or pinned to by a `metadata.name` node affinity.
fn node_of(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(node) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(node);
    }
    let required = spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?;
    required
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}
