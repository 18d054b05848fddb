//! What the demo prints: the seed README's `kubectl get eds`, `kubectl get ers` and
//! `kubectl get pod -l extendeddaemonset.datadoghq.com/name=foo` tables.

use std::fmt::Write as _;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::plugin::{
    get::{eds_table, ers_table},
    table::{Table, age},
};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, constants::keys};

/// The three tables, each under the command that prints it.
pub fn render(
    eds: &[ExtendedDaemonSet],
    ers: &[ExtendedDaemonSetReplicaSet],
    pods: &[Pod],
    eds_name: &str,
    now: Timestamp,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "$ kubectl get eds");
    out.push_str(&eds_table(eds, false, false, now));
    let _ = writeln!(out, "\n$ kubectl get ers");
    out.push_str(&ers_table(ers, false, false, now));
    let _ = writeln!(
        out,
        "\n$ kubectl get pod -l {}={eds_name}",
        keys::EDS_NAME_LABEL
    );
    out.push_str(&pod_table(pods, now));
    out
}

/// kubectl's pod table (NAME READY STATUS RESTARTS AGE) plus the node, sorted by name.
pub fn pod_table(pods: &[Pod], now: Timestamp) -> String {
    let mut pods: Vec<&Pod> = pods.iter().collect();
    pods.sort_by_key(|p| p.name_any());
    let mut table = Table::new(["Name", "Ready", "Status", "Restarts", "Age", "Node"]);
    for pod in pods {
        let statuses = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.clone())
            .unwrap_or_default();
        let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
        let ready = statuses.iter().filter(|c| c.ready).count();
        let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
        table.row([
            pod.name_any(),
            format!("{ready}/{total}"),
            pod_status(pod),
            restarts.to_string(),
            age(pod.metadata.creation_timestamp.as_ref(), now),
            pod.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_else(|| "<none>".into()),
        ]);
    }
    table.render()
}

/// The STATUS column as kubectl computes it: Terminating, a container's waiting or terminated
/// reason, else the phase.
fn pod_status(pod: &Pod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let status = pod.status.as_ref();
    let reason = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| {
            cs.iter().find_map(|c| {
                let state = c.state.as_ref()?;
                state
                    .waiting
                    .as_ref()
                    .and_then(|w| w.reason.clone())
                    .or_else(|| state.terminated.as_ref().and_then(|t| t.reason.clone()))
            })
        });
    reason
        .or_else(|| status.and_then(|s| s.phase.clone()))
        .unwrap_or_else(|| "Pending".into())
}
