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
/// of its old pod until its new pod is Ready, with no time lost in between (no watch, reconcile
/// or write latency).
///
/// The old pod terminates until its `deletionTimestamp`, which the API server stores in whole
/// seconds: delete time + grace period, truncated. The new pod is Ready its start delay after
/// it is bound (1 s + up to 20% in the examples). For the first wave, the delete lands at a
/// uniform point of a second: the old pods go `grace - 0.5 s` later on average. Every later
/// wave starts when a pod of the wave before turns Ready, a start delay after a whole second,
/// so its old pod goes at a whole second too: a wave after the first takes the grace period
/// plus the start delay rounded down to whole seconds (1 + 1 = 2 s here, not the 1.6 s that
/// mean grace + mean start would say). The last wave ends a mean start delay after its old
/// pods went. With a canary, its nodes are replaced first and promoted when both the canary
/// duration has passed and its pods are Ready; the rolling update then replaces the other
/// nodes, its first wave again at a uniform point of a second.
pub struct Floor {
    pub per_wave: usize,
    pub waves: usize,
    /// Mean start delay.
    pub start: Duration,
    /// Mean wait of the first wave for its whole-second deadline.
    pub first_grace: Duration,
    /// A wave after the first: grace + start delay rounded down to whole seconds (mean).
    pub wave: Duration,
    /// Canary nodes and canary duration, with a canary.
    pub canary: Option<(usize, Duration)>,
    pub total: Duration,
}

impl Floor {
    /// The formula with its values.
    pub fn explain(&self) -> String {
        let rolling = format!(
            "{} waves of {} nodes: {:.1} s first grace + {} x {:.1} s (grace + whole seconds of \
             pod start) + {:.2} s mean pod start",
            self.waves,
            self.per_wave,
            self.first_grace.as_secs_f64(),
            self.waves.saturating_sub(1),
            self.wave.as_secs_f64(),
            self.start.as_secs_f64()
        );
        match self.canary {
            None => format!("{rolling} = {:.2} s", self.total.as_secs_f64()),
            Some((nodes, duration)) => format!(
                "canary on {nodes} nodes: max({:.1} s duration, {:.2} s one wave) + {rolling} \
                 of the other nodes = {:.2} s",
                duration.as_secs_f64(),
                (self.first_grace + self.start).as_secs_f64(),
                self.total.as_secs_f64()
            ),
        }
    }
}

/// [`Floor`] of `nodes` nodes replaced `per_wave` at a time, with a pod start delay `start`
/// (+ up to `jitter` of it, uniform) and a grace period `grace` (whole seconds), with a canary
/// on `canary.0` of them for `canary.1`.
pub fn rolling_update_floor(
    nodes: usize,
    per_wave: usize,
    start: Duration,
    jitter: f64,
    grace: Duration,
    canary: Option<(usize, Duration)>,
) -> Floor {
    let per_wave = per_wave.max(1);
    let rolled = nodes - canary.map_or(0, |(c, _)| c.min(nodes));
    let waves = rolled.div_ceil(per_wave);
    let mean_start = start.mul_f64(1.0 + jitter / 2.0);
    let (first_grace, wave) = if grace.is_zero() {
        // No deadline: a pod deleted with no grace period goes at once.
        (Duration::ZERO, mean_start)
    } else {
        // Mean of the start delay rounded down to whole seconds, the delay uniform over
        // [start, start x (1 + jitter)].
        const STEPS: u32 = 1_000;
        let whole: f64 = (0..STEPS)
            .map(|i| {
                let d =
                    start.as_secs_f64() * (1.0 + jitter * (f64::from(i) + 0.5) / f64::from(STEPS));
                d.floor()
            })
            .sum::<f64>()
            / f64::from(STEPS);
        (
            grace.saturating_sub(Duration::from_millis(500)),
            grace + Duration::from_secs_f64(whole),
        )
    };
    let rolling = first_grace + wave * waves.saturating_sub(1) as u32 + mean_start;
    let canary_time = canary.map_or(Duration::ZERO, |(_, d)| d.max(first_grace + mean_start));
    Floor {
        per_wave,
        waves,
        start: mean_start,
        first_grace,
        wave,
        canary,
        total: canary_time + if waves == 0 { Duration::ZERO } else { rolling },
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
