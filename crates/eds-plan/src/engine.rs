//! One plan, as a pipeline whose stages only read what the stages before produced:
//!
//! 1. [`observe`]: the snapshot seen through the spec (placement, Settings, revisions, the
//!    per-node view) and the spec's validation errors;
//! 2. [`decide`]: the canary phase, then the rolling update within its budgets;
//! 3. [`objects`]: pods to create and delete, pod labels, ERSs;
//! 4. [`statuses`]: the ExtendedDaemonSet, ERS and Setting statuses;
//! 5. events: the status transitions, added to what the stages before reported;
//! 6. [`explain`]: when to plan again, and a line per node.
//!
//! An invalid spec stops after stage 1 ([`invalid`]).

mod decide;
mod explain;
mod intents;
mod invalid;
mod objects;
mod observe;
mod statuses;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::{
    EventType, Plan, Snapshot,
    cluster::{Cluster, Digested},
    events::Events,
    history::Revisions,
    migration::{self, Migration},
    settings::Settings,
    steering::Steering,
};
use eds_api::{constants::reason, defaults::Resolved};

/// What every stage reads about the ExtendedDaemonSet itself.
pub struct Ctx<'a> {
    /// The snapshot.
    pub s: &'a Snapshot,
    /// ExtendedDaemonSet name.
    pub name: &'a str,
    /// Its namespace.
    pub ns: &'a str,
    /// Its annotations (the canary rules compare theirs with the canary revision).
    pub annotations: &'a BTreeMap<String, String>,
    /// Its rollout-wide steering annotations.
    pub steering: Steering,
    /// The migration from the DaemonSet named by `old-daemonset`, when the snapshot says its
    /// state.
    pub migration: Option<Migration>,
    /// Its strategy with defaults.
    pub resolved: Resolved,
    /// Planning time.
    pub now: Timestamp,
    /// Planning time as stored in statuses (whole seconds).
    pub stamp: Time,
}

/// Stage 1's output: the snapshot as the spec sees it. Nothing here is a decision.
pub struct World<'a> {
    /// The ExtendedDaemonSet.
    pub ctx: Ctx<'a>,
    /// Settings matched per node (with their conflicts).
    pub settings: Settings<'a>,
    /// ERSs by revision, and the target revision.
    pub revisions: Revisions<'a>,
    /// Nodes and their pods.
    pub cluster: Cluster<'a>,
    /// Compiled `canary.nodeSelector`.
    pub canary_selector: Option<crate::placement::LabelMatcher>,
    /// The revision active before this plan.
    pub active_before: Option<usize>,
}

/// Plans one reconcile; `explain`: with the per-node explanations (`Plan::nodes`).
pub fn run(s: &Snapshot, now: Timestamp, explain: bool) -> Plan {
    let digested = Digested::of(s);
    let (world, errors) = observe::observe(s, &digested, now);
    if !errors.is_empty() {
        return invalid::plan(&world, errors.join("; "), explain);
    }
    let decision = decide::decide(&world);
    let mut events = Events::default();
    let objects = objects::build(&world, &decision, &mut events);
    let statuses = statuses::build(&world, &decision, &objects);
    let target = &world.revisions.revs[world.revisions.target];
    if target.ers.is_none() {
        events.about(
            &target.name,
            EventType::Normal,
            reason::CREATE_ERS,
            format!("{}/{}", world.ctx.ns, target.name),
        );
    }
    events.transitions(
        s.eds.status.as_ref(),
        &statuses.eds,
        decision.phase(),
        &target.name,
        world.ctx.annotations,
    );
    // The flags as the ERS active before this plan carried them: an older ERS keeps the value
    // it had when it stopped being active, and reading it would announce a change on every
    // plan.
    let flagged = world.active_before.unwrap_or(decision.active_after);
    events.steering(
        world.revisions.revs[flagged].ers.into_iter(),
        &world.revisions.revs[decision.active_after].name,
        world.ctx.steering.rolling_update_paused,
        world.ctx.steering.rollout_frozen,
    );
    migration::events(s.eds.status.as_ref(), &statuses.eds, &mut events);
    statuses::setting_events(&statuses.settings, &mut events);
    let requeue_after = explain::requeue(&world.ctx, &decision.deadlines());
    let decide::Decision {
        intents, rolling, ..
    } = decision;
    Plan {
        ers_applies: objects.ers_applies,
        ers_deletes: objects.ers_deletes,
        pod_creates: objects.pod_creates,
        pod_deletes: objects.pod_deletes,
        pod_label_updates: objects.pod_label_updates,
        eds_status_changed: s.eds.status.as_ref() != Some(&statuses.eds),
        eds_status: statuses.eds,
        ers_statuses: statuses.ers,
        setting_statuses: statuses.settings,
        events: events.list,
        requeue_after,
        current_revision: world
            .active_before
            .map(|a| world.revisions.revs[a].name.clone()),
        target_revision: target.name.clone(),
        budget: rolling.budget,
        state: rolling.state,
        nodes: if explain {
            explain::nodes(&world, &intents, rolling.decisions)
        } else {
            Vec::new()
        },
        steering: world.ctx.steering.clone(),
    }
}
