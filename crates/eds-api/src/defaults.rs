//! Defaults applied in memory, the same as the CRD schema's.
//!
//! The API server applies the schema defaults to stored objects; objects read from a file
//! (`eds plan --state`) or written before the CRD had a default do not have them, so the planner
//! always works on a [`Resolved`] strategy and never writes defaults back into the spec.

use k8s_openapi::apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString};

use super::{Duration, ExtendedDaemonSetSpec, UpdateStrategyType, ValidationMode};

pub const RECONCILE_FREQUENCY: Duration = Duration::from_secs(10);
pub const MAX_UNAVAILABLE: i32 = 1;
pub const MAX_SURGE: i32 = 0;
pub const MAX_POD_SCHEDULER_FAILURE: i32 = 0;
pub const MAX_PARALLEL_POD_CREATION: i32 = 250;
pub const SLOW_START_INTERVAL: Duration = Duration::from_secs(60);
pub const SLOW_START_ADDITIVE_INCREASE: i32 = 1;
pub const REVISION_HISTORY_LIMIT: i32 = 10;
pub const MIN_READY_SECONDS: i32 = 0;
pub const CANARY_REPLICAS: i32 = 1;
pub const CANARY_DURATION: Duration = Duration::from_secs(600);
pub const CANARY_NO_RESTARTS_DURATION: Duration = Duration::from_secs(300);
pub const AUTO_PAUSE_MAX_RESTARTS: i32 = 2;
pub const AUTO_FAIL_MAX_RESTARTS: i32 = 5;

/// An ExtendedDaemonSet strategy with every default applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub type_: UpdateStrategyType,
    pub reconcile_frequency: Duration,
    pub max_unavailable: IntOrString,
    pub max_surge: IntOrString,
    pub max_pod_scheduler_failure: IntOrString,
    pub max_parallel_pod_creation: i32,
    pub slow_start_interval: Duration,
    pub slow_start_additive_increase: IntOrString,
    pub revision_history_limit: i32,
    pub min_ready_seconds: i32,
    pub canary: Option<ResolvedCanary>,
}

/// A canary configuration with every default applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedCanary {
    pub replicas: IntOrString,
    pub validation_mode: ValidationMode,
    /// `None` in manual mode (the duration does not apply).
    pub duration: Option<Duration>,
    /// `None` in manual mode.
    pub no_restarts_duration: Option<Duration>,
    pub node_selector: Option<LabelSelector>,
    pub node_anti_affinity_keys: Vec<String>,
    pub auto_pause: ResolvedAutoPause,
    pub auto_fail: ResolvedAutoFail,
}

/// Auto-pause settings with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedAutoPause {
    pub enabled: bool,
    pub max_restarts: i32,
    pub max_slow_start_duration: Option<Duration>,
}

/// Auto-fail settings with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedAutoFail {
    pub enabled: bool,
    pub max_restarts: i32,
    pub max_restarts_duration: Option<Duration>,
    pub canary_timeout: Option<Duration>,
}

impl ExtendedDaemonSetSpec {
    /// The strategy with defaults applied; `default_mode` is the controller's
    /// `EDS_VALIDATION_MODE`, used when the canary does not set `validationMode`.
    pub fn resolve(&self, default_mode: ValidationMode) -> Resolved {
        let strategy = &self.strategy;
        let ru = strategy.rolling_update.clone().unwrap_or_default();
        let canary = strategy.canary.as_ref().map(|c| {
            let mode = c.validation_mode.unwrap_or(default_mode);
            let auto = mode == ValidationMode::Auto;
            let pause = c.auto_pause.clone().unwrap_or_default();
            let fail = c.auto_fail.clone().unwrap_or_default();
            ResolvedCanary {
                replicas: c
                    .replicas
                    .clone()
                    .unwrap_or(IntOrString::Int(CANARY_REPLICAS)),
                validation_mode: mode,
                duration: auto.then(|| c.duration.unwrap_or(CANARY_DURATION)),
                no_restarts_duration: auto.then(|| {
                    c.no_restarts_duration
                        .unwrap_or(CANARY_NO_RESTARTS_DURATION)
                }),
                node_selector: c.node_selector.clone(),
                node_anti_affinity_keys: c.node_anti_affinity_keys.clone().unwrap_or_default(),
                auto_pause: ResolvedAutoPause {
                    enabled: pause.enabled.unwrap_or(true),
                    max_restarts: pause.max_restarts.unwrap_or(AUTO_PAUSE_MAX_RESTARTS),
                    max_slow_start_duration: pause.max_slow_start_duration,
                },
                auto_fail: ResolvedAutoFail {
                    enabled: fail.enabled.unwrap_or(true),
                    max_restarts: fail.max_restarts.unwrap_or(AUTO_FAIL_MAX_RESTARTS),
                    max_restarts_duration: fail.max_restarts_duration,
                    canary_timeout: fail.canary_timeout,
                },
            }
        });
        Resolved {
            type_: strategy.type_.unwrap_or_default(),
            reconcile_frequency: strategy.reconcile_frequency.unwrap_or(RECONCILE_FREQUENCY),
            max_unavailable: ru
                .max_unavailable
                .unwrap_or(IntOrString::Int(MAX_UNAVAILABLE)),
            max_surge: ru.max_surge.unwrap_or(IntOrString::Int(MAX_SURGE)),
            max_pod_scheduler_failure: ru
                .max_pod_scheduler_failure
                .unwrap_or(IntOrString::Int(MAX_POD_SCHEDULER_FAILURE)),
            max_parallel_pod_creation: ru
                .max_parallel_pod_creation
                .unwrap_or(MAX_PARALLEL_POD_CREATION),
            slow_start_interval: ru
                .slow_start_interval_duration
                .unwrap_or(SLOW_START_INTERVAL),
            slow_start_additive_increase: ru
                .slow_start_additive_increase
                .unwrap_or(IntOrString::Int(SLOW_START_ADDITIVE_INCREASE)),
            revision_history_limit: self
                .revision_history_limit
                .unwrap_or(REVISION_HISTORY_LIMIT),
            min_ready_seconds: self.min_ready_seconds.unwrap_or(MIN_READY_SECONDS),
            canary,
        }
    }
}

/// Why an IntOrString could not be scaled.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScaleError {
    /// The string form is not a percentage.
    #[error("{0:?} is neither an integer nor a percentage such as 25%")]
    NotAPercentage(String),
    /// The value is negative.
    #[error("{0:?} must not be negative")]
    Negative(String),
}

/// Scales an IntOrString against `total`: an integer as is, a percentage of `total` rounded up
/// or down (Kubernetes `GetScaledValueFromIntOrPercent`).
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, ScaleError> {
    match value {
        IntOrString::Int(n) if *n < 0 => Err(ScaleError::Negative(n.to_string())),
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let percent: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| ScaleError::NotAPercentage(s.clone()))?;
            if percent < 0 {
                return Err(ScaleError::Negative(s.clone()));
            }
            let product = percent * i64::from(total.max(0));
            let scaled = if round_up {
                (product + 99) / 100
            } else {
                product / 100
            };
            Ok(i32::try_from(scaled).unwrap_or(i32::MAX))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_percentages_like_kubernetes() {
        let p = |s: &str| IntOrString::String(s.into());
        assert_eq!(scaled_value(&p("10%"), 15, true), Ok(2));
        assert_eq!(scaled_value(&p("10%"), 15, false), Ok(1));
        assert_eq!(scaled_value(&p("100%"), 7, false), Ok(7));
        assert_eq!(scaled_value(&IntOrString::Int(3), 100, true), Ok(3));
        assert!(scaled_value(&p("ten"), 10, true).is_err());
        assert!(scaled_value(&IntOrString::Int(-1), 10, true).is_err());
    }
}
