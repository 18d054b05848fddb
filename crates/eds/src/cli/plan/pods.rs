//! The pod each node runs now, and the pod it runs once the rollout is done.
//!
//! The planner builds a pod only when its turn comes (and only once its ERS exists), so the
//! first plan of a new template creates few or no pods. To show every node's pod change up
//! front, the target pods come from a second, hypothetical plan: the same nodes, Settings and
//! ERSs (the planned ones included), no pods, no canary and no budget, so that the planner
//! builds the target pod of every node in one step. Pods the real plan creates now take
//! precedence (they carry the canary label where it applies).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::util::intstr::IntOrString};

use crate::render::pod_node;
use eds_api::{
    RollingUpdate, UpdateStrategyType,
    constants::keys::{
        CANARY_LABEL, ERS_NAME_LABEL, ROLLING_UPDATE_PAUSED_ANNOTATION, ROLLOUT_FROZEN_ANNOTATION,
    },
};
use eds_plan::{Plan, Snapshot};

/// Prefix of the uid given to ERSs the plan creates, in the hypothetical snapshot only.
const PLANNED_UID_PREFIX: &str = "planned-";

/// The pod on each node now: of the pods on a node, the one of the node's current revision,
/// else the first live one by name.
pub fn current(snapshot: &Snapshot, plan: &Plan) -> BTreeMap<String, Pod> {
    let revision: BTreeMap<&str, Option<&str>> = plan
        .nodes
        .iter()
        .map(|n| (&*n.node, n.current_revision.as_deref()))
        .collect();
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for pod in snapshot.pods.iter().chain(&snapshot.old_daemonset_pods) {
        if let Some(node) = pod_node(pod) {
            by_node.entry(node.to_string()).or_default().push(pod);
        }
    }
    by_node
        .into_iter()
        .filter_map(|(node, mut pods)| {
            pods.sort_by_key(|p| {
                (
                    p.metadata.deletion_timestamp.is_some(),
                    p.metadata.name.clone(),
                )
            });
            let wanted = revision.get(node.as_str()).copied().flatten();
            let of_revision = pods.iter().find(|p| {
                let labels = p.metadata.labels.as_ref();
                wanted.is_some()
                    && labels
                        .and_then(|l| l.get(ERS_NAME_LABEL))
                        .map(String::as_str)
                        == wanted
            });
            let pod = of_revision.or(pods.first())?;
            Some((node, (*pod).clone()))
        })
        .collect()
}

/// The pod each node runs once the rollout of `plan.target_revision` is done.
pub fn target(snapshot: &Snapshot, plan: &Plan, now: Timestamp) -> BTreeMap<String, Pod> {
    let mut what_if = snapshot.clone();
    for ers in &plan.ers_applies {
        let name = ers.metadata.name.as_deref();
        if what_if
            .replica_sets
            .iter()
            .any(|e| e.metadata.name.as_deref() == name)
        {
            continue;
        }
        let mut ers = ers.clone();
        if ers.metadata.uid.is_none() {
            ers.metadata.uid = name.map(|n| format!("{PLANNED_UID_PREFIX}{n}"));
        }
        what_if.replica_sets.push(ers);
    }
    what_if.pods.clear();
    what_if.old_daemonset_pods.clear();
    let eds = &mut what_if.eds;
    if let Some(annotations) = eds.metadata.annotations.as_mut() {
        annotations.remove(ROLLOUT_FROZEN_ANNOTATION);
        annotations.remove(ROLLING_UPDATE_PAUSED_ANNOTATION);
    }
    let strategy = &mut eds.spec.strategy;
    strategy.canary = None;
    strategy.type_ = Some(UpdateStrategyType::RollingUpdate);
    let all = IntOrString::String("100%".into());
    strategy.rolling_update = Some(RollingUpdate {
        max_unavailable: Some(all.clone()),
        max_surge: Some(IntOrString::Int(0)),
        max_pod_scheduler_failure: Some(IntOrString::Int(0)),
        max_parallel_pod_creation: Some(i32::MAX),
        slow_start_interval_duration: None,
        slow_start_additive_increase: Some(all),
    });
    let hypothetical = eds_plan::plan(&what_if, now);
    let mut out: BTreeMap<String, Pod> = BTreeMap::new();
    for pod in hypothetical.pod_creates.iter().chain(&plan.pod_creates) {
        if let Some(node) = pod_node(pod) {
            // The real plan's pods come last and win.
            out.insert(node.to_string(), pod.clone());
        }
    }
    // A node that stops running the ExtendedDaemonSet gets no pod.
    for n in plan.nodes.iter().filter(|n| n.target_revision.is_none()) {
        out.remove(&*n.node);
    }
    out
}

/// A node that keeps its pod of the target revision keeps that very pod: the pod the planner
/// would build for it may differ in what the controller does not update in place (an adopted
/// upstream pod's md5 `templatehash`), but nothing replaces it, so it shows no change.
pub fn keep_current(
    plan: &Plan,
    current: &BTreeMap<String, Pod>,
    target: &mut BTreeMap<String, Pod>,
) {
    for n in &plan.nodes {
        // Compared with the rollout's target, not this step's: during a canary the other
        // nodes keep the old revision for now and still change later.
        let kept = n.action == eds_plan::NodeAction::Keep
            && n.current_revision.as_deref() == Some(plan.target_revision.as_str());
        // A canary pod still loses its canary label at promotion: that shows.
        let canary = |p: &Pod| {
            p.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(CANARY_LABEL))
        };
        match current.get(&*n.node) {
            Some(pod) if kept && !canary(pod) => {
                target.insert(n.node.to_string(), pod.clone());
            }
            _ => {}
        }
    }
}

/// Names of the ERSs the plan applies that already exist with the same template (only their
/// metadata is updated, e.g. when an upstream ERS is adopted).
pub fn metadata_only_ers(snapshot: &Snapshot, plan: &Plan) -> Vec<String> {
    plan.ers_applies
        .iter()
        .filter(|applied| {
            snapshot.replica_sets.iter().any(|e| {
                e.metadata.name == applied.metadata.name && e.spec.template == applied.spec.template
            })
        })
        .filter_map(|e| e.metadata.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eds_plan::testing::eds;

    #[test]
    fn every_node_gets_a_target_pod_even_when_the_step_holds_them() {
        let mut sc = eds("foo").canary(1).fast_start(3).nodes(3);
        sc.converge();
        sc.set_image("app:v2");
        let plan = sc.plan();
        assert!(
            plan.pod_creates.is_empty(),
            "the first step only creates the ERS"
        );
        let current = current(&sc.snapshot, &plan);
        let target = target(&sc.snapshot, &plan, sc.now);
        assert_eq!(current.len(), 3);
        assert_eq!(target.len(), 3);
        for (node, pod) in &target {
            assert_eq!(pod_node(pod), Some(node.as_str()));
            let labels = pod.metadata.labels.as_ref().expect("labels");
            assert_eq!(labels.get(ERS_NAME_LABEL), Some(&plan.target_revision));
            assert!(
                !labels.contains_key(CANARY_LABEL),
                "target pods are past the canary"
            );
            let image = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers[0].image.as_deref());
            assert_eq!(image, Some("app:v2"));
        }
        // The hypothetical plan never leaks into the real snapshot.
        assert_eq!(sc.snapshot.pods.len(), 3);
    }
}
