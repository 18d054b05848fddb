//! In-memory validation of an ExtendedDaemonSet spec.
//!
//! The CRD schema and its CEL rules reject these mistakes at admission; this check repeats them
//! for objects that bypassed admission (a cluster with an older CRD, `eds plan --state` files)
//! and adds the rules that depend on controller configuration (`EDS_VALIDATION_MODE`). The
//! planner turns any error into a `Stalled` condition and a Warning event, and takes no pod
//! action for that ExtendedDaemonSet.

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{ExtendedDaemonSetSpec, ValidationMode, defaults::scaled_value};

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, e.g. `spec.strategy.rollingUpdate.maxUnavailable`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// All errors of a spec, joined into one message for conditions and events.
pub fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The errors kube-apiserver would give for a pod with these container `resources` (at
/// `at`): the template is refused before any pod is deleted for it, instead of every pod
/// create failing.
fn resource_errors(
    resources: Option<&k8s_openapi::api::core::v1::ResourceRequirements>,
    at: &str,
) -> Vec<FieldError> {
    let Some(resources) = resources else {
        return Vec::new();
    };
    let Ok(value) = serde_json::to_value(resources) else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    for list in ["limits", "requests"] {
        if let Some(map) = value.get(list).and_then(serde_json::Value::as_object) {
            for (name, q) in map {
                if let Err(e) = resource_quantity::Quantity::from_json(q) {
                    errors.push(FieldError {
                        field: format!("{at}.{list}[{name}]"),
                        message: format!("{q}: {e}"),
                    });
                }
            }
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    let mut issues = Vec::new();
    resource_quantity::requirements::check(&value, at, &mut issues);
    issues
        .into_iter()
        .map(|i| FieldError {
            field: i.field,
            message: i.message,
        })
        .collect()
}

/// Validates `spec`; `default_mode` is the controller's `EDS_VALIDATION_MODE`.
pub fn validate_spec(
    spec: &ExtendedDaemonSetSpec,
    default_mode: ValidationMode,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let percent = |field: &str, value: &Option<IntOrString>, errs: &mut dyn FnMut(&str, String)| {
        if let Some(v) = value {
            match scaled_value(v, 100, false) {
                Err(e) => errs(
                    field,
                    format!("{e}; allowed: a non-negative integer or a percentage from 0% to 100%"),
                ),
                Ok(_) => {
                    if let IntOrString::String(s) = v
                        && s.trim_end_matches('%')
                            .parse::<i64>()
                            .is_ok_and(|p| p > 100)
                    {
                        errs(field, format!("{s:?} is above 100%"));
                    }
                }
            }
        }
    };
    if spec
        .template
        .spec
        .as_ref()
        .is_none_or(|s| s.containers.is_empty())
    {
        errors.push(FieldError {
            field: "spec.template.spec.containers".into(),
            message: "at least one container is required".into(),
        });
    }
    if let Some(pod) = &spec.template.spec {
        for (list, containers) in [
            (
                "initContainers",
                pod.init_containers.as_deref().unwrap_or_default(),
            ),
            ("containers", pod.containers.as_slice()),
        ] {
            for (i, c) in containers.iter().enumerate() {
                let at = format!("spec.template.spec.{list}[{i}].resources");
                errors.extend(resource_errors(c.resources.as_ref(), &at));
            }
        }
    }
    let mut err = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_string(),
            message,
        })
    };
    let ru = spec.strategy.rolling_update.clone().unwrap_or_default();
    percent(
        "spec.strategy.rollingUpdate.maxUnavailable",
        &ru.max_unavailable,
        &mut err,
    );
    percent(
        "spec.strategy.rollingUpdate.maxSurge",
        &ru.max_surge,
        &mut err,
    );
    percent(
        "spec.strategy.rollingUpdate.maxPodSchedulerFailure",
        &ru.max_pod_scheduler_failure,
        &mut err,
    );
    percent(
        "spec.strategy.rollingUpdate.slowStartAdditiveIncrease",
        &ru.slow_start_additive_increase,
        &mut err,
    );
    if let Some(n) = ru.max_parallel_pod_creation
        && n < 1
    {
        err(
            "spec.strategy.rollingUpdate.maxParallelPodCreation",
            format!("{n} must be at least 1"),
        );
    }
    let is_zero = |v: &Option<IntOrString>, default: i32| match v {
        None => default == 0,
        Some(IntOrString::Int(n)) => *n == 0,
        Some(IntOrString::String(s)) => s == "0%",
    };
    if is_zero(&ru.max_surge, 0) && is_zero(&ru.max_unavailable, 1) {
        err(
            "spec.strategy.rollingUpdate",
            "maxSurge and maxUnavailable cannot both be 0".into(),
        );
    }
    if let Some(n) = spec.revision_history_limit
        && n < 0
    {
        err(
            "spec.revisionHistoryLimit",
            format!("{n} must not be negative"),
        );
    }
    if let Some(n) = spec.min_ready_seconds
        && n < 0
    {
        err("spec.minReadySeconds", format!("{n} must not be negative"));
    }
    if let Some(canary) = &spec.strategy.canary {
        percent("spec.strategy.canary.replicas", &canary.replicas, &mut err);
        let mode = canary.validation_mode.unwrap_or(default_mode);
        if mode == ValidationMode::Manual {
            if canary.duration.is_some() {
                err(
                    "spec.strategy.canary.duration",
                    "must not be set when validationMode is manual".into(),
                );
            }
            if canary.no_restarts_duration.is_some() {
                err(
                    "spec.strategy.canary.noRestartsDuration",
                    "must not be set when validationMode is manual".into(),
                );
            }
        }
        let resolved = spec.resolve(default_mode);
        if let Some(c) = &resolved.canary {
            if c.auto_pause.max_restarts < 0 {
                err(
                    "spec.strategy.canary.autoPause.maxRestarts",
                    "must not be negative".into(),
                );
            }
            if c.auto_fail.max_restarts < 0 {
                err(
                    "spec.strategy.canary.autoFail.maxRestarts",
                    "must not be negative".into(),
                );
            }
            if c.auto_pause.enabled
                && c.auto_fail.enabled
                && c.auto_fail.max_restarts < c.auto_pause.max_restarts
            {
                err(
                    "spec.strategy.canary.autoFail.maxRestarts",
                    format!(
                        "{} must be greater than or equal to autoPause.maxRestarts ({}) when both are enabled",
                        c.auto_fail.max_restarts, c.auto_pause.max_restarts
                    ),
                );
            }
            if let (Some(timeout), Some(duration)) = (c.auto_fail.canary_timeout, c.duration)
                && timeout <= duration
            {
                err(
                    "spec.strategy.canary.autoFail.canaryTimeout",
                    format!("{timeout} must be longer than canary duration ({duration})"),
                );
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(resources: serde_json::Value) -> ExtendedDaemonSetSpec {
        serde_json::from_value(json!({
            "strategy": {},
            "template": { "spec": { "containers": [
                { "name": "c", "image": "i", "resources": resources },
            ] } },
        }))
        .expect("spec")
    }

    /// Resources kube-apiserver refuses on pods are refused in the template: no pod is deleted
    /// for a revision whose pods cannot be created.
    #[test]
    fn template_resources_the_api_server_refuses() {
        let at = "spec.template.spec.containers[0].resources";
        let errors = validate_spec(
            &spec(json!({ "limits": { "cpu": "500m" }, "requests": { "cpu": "1" } })),
            ValidationMode::Auto,
        );
        assert_eq!(
            summary(&errors),
            format!(
                "{at}.requests: Invalid value: \"1\": must be less than or equal to cpu limit of \
                 500m"
            )
        );
        let errors = validate_spec(
            &spec(json!({ "limits": { "memory": "lots" } })),
            ValidationMode::Auto,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, format!("{at}.limits[memory]"));
        assert!(
            errors[0]
                .message
                .contains("quantities must match the regular expression"),
            "{}",
            errors[0].message
        );
        let ok = spec(json!({ "limits": { "cpu": "1" }, "requests": { "cpu": "500m" } }));
        assert!(validate_spec(&ok, ValidationMode::Auto).is_empty());
    }
}
