//! What holds a rollout back, and whether a human must fix it.
//!
//! This is the status contract of `docs/status.md`. Tools read the kstatus conditions: kstatus
//! (Flux, `kubectl wait`, cli-utils) reports `Failed` for `Stalled=True` and `InProgress` for
//! `Reconciling=True`; our Argo CD health check reports `Degraded` and `Suspended` for the same
//! cases. So only a failure a human must fix is a [`Block::Stalled`]: a failed canary, a canary
//! auto-paused because its pods cannot start or keep restarting, a rollout blocked by nodes that
//! cannot run the pod, an invalid spec, a migration from a DaemonSet that is not being deleted.
//! A pause a user asked for (`canary pause`,
//! `pause-rolling-update`, `freeze-rollout`) is a [`Block::Suspended`]: the rollout waits and
//! nothing failed, as Argo CD shows a paused Rollout or a paused Kruise DaemonSet.

use std::collections::BTreeMap;

use crate::canary::Phase;
use eds_api::constants::{keys, reason};

/// Why the rollout does not progress now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// Condition reason.
    pub reason: &'static str,
    /// Condition message.
    pub message: String,
    /// Whether a user asked for it (a pause or a freeze): the rollout is suspended
    /// (`Reconciling=True`), not failed (`Stalled=True`).
    pub suspended: bool,
}

/// Inputs of [`blocker`].
pub struct BlockerInputs<'a> {
    /// Canary phase after this plan.
    pub phase: Option<&'a Phase>,
    /// Target ERS name.
    pub target: &'a str,
    /// Annotations of the ExtendedDaemonSet.
    pub annotations: &'a BTreeMap<String, String>,
    /// `rollout-frozen`.
    pub frozen: bool,
    /// `rolling-update-paused`.
    pub paused: bool,
    /// Why the rolling update cannot go on (nodes that cannot run the pod hold the budget).
    pub blocked: Option<String>,
    /// Why the old DaemonSet's pods cannot be replaced (it is not being deleted).
    pub legacy: Option<String>,
}

/// Whether the canary pause with `why` was asked for by a user (`canary-paused` names this
/// canary or is `"true"`, and the reason is the one the user gave), rather than decided by
/// auto-pause.
pub fn paused_by_user(annotations: &BTreeMap<String, String>, target: &str, why: &str) -> bool {
    let get = |k: &str| annotations.get(k).map(String::as_str);
    let asked =
        matches!(get(keys::CANARY_PAUSED_ANNOTATION), Some(v) if v == "true" || v == target);
    let given = get(keys::CANARY_PAUSED_REASON_ANNOTATION).unwrap_or(reason::UNKNOWN);
    asked && why == given
}

/// What holds the rollout back. Failures come first: a frozen rollout whose canary failed is
/// `Stalled`, since unfreezing alone would not fix it.
pub fn blocker(inp: &BlockerInputs<'_>) -> Option<Stall> {
    let target = inp.target;
    let stalled = |reason, message| {
        Some(Stall {
            reason,
            message,
            suspended: false,
        })
    };
    let suspended = |reason, message| {
        Some(Stall {
            reason,
            message,
            suspended: true,
        })
    };
    let user_pause = match inp.phase {
        Some(Phase::Failed {
            reason: why,
            message,
        }) => {
            return stalled(
                reason::CANARY_FAILED,
                format!(
                    "canary {target} failed ({why}): {message}; change the template to roll out again"
                ),
            );
        }
        Some(Phase::Paused { reason: why }) if !paused_by_user(inp.annotations, target, why) => {
            return stalled(
                reason::CANARY_PAUSED,
                format!("canary {target} paused ({why}); fix the pods or unpause the canary"),
            );
        }
        Some(Phase::Paused { reason: why }) => Some(why),
        _ => None,
    };
    // Unfreezing or unpausing would not fix it: the DaemonSet must be deleted.
    if let Some(l) = inp.legacy.clone() {
        return stalled(reason::OLD_DAEMONSET_LIVE, l);
    }
    if let Some(b) = inp.blocked.clone().filter(|_| !inp.frozen) {
        return stalled(reason::ROLLOUT_BLOCKED, b);
    }
    match user_pause {
        _ if inp.frozen => suspended(
            reason::ROLLOUT_FROZEN,
            "rollout-frozen annotation: no pod is created or deleted; unfreeze-rollout resumes"
                .into(),
        ),
        Some(why) => suspended(
            reason::CANARY_PAUSED_BY_USER,
            format!("canary {target} paused by a user ({why}); canary unpause resumes"),
        ),
        None if inp.paused => suspended(
            reason::ROLLING_UPDATE_PAUSED,
            "rolling-update-paused annotation: no pod is deleted; unpause-rolling-update resumes"
                .into(),
        ),
        None => None,
    }
}
