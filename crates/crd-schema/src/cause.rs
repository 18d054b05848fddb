//! Field causes: why one field of an object was rejected, worded as the Kubernetes API server
//! words it (`k8s.io/apimachinery/pkg/util/validation/field`), so clients print the messages
//! users already know.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Cause types (`metav1.CauseType`) used in [`FieldCause::reason`].
pub mod reason {
    /// The value is not valid (pattern, range, CEL rule...).
    pub const INVALID: &str = "FieldValueInvalid";
    /// A required field is missing.
    pub const REQUIRED: &str = "FieldValueRequired";
    /// The value is not one of the enumerated values.
    pub const NOT_SUPPORTED: &str = "FieldValueNotSupported";
    /// The value has the wrong JSON type.
    pub const TYPE_INVALID: &str = "FieldValueTypeInvalid";
    /// A string is longer than `maxLength`.
    pub const TOO_LONG: &str = "FieldValueTooLong";
    /// A list or map has more entries than allowed.
    pub const TOO_MANY: &str = "FieldValueTooMany";
    /// Two entries of a set or map list have the same key.
    pub const DUPLICATE: &str = "FieldValueDuplicate";
    /// The field must not be set.
    pub const FORBIDDEN: &str = "FieldValueForbidden";
}

/// One reason an object (or a schema) was rejected. Serializes like a `metav1.StatusCause`
/// (`field`, `message`, `reason`), so it can be put in a `Status` as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCause {
    /// Path of the field, e.g. `spec.strategy.rollingUpdate.maxUnavailable`; `<nil>` for the
    /// whole object, as the API server writes it.
    pub field: String,
    /// What is wrong, without the field, e.g. `Invalid value: "150%": ... should match ...`.
    pub message: String,
    /// Cause type, one of the [`reason`] constants.
    pub reason: String,
}

impl FieldCause {
    fn new(field: &str, reason: &str, message: String) -> Self {
        let field = if field.is_empty() { "<nil>" } else { field };
        Self {
            field: field.to_string(),
            message,
            reason: reason.to_string(),
        }
    }

    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        let message = with_detail(format!("Invalid value: {}", go_value(value)), detail);
        Self::new(field, reason::INVALID, message)
    }

    /// `Invalid value: <value>: <detail>` for a value of the wrong JSON type.
    pub fn type_invalid(field: &str, value: &Value, detail: &str) -> Self {
        let message = with_detail(format!("Invalid value: {}", go_value(value)), detail);
        Self::new(field, reason::TYPE_INVALID, message)
    }

    /// `Required value[: <detail>]`.
    pub fn required(field: &str, detail: &str) -> Self {
        let message = with_detail("Required value".to_string(), detail);
        Self::new(field, reason::REQUIRED, message)
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        let message = with_detail("Forbidden".to_string(), detail);
        Self::new(field, reason::FORBIDDEN, message)
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(field: &str, value: &Value, supported: &[String]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
        let message = format!(
            "Unsupported value: {}: supported values: {}",
            go_value(value),
            quoted.join(", ")
        );
        Self::new(field, reason::NOT_SUPPORTED, message)
    }

    /// `Too long: may not be more than <max> bytes`.
    pub fn too_long(field: &str, max: u64) -> Self {
        let message = format!("Too long: may not be more than {max} bytes");
        Self::new(field, reason::TOO_LONG, message)
    }

    /// `Too many: <actual>: must have at most <max> items`.
    pub fn too_many(field: &str, actual: usize, max: u64) -> Self {
        let message = format!("Too many: {actual}: must have at most {max} items");
        Self::new(field, reason::TOO_MANY, message)
    }

    /// `Duplicate value: <value>`.
    pub fn duplicate(field: &str, value: &Value) -> Self {
        let message = format!("Duplicate value: {}", go_value(value));
        Self::new(field, reason::DUPLICATE, message)
    }
}

impl fmt::Display for FieldCause {
    /// `<field>: <message>`, one entry of the API server's aggregated message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The message of the API server's `422 Invalid` status:
/// `ExtendedDaemonSet.datadoghq.com "foo" is invalid: [a: ..., b: ...]` (no brackets for a
/// single cause). `qualified_kind` is `<Kind>.<group>` (just `<Kind>` for the core group).
pub fn invalid_message(qualified_kind: &str, name: &str, causes: &[FieldCause]) -> String {
    let mut seen = Vec::<String>::new();
    for cause in causes {
        let text = cause.to_string();
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    let errors = match seen.len() {
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    };
    format!("{qualified_kind} {} is invalid: {errors}", go_quote(name))
}

fn with_detail(head: String, detail: &str) -> String {
    if detail.is_empty() {
        head
    } else {
        format!("{head}: {detail}")
    }
}

/// Formats a value as Go's `field.Error` does: strings quoted, numbers and booleans bare,
/// `null` as the quoted word (composite values as JSON, where Go would dump its own syntax).
pub(crate) fn go_value(value: &Value) -> String {
    match value {
        Value::Null => go_quote("null"),
        Value::String(s) => go_quote(s),
        other => other.to_string(),
    }
}

/// Quotes a string like Go's `%q` (JSON escaping agrees for the characters that occur in
/// field values).
pub(crate) fn go_quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Formats a schema bound (`minimum: 0.0`) as Go's `%v` prints a float64 (`0`, `1.5`).
pub(crate) fn go_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `parent.name`, or `name` at the root.
pub(crate) fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// `parent[index]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_match_the_api_server() {
        let c = FieldCause::invalid("spec.x", &json!("150%"), "spec.x in body should match 'y'");
        assert_eq!(
            c.to_string(),
            r#"spec.x: Invalid value: "150%": spec.x in body should match 'y'"#
        );
        assert_eq!(c.reason, reason::INVALID);
        let c = FieldCause::invalid("spec.n", &json!(-1), "too small");
        assert_eq!(c.message, "Invalid value: -1: too small");
        assert_eq!(
            FieldCause::required("spec.template", "").to_string(),
            "spec.template: Required value"
        );
        let c = FieldCause::not_supported("m", &json!("x"), &["auto".into(), "manual".into()]);
        assert_eq!(
            c.message,
            r#"Unsupported value: "x": supported values: "auto", "manual""#
        );
        assert_eq!(FieldCause::invalid("", &Value::Null, "d").field, "<nil>");
        assert_eq!(
            FieldCause::too_many("l", 3, 2).message,
            "Too many: 3: must have at most 2 items"
        );
    }

    #[test]
    fn aggregated_message() {
        let one = [FieldCause::required("spec.template", "")];
        assert_eq!(
            invalid_message("ExtendedDaemonSet.datadoghq.com", "foo", &one),
            r#"ExtendedDaemonSet.datadoghq.com "foo" is invalid: spec.template: Required value"#
        );
        let two = [one[0].clone(), FieldCause::required("spec.strategy", "")];
        assert!(
            invalid_message("K", "n", &two)
                .ends_with("[spec.template: Required value, spec.strategy: Required value]")
        );
    }

    #[test]
    fn numbers_print_like_go() {
        assert_eq!(go_number(0.0), "0");
        assert_eq!(go_number(1.5), "1.5");
        assert_eq!(go_number(-3.0), "-3");
    }
}
