//! The safety invariants every plan keeps, whatever the snapshot:
//!
//! 1. at most one pod created per node, only on a node of the snapshot;
//! 2. a pod is created on a node only if no pod of the ExtendedDaemonSet is left on it after
//!    the plan's deletions (terminating ones included), or beside one with `maxSurge`;
//! 3. outside canary nodes, the plan's deletions make at most the budget left
//!    (`budget.maxUnavailable` minus the nodes already unavailable) of available nodes
//!    unavailable;
//! 4. during a canary, the new revision is created only on the canary nodes;
//! 5. every deletion names a pod of the snapshot;
//! 6. the same snapshot with its lists in another order gives the same plan.

use std::collections::{BTreeMap, BTreeSet};

use eds_api::constants::keys;
use eds_plan::{
    Plan, Snapshot,
    testing::{canary_nodes, node_of},
};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;

/// Checks `plan`, made from `snapshot` at `now`; panics on a broken invariant.
pub fn check(snapshot: &Snapshot, now: Timestamp, plan: &Plan) {
    let nodes: BTreeSet<&str> = snapshot
        .nodes
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    let pods: BTreeSet<&str> = snapshot
        .pods
        .iter()
        .chain(&snapshot.old_daemonset_pods)
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    // 5.
    for d in &plan.pod_deletes {
        assert!(
            pods.contains(d.name.as_str()),
            "deletes unknown pod {}",
            d.name
        );
    }
    let deleted: BTreeSet<&str> = plan.pod_deletes.iter().map(|d| d.name.as_str()).collect();
    let before = by_node(
        snapshot
            .pods
            .iter()
            .chain(&snapshot.old_daemonset_pods)
            .map(|p| &**p),
    );
    let after = by_node(
        snapshot
            .pods
            .iter()
            .chain(&snapshot.old_daemonset_pods)
            .map(|p| &**p)
            .filter(|p| !deleted.contains(p.metadata.name.as_deref().unwrap_or_default())),
    );
    // 1 and 2.
    let mut created = BTreeSet::new();
    for pod in &plan.pod_creates {
        let node = node_of(pod).expect("a created pod is pinned to a node");
        assert!(
            nodes.contains(node.as_str()),
            "pod created on unknown node {node}"
        );
        assert!(created.insert(node.clone()), "two pods created on {node}");
        let live = after.get(&node).map_or(0, Vec::len);
        assert!(
            live == 0 || (live == 1 && plan.budget.max_surge > 0),
            "pod created on {node} beside {live} pod(s), maxSurge {}",
            plan.budget.max_surge
        );
    }
    // 3.
    let eligible: BTreeSet<&str> = plan
        .nodes
        .iter()
        .filter(|n| n.target_revision.is_some())
        .map(|n| &*n.node)
        .collect();
    let canary = canary_nodes(plan);
    let min_ready = snapshot.eds.spec.min_ready_seconds.unwrap_or(0);
    let is_available = |pods: Option<&Vec<&Pod>>| {
        pods.is_some_and(|v| v.iter().any(|p| available(p, now, min_ready)))
    };
    let unavailable = eligible
        .iter()
        .filter(|n| !is_available(before.get(**n)))
        .count() as i32;
    let newly: Vec<&&str> = eligible
        .iter()
        .filter(|n| !canary.contains(**n))
        .filter(|n| is_available(before.get(**n)) && !is_available(after.get(**n)))
        .collect();
    let left = (plan.budget.max_unavailable - unavailable).max(0);
    assert!(
        newly.len() as i32 <= left,
        "{newly:?} made unavailable, budget {} with {unavailable} already unavailable",
        plan.budget.max_unavailable
    );
    // 4.
    if !canary.is_empty() {
        for pod in &plan.pod_creates {
            let labels = pod.metadata.labels.as_ref().expect("pod labels");
            let node = node_of(pod).unwrap_or_default();
            if labels.get(keys::ERS_NAME_LABEL) == Some(&plan.target_revision) {
                assert!(
                    canary.contains(node.as_str()),
                    "new revision on {node} outside the canary"
                );
            }
        }
    }
    // 6.
    let mut reversed = snapshot.clone();
    reversed.pods.reverse();
    reversed.nodes.reverse();
    reversed.replica_sets.reverse();
    reversed.settings.reverse();
    reversed.old_daemonset_pods.reverse();
    assert!(
        plan == &eds_plan::plan(&reversed, now),
        "the plan depends on the order of the lists"
    );
}

fn by_node<'a>(pods: impl Iterator<Item = &'a Pod>) -> BTreeMap<String, Vec<&'a Pod>> {
    let mut map: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for pod in pods {
        if let Some(n) = node_of(pod) {
            map.entry(n).or_default().push(pod);
        }
    }
    map
}

/// Ready for `minReadySeconds`, running and not terminating.
fn available(pod: &Pod, now: Timestamp, min_ready: i32) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    !matches!(phase, Some("Failed" | "Succeeded"))
        && pod.metadata.deletion_timestamp.is_none()
        && ready.is_some_and(|c| {
            c.status == "True"
                && c.last_transition_time.as_ref().is_none_or(|t| {
                    t.0.checked_add(SignedDuration::from_secs(i64::from(min_ready)))
                        .is_ok_and(|t| t <= now)
                })
        })
}
