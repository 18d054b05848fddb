//! Status conditions shared by the three kinds.
//!
//! The shape is upstream's (`type`, `status`, `lastTransitionTime`, `lastUpdateTime`, `reason`,
//! `message`) plus `observedGeneration` from the Kubernetes API conventions, so both the upstream
//! condition types and the kstatus ones (`Ready`, `Reconciling`, `Stalled`) fit.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One observation of an object's state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of the condition, e.g. `Ready`, `Stalled`, `Canary-Paused`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[schemars(extend("enum" = ["True", "False", "Unknown"]))]
    pub status: String,
    /// Last time the condition changed from one status to another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// Last time the condition was updated (upstream field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// One-word CamelCase reason for the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `metadata.generation` the condition was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// `status` value of a condition that holds.
pub const TRUE: &str = "True";
/// `status` value of a condition that does not hold.
pub const FALSE: &str = "False";

impl Condition {
    /// A condition without timestamps; see [`set_condition`] for how times are kept.
    pub fn new(type_: &str, holds: bool, reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: type_.to_string(),
            status: if holds { TRUE } else { FALSE }.to_string(),
            last_transition_time: None,
            last_update_time: None,
            reason: Some(reason.to_string()),
            message: Some(message.into()),
            observed_generation: None,
        }
    }

    /// Whether the condition's status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == TRUE
    }
}

/// Finds the condition of `type_` in `conditions`.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Merges `desired` into `conditions` the way the API conventions ask: the transition time
/// changes only when the status changes, the update time only when something else changed.
/// `now` is the time to stamp on a change, so the caller (not this function) reads the clock.
pub fn set_condition(conditions: &mut Vec<Condition>, mut desired: Condition, now: &Time) {
    match conditions.iter_mut().find(|c| c.type_ == desired.type_) {
        Some(existing) => {
            let status_changed = existing.status != desired.status;
            let changed = status_changed
                || existing.reason != desired.reason
                || existing.message != desired.message
                || existing.observed_generation != desired.observed_generation;
            desired.last_transition_time =
                if status_changed || existing.last_transition_time.is_none() {
                    Some(now.clone())
                } else {
                    existing.last_transition_time.clone()
                };
            desired.last_update_time = if changed || existing.last_update_time.is_none() {
                Some(now.clone())
            } else {
                existing.last_update_time.clone()
            };
            *existing = desired;
        }
        None => {
            desired.last_transition_time = Some(now.clone());
            desired.last_update_time = Some(now.clone());
            conditions.push(desired);
        }
    }
}
