//! In-memory execution of plans on a simulated clock: what `eds plan --full` shows and what the
//! convergence property test checks.
//!
//! Each step plans the snapshot, applies the plan to it ([`apply`]: pods created and bound to
//! their node at once, deletions immediate, ERS objects and every status stored), then advances
//! the clock: by one second after a step that changed something (the controller reacts to its
//! own writes), else to the next event (a pod becoming ready, the plan's requeue deadline, or
//! `tick`). A pod becomes ready `ready_after` its creation. The loop ends when a plan changes
//! nothing and no pod is starting, and the ExtendedDaemonSet is `Ready` (converged) or
//! `Stalled` (paused, failed, frozen, blocked), or after `max_steps` plans.

mod apply;

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::{NodeAction, Plan, Snapshot, observe::after, plan};
use eds_api::{
    condition::find,
    constants::{condition_type, reason},
};

pub use apply::{apply, mark_ready};

/// How the simulated cluster behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationOptions {
    /// Time between a pod's creation and its readiness.
    pub ready_after: Duration,
    /// Longest clock advance between two plans.
    pub tick: Duration,
    /// Most plans run before giving up.
    pub max_steps: usize,
}

impl Default for SimulationOptions {
    fn default() -> Self {
        Self {
            ready_after: Duration::from_secs(10),
            tick: Duration::from_secs(10),
            max_steps: 10_000,
        }
    }
}

/// What one plan changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wave {
    /// Step number (0 = first plan).
    pub step: usize,
    /// Simulated time of the plan.
    pub at: Timestamp,
    /// Simulated seconds since the start.
    pub elapsed_secs: u64,
    /// `(node, pod)` created.
    pub created: Vec<(String, String)>,
    /// `(node, pod)` deleted.
    pub deleted: Vec<(String, String)>,
    /// ERSs created or updated.
    pub ers_applied: Vec<String>,
    /// ERSs deleted.
    pub ers_deleted: Vec<String>,
    /// `status.state` after the plan.
    pub state: Option<String>,
    /// Nodes per action in this plan.
    pub actions: Vec<(NodeAction, usize)>,
}

/// `Reconciling` reasons of the pauses users ask for: the rollout waits on them.
const SUSPENDED: [&str; 3] = [
    reason::ROLLOUT_FROZEN,
    reason::ROLLING_UPDATE_PAUSED,
    reason::CANARY_PAUSED_BY_USER,
];

/// How a simulation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum End {
    /// Every node runs the current revision, available.
    Converged,
    /// The rollout cannot progress; the `Stalled` reason, or the `Reconciling` reason of a
    /// pause a user asked for (`RolloutFrozen`, `RollingUpdatePaused`, `CanaryPausedByUser`).
    Stalled(String),
    /// `max_steps` plans ran first.
    StepLimit,
}

/// The outcome of a simulation.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// Every step that changed pods or ERSs, in order.
    pub waves: Vec<Wave>,
    /// How it ended.
    pub end: End,
    /// Plans run.
    pub steps: usize,
    /// Simulated time at the end.
    pub finished_at: Timestamp,
    /// The cluster at the end.
    pub snapshot: Snapshot,
    /// The last plan.
    pub last_plan: Option<Plan>,
}

impl Simulation {
    /// Whether every node runs the current revision, available.
    pub fn converged(&self) -> bool {
        self.end == End::Converged
    }
}

/// Runs plans on `snapshot` from time `start` until it settles or `options.max_steps`.
pub fn simulate(
    mut snapshot: Snapshot,
    start: Timestamp,
    options: &SimulationOptions,
) -> Simulation {
    // Steps edit the pod list.
    snapshot.undigest_pods();
    let mut now = start;
    let mut waves = Vec::new();
    let mut last_plan = None;
    let mut end = End::StepLimit;
    let mut steps = 0;
    for step in 0..options.max_steps {
        steps = step + 1;
        mark_ready(&mut snapshot, now, options.ready_after);
        let plan = plan(&snapshot, now);
        let acted = !plan.pod_creates.is_empty()
            || !plan.pod_deletes.is_empty()
            || !plan.ers_applies.is_empty()
            || !plan.ers_deletes.is_empty();
        let changed = plan.has_changes();
        apply(&mut snapshot, &plan, now);
        if acted {
            waves.push(wave(step, start, now, &plan));
        }
        let starting = next_ready(&snapshot, options.ready_after);
        if !changed && starting.is_none() {
            let status = &plan.eds_status.conditions;
            let ready = find(status, condition_type::READY).is_some_and(|c| c.is_true());
            // A pause a user asked for is not a failure (`Reconciling`, not `Stalled`), but
            // the simulated rollout stops there all the same.
            let held = find(status, condition_type::RECONCILING).filter(|c| {
                c.is_true() && c.reason.as_deref().is_some_and(|r| SUSPENDED.contains(&r))
            });
            let stalled = find(status, condition_type::STALLED)
                .filter(|c| c.is_true())
                .or(held);
            if ready || stalled.is_some() {
                end = match stalled {
                    Some(c) if !ready => End::Stalled(c.reason.clone().unwrap_or_default()),
                    _ => End::Converged,
                };
                last_plan = Some(plan);
                break;
            }
        }
        now = if changed {
            after(now, Duration::from_secs(1))
        } else {
            let mut next = after(now, options.tick).min(after(now, plan.requeue_after));
            if let Some(ready) = starting {
                next = next.min(ready.max(after(now, Duration::from_secs(1))));
            }
            next
        };
        last_plan = Some(plan);
    }
    Simulation {
        waves,
        end,
        steps,
        finished_at: now,
        snapshot,
        last_plan,
    }
}

/// When the next starting pod becomes ready. A broken pod (crash loop, image that cannot be
/// pulled, failed) never does: waiting for it would run the simulation to its step limit
/// instead of ending it as stalled.
fn next_ready(snapshot: &Snapshot, ready_after: Duration) -> Option<Timestamp> {
    snapshot
        .pods
        .iter()
        .filter(|p| !apply::is_ready(p) && !apply::is_broken(p))
        .filter_map(|p| p.metadata.creation_timestamp.as_ref())
        .map(|t| after(t.0, ready_after))
        .min()
}

fn wave(step: usize, start: Timestamp, now: Timestamp, plan: &Plan) -> Wave {
    let pod_node = |p: &k8s_openapi::api::core::v1::Pod| {
        super::placement::pod_node(p)
            .unwrap_or_default()
            .to_string()
    };
    let mut actions: Vec<(NodeAction, usize)> = Vec::new();
    for n in &plan.nodes {
        match actions.iter_mut().find(|(a, _)| *a == n.action) {
            Some((_, count)) => *count += 1,
            None => actions.push((n.action, 1)),
        }
    }
    actions.sort();
    Wave {
        step,
        at: now,
        elapsed_secs: now.duration_since(start).as_secs().max(0) as u64,
        created: plan
            .pod_creates
            .iter()
            .map(|p| (pod_node(p), p.metadata.name.clone().unwrap_or_default()))
            .collect(),
        deleted: plan
            .pod_deletes
            .iter()
            .map(|d| (d.node.clone().unwrap_or_default(), d.name.clone()))
            .collect(),
        ers_applied: plan
            .ers_applies
            .iter()
            .map(|e| e.metadata.name.clone().unwrap_or_default())
            .collect(),
        ers_deleted: plan.ers_deletes.iter().map(|d| d.name.clone()).collect(),
        state: plan.eds_status.state.clone(),
        actions,
    }
}
