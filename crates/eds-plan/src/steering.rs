//! The annotations users steer a rollout with, read in one place.
//!
//! The planner decides from them, and the controller reads them back from the [`Plan`] (for
//! its gauges) or from [`Steering::of`] (to know which DaemonSet's pods to list), so no two
//! parts of the program can read the same annotation two ways.
//!
//! [`Plan`]: crate::Plan

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use eds_api::{ExtendedDaemonSet, constants::keys};

/// The rollout-wide steering annotations of one ExtendedDaemonSet. The canary annotations
/// (`canary-valid`, `canary-paused`, `canary-failed`) are read by the canary rules, which
/// compare them with the canary revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Steering {
    /// `rolling-update-paused: "true"`: no deletion outside canary nodes.
    pub rolling_update_paused: bool,
    /// `rollout-frozen: "true"`: no pod is created or deleted.
    pub rollout_frozen: bool,
    /// `old-daemonset`: the DaemonSet whose pods this ExtendedDaemonSet replaces (migration).
    pub old_daemonset: Option<String>,
}

impl Steering {
    /// Reads the annotations of `eds`. Only the exact value `"true"` turns a switch on, as
    /// upstream does.
    pub fn of(eds: &ExtendedDaemonSet) -> Self {
        Self::from_meta(&eds.metadata)
    }

    /// Reads the annotations of an ExtendedDaemonSet's metadata.
    pub fn from_meta(meta: &ObjectMeta) -> Self {
        let annotations = meta.annotations.as_ref();
        let get = |key: &str| annotations.and_then(|a| a.get(key));
        let on = |key: &str| get(key).is_some_and(|v| v == "true");
        Self {
            rolling_update_paused: on(keys::ROLLING_UPDATE_PAUSED_ANNOTATION),
            rollout_frozen: on(keys::ROLLOUT_FROZEN_ANNOTATION),
            old_daemonset: get(keys::OLD_DAEMONSET_ANNOTATION)
                .filter(|name| !name.is_empty())
                .cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eds(annotations: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn only_the_exact_value_true_switches_on() {
        let s = Steering::from_meta(&eds(&[
            (keys::ROLLING_UPDATE_PAUSED_ANNOTATION, "True"),
            (keys::ROLLOUT_FROZEN_ANNOTATION, "true"),
            (keys::OLD_DAEMONSET_ANNOTATION, "agent"),
        ]));
        assert!(!s.rolling_update_paused);
        assert!(s.rollout_frozen);
        assert_eq!(s.old_daemonset.as_deref(), Some("agent"));
        assert_eq!(Steering::from_meta(&eds(&[])), Steering::default());
        let empty = Steering::from_meta(&eds(&[(keys::OLD_DAEMONSET_ANNOTATION, "")]));
        assert_eq!(
            empty.old_daemonset, None,
            "an empty name names no DaemonSet"
        );
    }
}
