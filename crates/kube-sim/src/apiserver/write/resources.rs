//! Container `resources` of pods, checked as kube-apiserver does (the rules are in
//! [`resource_quantity::requirements`], shared with the planner): a quantity that does not
//! decode is a 400 `BadRequest` (`Pod in version "v1" cannot be handled as a Pod: quantities
//! must match the regular expression ...`), anything else a 422 cause on the field.

use resource_quantity::requirements;
use serde_json::Value;

use super::super::error::{ApiError, Cause};

/// The decoding error of the first quantity of `resources` outside the grammar.
pub fn decode(resources: &Value) -> Result<(), &'static str> {
    requirements::decode(resources)
}

/// The 422 causes of one container's `resources` at `at` (`spec.containers[0].resources`).
pub fn causes(resources: &Value, at: &str, causes: &mut Vec<Cause>) {
    let mut issues = Vec::new();
    requirements::check(resources, at, &mut issues);
    causes.extend(issues.into_iter().map(|i| Cause {
        reason: i.reason.into(),
        message: i.message,
        field: i.field,
    }));
}

/// The decoding error of a pod whose resources hold a value outside the quantity grammar.
pub fn decoding_error(kind: &str, version: &str, message: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: {message}"
    ))
}
