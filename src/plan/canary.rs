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
mod select;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::Selector;

use super::{cluster::Cluster, history::Revisions, observe::after};
use crate::api::{
    Condition, ExtendedDaemonSetStatus, RejectedRevision,
    condition::{TRUE, find},
    constants::{condition_type, keys, reason},
    defaults::{ResolvedCanary, scaled_value},
};

pub use select::{Selection, select_nodes};

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
    /// Paused: canary nodes are held as they are, nothing is promoted.
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
}

/// Inputs of [`decide`].
pub struct CanaryInputs<'a, 'b> {
    /// Resolved canary configuration.
    pub canary: &'b ResolvedCanary,
    /// Compiled `canary.nodeSelector`.
    pub node_selector: Option<&'b Selector>,
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
}

/// Applies the canary rules while the target revision differs from the active one.
pub fn decide(inp: &CanaryInputs<'_, '_>) -> CanaryOutcome {
    let target = &inp.revisions.revs[inp.revisions.target];
    let conditions: &[Condition] = target
        .ers
        .and_then(|e| e.status.as_ref())
        .map_or(&[], |s| &s.conditions);
    let start = find(conditions, condition_type::CANARY)
        .filter(|c| c.is_true())
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
    };
    if let Some(rejected) = inp.prev.and_then(|p| p.rejected_revision.as_ref())
        && rejected.template_hash == target.hash
    {
        out.phase = Phase::Failed {
            reason: rejected
                .reason
                .clone()
                .unwrap_or_else(|| reason::UNKNOWN.into()),
            message: rejected.message.clone().unwrap_or_default(),
        };
        out.rejected = Some(rejected.clone());
        return out;
    }
    let previous = inp
        .prev
        .and_then(|p| p.canary.as_ref())
        .filter(|c| c.replica_set == target.name)
        .map_or(&[][..], |c| &c.nodes[..]);
    let count = scaled_value(&inp.canary.replicas, inp.desired, true).unwrap_or(1);
    out.nodes = select_nodes(
        inp.cluster,
        &Selection {
            count: usize::try_from(count).unwrap_or(0),
            node_selector: inp.node_selector,
            anti_affinity_keys: &inp.canary.node_anti_affinity_keys,
            previous,
        },
    );
    let verdict = judge_pods(inp, &mut out);
    let annotation = |key: &str| inp.annotations.get(key).map(String::as_str);
    let valid = annotation(keys::CANARY_VALID_ANNOTATION) == Some(target.name.as_str());
    let manual_fail = matches!(annotation(keys::CANARY_FAILED_ANNOTATION), Some(v) if v == "true" || v == target.name);
    let failure = verdict.failure.or_else(|| {
        manual_fail.then(|| {
            (
                reason::MANUAL.to_string(),
                format!(
                    "canary {} failed by the canary-failed annotation",
                    target.name
                ),
            )
        })
    });
    let unpaused = annotation(keys::CANARY_UNPAUSED_ANNOTATION) == Some("true");
    let sticky = find(conditions, condition_type::CANARY_PAUSED)
        .filter(|c| c.is_true())
        .map(|c| c.reason.clone().unwrap_or_else(|| reason::UNKNOWN.into()));
    let manual_pause = (annotation(keys::CANARY_PAUSED_ANNOTATION) == Some("true")).then(|| {
        annotation(keys::CANARY_PAUSED_REASON_ANNOTATION)
            .unwrap_or(reason::UNKNOWN)
            .to_string()
    });
    let pause = (!unpaused)
        .then(|| verdict.pause.or(manual_pause).or(sticky))
        .flatten();
    let ended = canary_ended(inp.canary, &mut out, inp.now);
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

/// What the canary pods say.
struct Verdict {
    failure: Option<(String, String)>,
    pause: Option<String>,
}

fn judge_pods(inp: &CanaryInputs<'_, '_>, out: &mut CanaryOutcome) -> Verdict {
    let c = inp.canary;
    let target = inp.revisions.target;
    let mut verdict = Verdict {
        failure: None,
        pause: None,
    };
    let mut latest: Option<(Timestamp, String)> = None;
    for &i in &out.nodes {
        let node = &inp.cluster.nodes[i];
        for pod in node.live().filter(|p| p.rev == Some(target)) {
            let h = health::check(pod.pod, inp.now, c.auto_pause.max_slow_start_duration);
            out.deadlines.extend(h.judged_at);
            if let Some(at) = h.last_restart
                && latest.as_ref().is_none_or(|(t, _)| at > *t)
            {
                let msg = format!(
                    "Pod {} restarting with reason: {}",
                    pod.name, h.last_restart_reason
                );
                latest = Some((at, msg));
            }
            if let Some(why) = &h.cannot_start {
                out.cannot_start.get_or_insert_with(|| {
                    (
                        why.clone(),
                        format!("Pod {} cannot start with reason: {why}", pod.name),
                    )
                });
            }
            if c.auto_fail.enabled && h.restarts > c.auto_fail.max_restarts {
                verdict.failure.get_or_insert_with(|| {
                    let msg = format!(
                        "canary pod {} on {} restarted {} times (autoFail.maxRestarts {}), last reason: {}",
                        pod.name, node.name, h.restarts, c.auto_fail.max_restarts, h.restart_reason
                    );
                    (h.restart_reason.clone(), msg)
                });
            }
            if c.auto_pause.enabled {
                if let Some(why) = &h.cannot_start {
                    verdict.pause.get_or_insert_with(|| why.clone());
                } else if h.restarts > c.auto_pause.max_restarts {
                    verdict
                        .pause
                        .get_or_insert_with(|| h.restart_reason.clone());
                }
            }
        }
    }
    if let Some((at, message)) = latest {
        out.restarting = Some(restarting_condition(out.restarting.take(), at, message));
    }
    if c.auto_fail.enabled {
        if let (Some(limit), Some(cond)) = (c.auto_fail.max_restarts_duration, &out.restarting)
            && let (Some(first), Some(last)) = (&cond.last_transition_time, &cond.last_update_time)
            && last.0.duration_since(first.0) > super::observe::signed(limit.as_std())
        {
            verdict.failure.get_or_insert_with(|| {
                let msg = format!("canary pods kept restarting for longer than autoFail.maxRestartsDuration ({limit})");
                (reason::RESTARTS_TIMEOUT_EXCEEDED.to_string(), msg)
            });
        }
        if let Some(timeout) = c.auto_fail.canary_timeout {
            let at = after(out.start, timeout.as_std());
            if inp.now > at {
                verdict.failure.get_or_insert_with(|| {
                    let msg =
                        format!("canary not promoted within autoFail.canaryTimeout ({timeout})");
                    (reason::TIMEOUT_EXCEEDED.to_string(), msg)
                });
            } else {
                out.deadlines.push(at);
            }
        }
    }
    verdict
}

/// Upstream's `PodRestarting` condition: first seen restart as the transition time, latest
/// restart as the update time (both from pod data, so planning twice gives the same value).
fn restarting_condition(existing: Option<Condition>, at: Timestamp, message: String) -> Condition {
    let mut cond = existing
        .filter(|c| c.status == TRUE)
        .unwrap_or_else(|| Condition {
            last_transition_time: Some(Time(at)),
            ..Condition::new(condition_type::POD_RESTARTING, true, "", "")
        });
    if cond.last_update_time.as_ref().is_none_or(|t| t.0 < at) {
        cond.last_update_time = Some(Time(at));
        cond.message = Some(message);
    }
    cond.reason = None;
    cond
}

/// Auto mode: `duration` since the start and `noRestartsDuration` since the last restart.
fn canary_ended(c: &ResolvedCanary, out: &mut CanaryOutcome, now: Timestamp) -> bool {
    let (Some(duration), Some(no_restarts)) = (c.duration, c.no_restarts_duration) else {
        return false;
    };
    let mut end = after(out.start, duration.as_std());
    if let Some(last) = out
        .restarting
        .as_ref()
        .and_then(|r| r.last_update_time.as_ref())
    {
        end = end.max(after(last.0, no_restarts.as_std()));
    }
    if now >= end {
        return true;
    }
    out.deadlines.push(end);
    false
}
