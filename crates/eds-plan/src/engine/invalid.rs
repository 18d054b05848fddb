//! The plan of an invalid spec (one that passed the schema, or a cluster without the CEL
//! rules): a `Stalled` condition and a Warning event, counts kept up to date, and no action on
//! pods or ERSs.

use super::{World, explain};
use crate::{Budget, Condition, NodeAction, NodeExplanation, Plan, events::Events, status};
use eds_api::{
    ExtendedDaemonSetStatus,
    condition::set_condition,
    constants::{condition_type, reason},
};

/// Plans an ExtendedDaemonSet whose spec is invalid (`errors` joined into one message).
pub fn plan(w: &World<'_>, errors: String, explain: bool) -> Plan {
    let (ctx, revisions, cluster) = (&w.ctx, &w.revisions, &w.cluster);
    let active = w.active_before;
    let eds = &ctx.s.eds;
    let prev = eds.status.as_ref();
    let mut next: ExtendedDaemonSetStatus = prev.cloned().unwrap_or_default();
    let counts = status::counts(cluster, active.unwrap_or(revisions.target));
    next.desired = counts.desired;
    next.current = counts.current;
    next.ready = counts.ready;
    next.available = counts.available;
    next.up_to_date = counts.up_to_date;
    next.observed_generation = eds.metadata.generation;
    let message = format!("invalid spec, no pod is created or deleted: {errors}");
    let g = eds.metadata.generation;
    for (type_, holds) in [
        (condition_type::STALLED, true),
        (condition_type::READY, false),
        (condition_type::RECONCILING, false),
    ] {
        let c = Condition {
            observed_generation: g,
            ..Condition::new(type_, holds, reason::INVALID_SPEC, message.clone())
        };
        set_condition(&mut next.conditions, c, &ctx.stamp);
    }
    let mut events = Events::default();
    events.transitions(
        prev,
        &next,
        None,
        &revisions.revs[revisions.target].name,
        ctx.annotations,
    );
    let names = explain::RevisionNames::new(revisions, ctx.steering.old_daemonset.as_deref());
    let reason: std::sync::Arc<str> = "invalid spec: no pod action".into();
    let nodes = cluster
        .nodes
        .iter()
        .filter(|_| explain)
        .map(|node| NodeExplanation {
            node: node.node.shared_name().clone(),
            current_revision: node.live().next().map(|p| names.of(p)),
            target_revision: None,
            action: if node.runs() {
                NodeAction::Wait
            } else {
                NodeAction::Skip
            },
            wave: None,
            reason: reason.clone(),
        })
        .collect();
    Plan {
        ers_applies: Vec::new(),
        ers_deletes: Vec::new(),
        pod_creates: Vec::new(),
        pod_deletes: Vec::new(),
        pod_label_updates: Vec::new(),
        eds_status_changed: prev != Some(&next),
        eds_status: next,
        ers_statuses: Vec::new(),
        setting_statuses: Vec::new(),
        events: events.list,
        requeue_after: explain::requeue(ctx, &[]),
        nodes,
        current_revision: active.map(|a| revisions.revs[a].name.clone()),
        target_revision: revisions.revs[revisions.target].name.clone(),
        budget: Budget::default(),
        state: ctx.s.state.clone(),
        steering: ctx.steering.clone(),
    }
}
