//! Checks of strings and numbers: length, pattern, format, bounds.
//!
//! Each check applies only to values of its type, so an int-or-string field can carry both a
//! `pattern` (for its string form) and a `minimum` (for its integer form).

use serde_json::Value;

use super::super::{
    cause::{FieldCause, go_number},
    node::Node,
};
use super::at;

/// Validates a string, number or boolean.
pub(super) fn validate(node: &Node, value: &Value, path: &str, out: &mut Vec<FieldCause>) {
    match value {
        Value::String(s) => validate_string(node, s, value, path, out),
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                validate_number(node, f, value, path, out);
            }
        }
        _ => {}
    }
}

fn validate_string(node: &Node, s: &str, value: &Value, path: &str, out: &mut Vec<FieldCause>) {
    // Lengths count characters, as kube-openapi does (`utf8.RuneCountInString`).
    let chars = s.chars().count() as u64;
    if let Some(max) = node.max_length
        && chars > max
    {
        out.push(FieldCause::too_long(path, max));
    }
    if let Some(min) = node.min_length
        && chars < min
    {
        let detail = format!("{} should be at least {min} chars long", at(path));
        out.push(FieldCause::invalid(path, value, &detail));
    }
    if let Some((pattern, re)) = &node.pattern
        && !re.is_match(s)
    {
        let detail = format!("{} should match '{pattern}'", at(path));
        out.push(FieldCause::invalid(path, value, &detail));
    }
    let format_ok = match node.format.as_deref() {
        Some("date-time") => s.parse::<jiff::Timestamp>().is_ok(),
        Some("date") => s.parse::<jiff::civil::Date>().is_ok(),
        _ => true,
    };
    if !format_ok {
        let format = node.format.as_deref().unwrap_or_default();
        let detail = format!("{} must be of type {format}: {value}", at(path));
        out.push(FieldCause::type_invalid(path, value, &detail));
    }
}

fn validate_number(node: &Node, n: f64, value: &Value, path: &str, out: &mut Vec<FieldCause>) {
    if let Some(min) = node.minimum {
        let (bad, words) = if node.exclusive_minimum {
            (n <= min, "greater than")
        } else {
            (n < min, "greater than or equal to")
        };
        if bad {
            let detail = format!("{} should be {words} {}", at(path), go_number(min));
            out.push(FieldCause::invalid(path, value, &detail));
        }
    }
    if let Some(max) = node.maximum {
        let (bad, words) = if node.exclusive_maximum {
            (n >= max, "less than")
        } else {
            (n > max, "less than or equal to")
        };
        if bad {
            let detail = format!("{} should be {words} {}", at(path), go_number(max));
            out.push(FieldCause::invalid(path, value, &detail));
        }
    }
    if let Some(m) = node.multiple_of
        && m > 0.0
        && (n / m).fract() != 0.0
    {
        let detail = format!("{} should be a multiple of {}", at(path), go_number(m));
        out.push(FieldCause::invalid(path, value, &detail));
    }
    // The API server stores int32/int64 fields in Go integers: values out of range could not
    // round-trip, so they are rejected here (loosely: no check of the float formats).
    let range = match node.format.as_deref() {
        Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
        Some("int64") => Some((i64::MIN as f64, i64::MAX as f64)),
        _ => None,
    };
    if let Some((lo, hi)) = range
        && (n < lo || n > hi)
    {
        let format = node.format.as_deref().unwrap_or_default();
        let detail = format!("{} must be of type {format}", at(path));
        out.push(FieldCause::invalid(path, value, &detail));
    }
}
