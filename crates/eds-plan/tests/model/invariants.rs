//! The safety rules, checked after every plan of the state-machine test.

use std::collections::{BTreeMap, BTreeSet};

use eds_api::{
    Condition, ExtendedDaemonSetStatus,
    constants::{condition_type, keys, reason},
};
use eds_plan::{Plan, testing::node_of};
use k8s_openapi::api::core::v1::Pod;
use proptest::prelude::*;

use super::{Model, PAUSE_REASON, Tpl, restarts};

/// What the model knows before a plan, to judge it.
pub struct Before {
    active: String,
    /// The canary was paused or failed (whatever `status.state` shows, e.g. when frozen).
    stopped: bool,
    available: BTreeSet<String>,
    canary_nodes: BTreeSet<String>,
    canary_pods: BTreeSet<String>,
    /// Names of the live canary pods, by ERS.
    live_canary: BTreeMap<String, BTreeSet<String>>,
}

fn is_canary(p: &Pod) -> bool {
    p.metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.get(keys::CANARY_LABEL).is_some_and(|v| v == "true"))
}

fn ers_of(p: &Pod) -> String {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::ERS_NAME_LABEL).cloned())
        .unwrap_or_default()
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn before(m: &Model) -> Before {
    let status = m.sc.snapshot.eds.status.clone().unwrap_or_default();
    let pods = &m.sc.snapshot.pods;
    Before {
        active: status.active_replica_set.clone(),
        stopped: stopped(&status),
        available: pods
            .iter()
            .filter(|p| ready(p))
            .filter_map(|p| node_of(p))
            .collect(),
        canary_nodes: status
            .canary
            .map(|c| c.nodes.into_iter().collect())
            .unwrap_or_default(),
        canary_pods: pods
            .iter()
            .filter(|p| is_canary(p))
            .filter_map(|p| p.metadata.name.clone())
            .collect(),
        live_canary: pods
            .iter()
            .filter(|p| is_canary(p) && p.metadata.deletion_timestamp.is_none())
            .fold(BTreeMap::new(), |mut by_ers, p| {
                by_ers
                    .entry(ers_of(p))
                    .or_insert_with(BTreeSet::new)
                    .insert(p.metadata.name.clone().unwrap_or_default());
                by_ers
            }),
    }
}

/// The canary is paused or failed: its condition on the ExtendedDaemonSet, which holds
/// whatever `status.state` shows.
fn stopped(status: &ExtendedDaemonSetStatus) -> bool {
    condition(status, condition_type::CANARY_PAUSED).is_some()
        || condition(status, condition_type::CANARY_FAILED).is_some()
}

fn condition<'a>(status: &'a ExtendedDaemonSetStatus, type_: &str) -> Option<&'a Condition> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

pub struct Limits {
    pub max_unavailable: usize,
    pub canary: usize,
}

/// The safety rules, for one plan made from the state `b` describes.
pub fn check(m: &Model, b: &Before, plan: &Plan, lim: &Limits) -> Result<(), TestCaseError> {
    let status = &plan.eds_status;
    let target = &plan.target_revision;
    // The canary never exceeds its size.
    let canary_nodes: BTreeSet<String> = status
        .canary
        .as_ref()
        .map(|c| c.nodes.iter().cloned().collect())
        .unwrap_or_default();
    prop_assert!(canary_nodes.len() <= lim.canary, "canary {canary_nodes:?}");
    // Nor do its live pods, once the plan's writes are made (a canary node that keeps its pod
    // but takes no new one still runs the canary).
    if status.canary.is_some() {
        let mut live = b.live_canary.get(target).cloned().unwrap_or_default();
        for d in &plan.pod_deletes {
            live.remove(&d.name);
        }
        live.extend(
            plan.pod_creates
                .iter()
                .filter(|p| is_canary(p) && ers_of(p) == *target)
                .filter_map(|p| p.metadata.name.clone()),
        );
        prop_assert!(
            live.len() <= lim.canary,
            "{} live canary pods of {target} after the plan: {live:?} (canary replicas {})",
            live.len(),
            lim.canary
        );
    }
    // Unavailable nodes, outside canary nodes, within maxUnavailable.
    let runs: BTreeSet<&str> = plan
        .nodes
        .iter()
        .filter(|n| n.target_revision.is_some())
        .map(|n| &*n.node)
        .collect();
    let exempt = |n: &str| canary_nodes.contains(n) || b.canary_nodes.contains(n);
    let deleted_available: BTreeSet<String> = plan
        .pod_deletes
        .iter()
        .filter(|d| !b.canary_pods.contains(&d.name))
        .filter_map(|d| d.node.clone())
        .filter(|n| runs.contains(n.as_str()) && !exempt(n) && b.available.contains(n))
        .collect();
    let unavailable = runs
        .iter()
        .filter(|n| !exempt(n) && !b.available.contains(**n))
        .count();
    prop_assert!(
        deleted_available.is_empty()
            || unavailable + deleted_available.len() <= lim.max_unavailable,
        "deleted available pods on {deleted_available:?} with {unavailable} node(s) already \
         unavailable, maxUnavailable {}",
        lim.max_unavailable
    );
    // A paused or failed canary, or a template that cannot run, is never promoted without
    // canary-valid (or, for a pause, canary-unpaused).
    let promoted =
        !b.active.is_empty() && b.active != *target && status.active_replica_set == *target;
    if promoted && !m.app.validated {
        // An unpaused canary goes on, and may be promoted by time as soon as it is unpaused.
        prop_assert!(
            !b.stopped || m.app.unpaused,
            "a paused or failed canary was promoted"
        );
        prop_assert_eq!(m.app.tpl, Some(Tpl::Good), "a broken template was promoted");
    }
    // Manual outcomes only follow the matching command, given for this template.
    let failed_by_hand = status
        .rejected_revision
        .as_ref()
        .is_some_and(|r| r.replica_set == *target && r.reason.as_deref() == Some(reason::MANUAL));
    if failed_by_hand {
        prop_assert!(
            m.app.failed,
            "canary failed by a command given for another template"
        );
    }
    let paused_by_hand = condition(status, condition_type::CANARY_PAUSED)
        .is_some_and(|c| c.reason.as_deref() == Some(PAUSE_REASON));
    if paused_by_hand {
        prop_assert!(
            m.app.paused,
            "canary paused by a command given for another template"
        );
    }
    // Auto-pause and auto-fail are active for every new template: a canary pod that cannot
    // run stops the canary, unless this canary was unpaused or validated.
    let in_canary = status
        .canary
        .as_ref()
        .is_some_and(|c| c.replica_set == *target);
    let broken_canary_pod = m.sc.snapshot.pods.iter().any(|p| {
        p.metadata.deletion_timestamp.is_none()
            && b.canary_pods
                .contains(p.metadata.name.as_deref().unwrap_or_default())
            && p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(keys::ERS_NAME_LABEL))
                == Some(target)
            && restarts(p) > 2
    });
    if in_canary && broken_canary_pod && !m.app.unpaused && !m.app.validated {
        prop_assert!(
            stopped(status),
            "a canary pod restarted 3+ times and the canary goes on: {:?}",
            status.state
        );
    }
    if in_canary && matches!(m.app.tpl, Some(Tpl::Bad)) && !m.app.unpaused && !m.app.validated {
        let pulling = m.sc.snapshot.pods.iter().any(|p| {
            b.canary_pods
                .contains(p.metadata.name.as_deref().unwrap_or_default())
                && p.metadata.deletion_timestamp.is_none()
                && p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(keys::ERS_NAME_LABEL))
                    == Some(target)
                && p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some()
        });
        if pulling {
            prop_assert!(
                stopped(status),
                "a canary pod cannot pull its image and the canary goes on: {:?}",
                status.state
            );
        }
    }
    Ok(())
}

/// After the plan is applied: one pod per node, terminating ones included (maxSurge is 0),
/// and the spec as the user left it.
pub fn check_applied(m: &Model, spec_before: &serde_json::Value) -> Result<(), TestCaseError> {
    let mut per_node: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in &m.sc.snapshot.pods {
        if let Some(n) = node_of(p) {
            per_node
                .entry(n)
                .or_default()
                .push(p.metadata.name.as_deref().unwrap_or_default());
        }
    }
    for (n, pods) in &per_node {
        prop_assert!(pods.len() <= 1, "node {n} has pods {pods:?}");
    }
    let spec = serde_json::to_value(&m.sc.snapshot.eds.spec).unwrap();
    prop_assert_eq!(&spec, spec_before, "the spec was written");
    Ok(())
}
