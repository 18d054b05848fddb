//! Applying a plan to a snapshot in memory, as an ideal API server, scheduler and kubelet would.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{Pod, PodCondition, PodStatus},
    apimachinery::pkg::apis::meta::v1::Time,
};

use crate::{Plan, Snapshot, observe::after, placement::pod_node};

const READY: &str = "Ready";
const SCHEDULED: &str = "PodScheduled";

/// Applies every write of `plan` to `snapshot` at time `now`: pods created (bound to their
/// node, starting), deleted and relabelled; ERSs created, updated and deleted; all statuses
/// stored; the planner state kept.
pub fn apply(snapshot: &mut Snapshot, plan: &Plan, now: Timestamp) {
    snapshot.undigest_pods();
    for delete in &plan.pod_deletes {
        let gone = |p: &Pod| p.metadata.name.as_deref() == Some(delete.name.as_str());
        snapshot.pods.retain(|p| !gone(p));
        snapshot.old_daemonset_pods.retain(|p| !gone(p));
    }
    for update in &plan.pod_label_updates {
        let pod = snapshot
            .pods
            .iter_mut()
            .find(|p| p.metadata.name.as_deref() == Some(update.name.as_str()));
        if let Some(pod) = pod {
            let labels = Arc::make_mut(pod)
                .metadata
                .labels
                .get_or_insert_with(Default::default);
            for (key, value) in &update.labels {
                match value {
                    Some(v) => labels.insert(key.clone(), v.clone()),
                    None => labels.remove(key),
                };
            }
        }
    }
    for pod in &plan.pod_creates {
        let mut pod = pod.clone();
        let name = pod.metadata.name.clone().unwrap_or_default();
        if snapshot
            .pods
            .iter()
            .any(|p| p.metadata.name == pod.metadata.name)
        {
            continue;
        }
        pod.metadata.uid = Some(format!("uid-{name}"));
        pod.metadata.resource_version = Some("1".into());
        pod.metadata.creation_timestamp = Some(Time(now));
        let node = pod_node(&pod).map(str::to_string);
        if let Some(spec) = pod.spec.as_mut() {
            spec.node_name = node;
        }
        pod.status = Some(PodStatus {
            phase: Some("Pending".into()),
            start_time: Some(Time(now)),
            conditions: Some(vec![
                condition(SCHEDULED, true, now),
                condition(READY, false, now),
            ]),
            ..PodStatus::default()
        });
        snapshot.pods.push(Arc::new(pod));
    }
    for delete in &plan.ers_deletes {
        snapshot
            .replica_sets
            .retain(|e| e.metadata.name.as_deref() != Some(delete.name.as_str()));
    }
    for desired in &plan.ers_applies {
        let name = desired.metadata.name.clone();
        match snapshot
            .replica_sets
            .iter_mut()
            .find(|e| e.metadata.name == name)
        {
            Some(existing) => {
                let labels = existing
                    .metadata
                    .labels
                    .get_or_insert_with(Default::default);
                labels.extend(desired.metadata.labels.clone().unwrap_or_default());
                let annotations = existing
                    .metadata
                    .annotations
                    .get_or_insert_with(Default::default);
                annotations.extend(desired.metadata.annotations.clone().unwrap_or_default());
                existing.metadata.owner_references = desired.metadata.owner_references.clone();
                existing.spec = desired.spec.clone();
            }
            None => {
                let mut ers = desired.clone();
                ers.metadata.uid = Some(format!("uid-{}", name.unwrap_or_default()));
                ers.metadata.resource_version = Some("1".into());
                ers.metadata.creation_timestamp = Some(Time(now));
                snapshot.replica_sets.push(ers);
            }
        }
    }
    for (name, status) in &plan.ers_statuses {
        if let Some(ers) = snapshot
            .replica_sets
            .iter_mut()
            .find(|e| e.metadata.name.as_deref() == Some(name.as_str()))
        {
            ers.status = Some(status.clone());
        }
    }
    for (name, status) in &plan.setting_statuses {
        if let Some(setting) = snapshot
            .settings
            .iter_mut()
            .find(|s| s.metadata.name.as_deref() == Some(name.as_str()))
        {
            setting.status = Some(status.clone());
        }
    }
    snapshot.eds.status = Some(plan.eds_status.clone());
    snapshot.state = plan.state.clone();
}

fn condition(type_: &str, holds: bool, at: Timestamp) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if holds { "True" } else { "False" }.into(),
        last_transition_time: Some(Time(at)),
        ..PodCondition::default()
    }
}

/// Whether a pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == READY && c.status == "True"))
}

/// Marks ready every starting pod created at least `ready_after` before `now`, except pods a
/// scenario made fail (phase Failed, or a container waiting with a reason).
pub fn mark_ready(snapshot: &mut Snapshot, now: Timestamp, ready_after: Duration) {
    snapshot.undigest_pods();
    for pod in &mut snapshot.pods {
        let pod = Arc::make_mut(pod);
        let Some(created) = pod.metadata.creation_timestamp.as_ref().map(|t| t.0) else {
            continue;
        };
        let at = after(created, ready_after);
        if is_ready(pod) || at > now || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if is_broken(pod) {
            continue;
        }
        let status = pod.status.get_or_insert_with(PodStatus::default);
        status.phase = Some("Running".into());
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        conditions.retain(|c| c.type_ != READY);
        conditions.push(condition(READY, true, at));
    }
}

/// Whether a scenario made the pod fail (phase Failed, or a container waiting with a reason):
/// it never becomes ready by itself.
pub fn is_broken(pod: &Pod) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    status.phase.as_deref() == Some("Failed")
        || status
            .container_statuses
            .iter()
            .flatten()
            .any(|c| c.state.as_ref().is_some_and(|s| s.waiting.is_some()))
}
