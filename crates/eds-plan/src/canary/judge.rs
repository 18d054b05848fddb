//! Judging a canary: what its pods say (restarts, failures to start), its timeouts, and
//! whether its duration is over.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{CanaryInputs, CanaryOutcome, health};
use crate::observe::{after, signed};
use eds_api::{
    Condition,
    condition::TRUE,
    constants::{condition_type, reason},
    defaults::ResolvedCanary,
};

/// What the canary pods say.
pub struct Verdict {
    /// `(reason, message)` of a failure.
    pub failure: Option<(String, String)>,
    /// Reason of a pause.
    pub pause: Option<String>,
}

/// Rule (upstream autoFail and autoPause, see the [`crate::canary`] notes): a canary pod that
/// restarted more than `autoFail.maxRestarts` times, kept restarting for longer than
/// `maxRestartsDuration`, or a canary older than `canaryTimeout` fails it; a pod that cannot
/// start, starts too slowly, or restarted more than `autoPause.maxRestarts` times pauses it.
pub fn judge_pods(inp: &CanaryInputs<'_, '_>, out: &mut CanaryOutcome) -> Verdict {
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
            let h = health::check(
                pod.digest.pod(),
                inp.now,
                c.auto_pause.max_slow_start_duration,
            );
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
            && last.0.duration_since(first.0) > signed(limit.as_std())
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

/// Rule (upstream auto mode, see the [`crate::canary`] notes): the canary may be promoted once
/// `duration` has passed since it started and `noRestartsDuration` since the last restart of a
/// canary pod; manual mode (no duration) never ends by itself.
pub fn canary_ended(c: &ResolvedCanary, out: &mut CanaryOutcome, now: Timestamp) -> bool {
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
