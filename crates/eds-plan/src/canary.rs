//! The canary phase: which nodes run the new revision first, and when the canary is promoted,
//! paused or failed.
//!
//! Kept from upstream: promotion when `canary-valid` names the canary ERS, or (auto mode) once
//! `duration` has passed since the canary started and `noRestartsDuration` since the last
//! restart of a canary pod; manual mode never promotes by itself. AutoFail: a canary pod
//! restarted more than `autoFail.maxRestarts` times (reason: the termination reason), kept
//! restarting for longer than `maxRestartsDuration` (`RestartsTimeoutExceeded`), or the canary is
//! older than `canaryTimeout` (`TimeoutExceeded`). AutoPause: a pod cannot start
//! (its waiting reason) or starts too slowly (`SlowStartTimeoutExceeded`), or restarted more
//! than `autoPause.maxRestarts` times (the termination reason); a pause sticks to the canary
//! ERS until `canary-unpaused` overrides it. `canary-paused` and `canary-failed` pause and fail
//! by hand.
//!
//! We differ on failure: the controller never writes the spec back. The failed revision is
//! recorded in `status.rejectedRevision`, the canary nodes get the active revision back, and
//! the hold lasts until the template changes (a new target revision).

mod health;
mod judge;
mod select;
mod steering;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{cluster::Cluster, history::Revisions};
use eds_api::{
    Condition, ExtendedDaemonSetStatus, RejectedRevision,
    condition::find,
    constants::{condition_type, keys, reason},
    defaults::{ResolvedCanary, scaled_value},
};

use judge::{canary_ended, judge_pods};
pub use select::{Selection, select_nodes};
pub use steering::CanarySteering;

/// Where the canary stands after this plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The canary runs on its nodes; the other nodes keep the active revision.
    Running,
    /// Promoted in this plan; the target revision becomes active.
    Promoted {
        /// `validated` or `duration elapsed`.
        by: &'static str,
    },
    /// Paused: canary nodes are held as they are (a canary node left with no pod gets its
    /// canary pod back), nothing is promoted.
    Paused {
        /// Upstream reason (waiting reason, termination reason, `SlowStartTimeoutExceeded`...).
        reason: String,
    },
    /// Failed: the active revision is restored on the canary nodes and kept.
    Failed {
        /// Upstream reason.
        reason: String,
        /// Details.
        message: String,
    },
}

/// The outcome of the canary rules.
pub struct CanaryOutcome {
    /// Phase after this plan.
    pub phase: Phase,
    /// Canary node indexes (while running or paused).
    pub nodes: Vec<usize>,
    /// When the canary started.
    pub start: Timestamp,
    /// Times at which the outcome may change.
    pub deadlines: Vec<Timestamp>,
    /// The `PodRestarting` condition of the canary ERS, when a canary pod restarted.
    pub restarting: Option<Condition>,
    /// `(reason, message)` of a canary pod that cannot start.
    pub cannot_start: Option<(String, String)>,
    /// The rejected revision to record (on failure).
    pub rejected: Option<RejectedRevision>,
    /// Why the canary is refused (its size cannot be met), naming the field.
    pub refused: Option<String>,
}

/// Inputs of [`decide`].
pub struct CanaryInputs<'a, 'b> {
    /// Resolved canary configuration.
    pub canary: &'b ResolvedCanary,
    /// Compiled `canary.nodeSelector`.
    pub node_selector: Option<&'b crate::placement::LabelMatcher>,
    /// Annotations of the ExtendedDaemonSet.
    pub annotations: &'b BTreeMap<String, String>,
    /// Stored status of the ExtendedDaemonSet.
    pub prev: Option<&'b ExtendedDaemonSetStatus>,
    /// Nodes and pods.
    pub cluster: &'b Cluster<'a>,
    /// Revisions.
    pub revisions: &'b Revisions<'a>,
    /// Planning time.
    pub now: Timestamp,
    /// Planning time as stored in statuses (whole seconds).
    pub stamp: &'b Time,
    /// Nodes that should run a pod (canary replicas scale against it).
    pub desired: i32,
    /// Steering annotations scoped to this canary.
    pub steering: &'b CanarySteering,
}

/// The failure hold: the target revision is the one whose canary failed (we differ from
/// upstream, which wrote the old template back into the spec). It holds whatever the canary
/// settings say now, until the template changes.
pub fn held(
    prev: Option<&ExtendedDaemonSetStatus>,
    revisions: &Revisions<'_>,
    now: Timestamp,
) -> Option<CanaryOutcome> {
    let target = &revisions.revs[revisions.target];
    let rejected = prev?.rejected_revision.as_ref()?;
    (rejected.template_hash == target.hash).then(|| CanaryOutcome {
        phase: Phase::Failed {
            reason: rejected
                .reason
                .clone()
                .unwrap_or_else(|| reason::UNKNOWN.into()),
            message: rejected.message.clone().unwrap_or_default(),
        },
        nodes: Vec::new(),
        start: now,
        deadlines: Vec::new(),
        restarting: None,
        cannot_start: None,
        rejected: Some(rejected.clone()),
        refused: None,
    })
}

/// Applies the canary rules while the target revision differs from the active one (and is not
/// held, see [`held`]). The judgement (rules and where we differ: the [module](self) notes),
/// first match wins: `canary-valid` naming the canary ERS promotes; a failure (autoFail, or
/// `canary-failed`) fails and records the rejected revision; a pause (autoPause,
/// `canary-paused`, or a pause already on the ERS, unless `canary-unpaused`) pauses; in auto
/// mode the end of `duration` and `noRestartsDuration` promotes, once every canary node runs an
/// available pod of the new revision; otherwise the canary keeps running.
pub fn decide(inp: &CanaryInputs<'_, '_>) -> CanaryOutcome {
    let target = &inp.revisions.revs[inp.revisions.target];
    let conditions: &[Condition] = target
        .ers
        .and_then(|e| e.status.as_ref())
        .map_or(&[], |s| &s.conditions);
    // The ERS of a template seen before (`rollout undo`) keeps the conditions of its earlier
    // canary: they count only once this canary has started (its `Canary` condition is True).
    let running = find(conditions, condition_type::CANARY).filter(|c| c.is_true());
    let conditions = if running.is_some() { conditions } else { &[] };
    let start = running
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or(inp.now, |t| t.0);
    let mut out = CanaryOutcome {
        phase: Phase::Running,
        nodes: Vec::new(),
        start,
        deadlines: Vec::new(),
        restarting: find(conditions, condition_type::POD_RESTARTING).cloned(),
        cannot_start: None,
        rejected: None,
        refused: None,
    };
    let previous = inp
        .prev
        .and_then(|p| p.canary.as_ref())
        .filter(|c| c.replica_set == target.name)
        .map_or(&[][..], |c| &c.nodes[..]);
    let count = scaled_value(&inp.canary.replicas, inp.desired, true).unwrap_or(1);
    let runs_canary = |i: usize| {
        inp.cluster.nodes[i]
            .live()
            .any(|p| p.rev == Some(inp.revisions.target))
    };
    let (nodes, candidates) = select_nodes(
        inp.cluster,
        &Selection {
            count: usize::try_from(count).unwrap_or(0),
            node_selector: inp.node_selector,
            anti_affinity_keys: &inp.canary.node_anti_affinity_keys,
            previous,
            runs_canary: &runs_canary,
        },
    );
    out.nodes = nodes;
    let wanted = usize::try_from(count).unwrap_or(0);
    if wanted > candidates && inp.desired > 0 {
        // Upstream refuses too ("unable to select enough node for canary"): a canary as
        // large as the fleet would replace every node at once, outside maxUnavailable.
        return refuse(out, wanted, candidates);
    }
    if out.nodes.is_empty() {
        // No node can take a canary pod (none runs the ExtendedDaemonSet, or every one is
        // tainted out of new pods). A canary on no node would be promoted by time, untested,
        // and its template would reach the nodes later without one.
        return refuse(out, wanted.max(1), candidates);
    }
    let verdict = judge_pods(inp, &mut out);
    let annotation = |key: &str| inp.annotations.get(key).map(String::as_str);
    let steers = |key: &str| inp.steering.applies(key, &target.name);
    let valid = steers(keys::CANARY_VALID_ANNOTATION);
    // Upstream's plugin fails a canary by writing this condition on the canary ERS.
    let failed_condition = find(conditions, condition_type::CANARY_FAILED)
        .filter(|c| c.is_true())
        .map(|c| {
            (
                c.reason.clone().unwrap_or_else(|| reason::MANUAL.into()),
                c.message.clone().unwrap_or_else(|| {
                    format!(
                        "canary {} failed by its Canary-Failed condition",
                        target.name
                    )
                }),
            )
        });
    let manual_fail = steers(keys::CANARY_FAILED_ANNOTATION).then(|| {
        (
            reason::MANUAL.to_string(),
            format!(
                "canary {} failed by the canary-failed annotation",
                target.name
            ),
        )
    });
    let failure = verdict.failure.or(failed_condition).or(manual_fail);
    let unpaused = steers(keys::CANARY_UNPAUSED_ANNOTATION);
    let sticky = find(conditions, condition_type::CANARY_PAUSED)
        .filter(|c| c.is_true())
        .map(|c| c.reason.clone().unwrap_or_else(|| reason::UNKNOWN.into()));
    let manual_pause = steers(keys::CANARY_PAUSED_ANNOTATION).then(|| {
        annotation(keys::CANARY_PAUSED_REASON_ANNOTATION)
            .unwrap_or(reason::UNKNOWN)
            .to_string()
    });
    let pause = (!unpaused)
        .then(|| verdict.pause.or(manual_pause).or(sticky))
        .flatten();
    // We differ from upstream, which promotes on time alone: a canary is promoted by time only
    // once every canary node runs an available pod of the new revision, so a canary whose pods
    // never start (and that auto-pause did not catch) is never rolled out everywhere.
    let all_available = out.nodes.iter().all(|&i| {
        inp.cluster.nodes[i]
            .live()
            .any(|p| p.rev == Some(inp.revisions.target) && p.facts.available)
    });
    let ended = canary_ended(inp.canary, &mut out, inp.now) && all_available;
    out.phase = if valid {
        Phase::Promoted { by: "validated" }
    } else if let Some((reason, message)) = failure {
        out.rejected = Some(RejectedRevision {
            replica_set: target.name.clone(),
            template_hash: target.hash.clone(),
            reason: Some(reason.clone()),
            message: Some(message.clone()),
            time: Some(inp.stamp.clone()),
        });
        Phase::Failed { reason, message }
    } else if let Some(reason) = pause {
        Phase::Paused { reason }
    } else if ended {
        Phase::Promoted {
            by: "duration elapsed",
        }
    } else {
        Phase::Running
    };
    if !matches!(out.phase, Phase::Running | Phase::Paused { .. }) {
        out.nodes.clear();
    }
    out
}

/// A canary asking for more nodes than it can use: held as paused on the nodes it could use
/// (nothing is replaced), until the spec or the nodes change; `canary-unpaused` does not lift it.
fn refuse(mut out: CanaryOutcome, wanted: usize, candidates: usize) -> CanaryOutcome {
    out.phase = Phase::Paused {
        reason: reason::NOT_ENOUGH_CANARY_NODES.into(),
    };
    out.refused = Some(format!(
        "spec.strategy.canary.replicas asks for {wanted} canary node(s) but only {candidates} \
         node(s) can run the canary; lower canary.replicas (or use a percentage) or widen \
         canary.nodeSelector"
    ));
    out
}
