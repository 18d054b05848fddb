//! The ExtendedDaemonSet of the scale examples, applied and waited for through the API.

use std::time::{Duration, Instant};

use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetStatus, condition::find, constants::condition_type,
};
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

pub const NAMESPACE: &str = "default";
pub const NAME: &str = "foo";
/// `terminationGracePeriodSeconds` of the pods: the simulated kubelet keeps a deleted pod
/// terminating that long.
pub const GRACE: Duration = Duration::from_secs(1);
/// How long one phase may take before the program gives up.
pub const PHASE_TIMEOUT: Duration = Duration::from_secs(600);

/// The canary of the canary + rolling update phase: 10% of the nodes, promoted automatically
/// `CANARY_DURATION` after it started.
pub const CANARY_REPLICAS: &str = "10%";
pub const CANARY_DURATION: Duration = Duration::from_secs(5);

/// The ExtendedDaemonSet: `foo` of the examples with a 10% rolling update (at most 10% of the
/// nodes unavailable and 10% starting a pod at once, slow start +10% a second), and with
/// `canary` a canary on 10% of the nodes, validated automatically after 5 s.
pub fn eds(image: &str, nodes: usize, canary: bool) -> ExtendedDaemonSet {
    eds_with(image, nodes, canary, "10%", None)
}

/// [`eds`] with `maxUnavailable` (a count or a percentage) and its pods restricted to the
/// nodes labelled `node_selector`; `maxParallelPodCreation` is `maxUnavailable` resolved on
/// `nodes` nodes.
pub fn eds_with(
    image: &str,
    nodes: usize,
    canary: bool,
    max_unavailable: &str,
    node_selector: Option<(&str, &str)>,
) -> ExtendedDaemonSet {
    let max_unavailable_value = match max_unavailable.parse::<u32>() {
        Ok(n) => json!(n),
        Err(_) => json!(max_unavailable),
    };
    let mut strategy = json!({"rollingUpdate": {
        "maxUnavailable": max_unavailable_value,
        "slowStartIntervalDuration": "1s",
        "slowStartAdditiveIncrease": "10%",
        // The default (250) would cap the creations below 10% past 2,500 nodes.
        "maxParallelPodCreation": scaled(max_unavailable, nodes).unwrap_or(1),
    }});
    if canary {
        strategy["canary"] = json!({
            "replicas": CANARY_REPLICAS,
            "duration": format!("{}s", CANARY_DURATION.as_secs()),
            "noRestartsDuration": "1s",
            "validationMode": "auto",
        });
    }
    serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSet",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "strategy": strategy,
            "template": pod_template(image, node_selector, &[]),
        },
    }))
    .expect("ExtendedDaemonSet")
}

/// The pod template of the examples' workloads: one `daemon` container running `image`,
/// tolerating every taint, with a grace period of [`GRACE`], labelled `labels` and restricted
/// to the nodes labelled `node_selector`.
pub fn pod_template(
    image: &str,
    node_selector: Option<(&str, &str)>,
    labels: &[(&str, &str)],
) -> serde_json::Value {
    let mut template = json!({"spec": {
        "containers": [{"name": "daemon", "image": image}],
        "tolerations": [{"operator": "Exists"}],
        "terminationGracePeriodSeconds": GRACE.as_secs(),
    }});
    if let Some((key, value)) = node_selector {
        template["spec"]["nodeSelector"] = json!({ key: value });
    }
    if !labels.is_empty() {
        let labels: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        template["metadata"] = json!({ "labels": labels });
    }
    template
}

/// `value` (a count, or a percentage rounded up as both controllers scale them) of `nodes`,
/// at least 1; `None` if it is neither.
pub fn scaled(value: &str, nodes: usize) -> Option<usize> {
    let n = match value.strip_suffix('%') {
        Some(percent) => {
            let p: usize = percent.parse().ok().filter(|p| *p <= 100)?;
            (nodes * p).div_ceil(100)
        }
        None => value.parse().ok()?,
    };
    Some(n.max(1))
}

/// Whether the status says the rollout of `generation` is complete on `nodes` nodes.
pub fn complete(status: &ExtendedDaemonSetStatus, generation: i64, nodes: i32) -> bool {
    let ready = find(&status.conditions, condition_type::READY).is_some_and(|c| c.is_true());
    status.observed_generation == Some(generation)
        && ready
        && status.desired == nodes
        && status.ready == nodes
        && status.up_to_date == nodes
}

/// Consecutive failed reads a polling loop shrugs off: on a real API server a pooled
/// connection closed as it is reused fails one request (`IncompleteMessage`), which ended a
/// 1,000-node `vs_daemonset` run.
pub const READ_RETRIES: u32 = 5;

/// `read`, tried again after 200 ms on failure, up to [`READ_RETRIES`] times in a row (each
/// failure printed to stderr).
pub async fn read_retrying<T, F, Fut>(what: &str, mut read: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut failures = 0;
    loop {
        match read().await {
            Ok(value) => return Ok(value),
            Err(e) if failures < READ_RETRIES => {
                failures += 1;
                eprintln!("{what}: {e}; retrying ({failures}/{READ_RETRIES})");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Polls the EDS status until the rollout of `generation` is complete, printing its counts
/// every 10 s; returns the final status.
pub async fn wait_complete(
    api: &Api<ExtendedDaemonSet>,
    generation: i64,
    nodes: i32,
    started: Instant,
) -> Result<ExtendedDaemonSetStatus, Box<dyn std::error::Error>> {
    let mut next_report = Duration::from_secs(10);
    loop {
        let status = read_retrying("reading the ExtendedDaemonSet", || api.get(NAME))
            .await?
            .status
            .unwrap_or_default();
        if complete(&status, generation, nodes) {
            return Ok(status);
        }
        let elapsed = started.elapsed();
        if elapsed >= next_report {
            println!(
                "  {:5.1} s: desired {}, current {}, ready {}, up-to-date {}, state {}",
                elapsed.as_secs_f64(),
                status.desired,
                status.current,
                status.ready,
                status.up_to_date,
                status.state.as_deref().unwrap_or("-")
            );
            next_report += Duration::from_secs(10);
        }
        if elapsed > PHASE_TIMEOUT {
            return Err(format!("rollout not complete after {PHASE_TIMEOUT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Applies `eds` as `kubectl apply --server-side` would; returns its new generation.
pub async fn apply(
    api: &Api<ExtendedDaemonSet>,
    eds: &ExtendedDaemonSet,
) -> Result<i64, Box<dyn std::error::Error>> {
    let applied = api
        .patch(
            NAME,
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(eds),
        )
        .await?;
    Ok(applied.metadata.generation.unwrap_or_default())
}
