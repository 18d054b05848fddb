//! `labelSelector` and `fieldSelector` query parameters.
//!
//! Label selectors support every operator of the Kubernetes syntax (`=`, `==`, `!=`, `in`,
//! `notin`, exists, `!` not exists) and are matched with `kube::core::Selector`. Field
//! selectors support `metadata.name`, `metadata.namespace`, `spec.nodeName` and
//! `status.phase` with `=`, `==` and `!=`.

use std::collections::BTreeSet;

use kube::core::{Expression, Selector, SelectorExt};
use serde_json::Value;

use super::{error::ApiError, meta};

/// Parses a label selector string.
pub fn parse_labels(s: &str) -> Result<Selector, ApiError> {
    let mut exprs = Vec::new();
    for term in split_terms(s) {
        let term = term.trim();
        if term.is_empty() {
            continue;
        }
        exprs.push(parse_term(term).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unable to parse requirement: invalid label selector: \"{term}\""
            ))
        })?);
    }
    Ok(Selector::from_iter(exprs))
}

/// Splits on commas outside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_term(term: &str) -> Option<Expression> {
    if let Some(key) = term.strip_prefix('!') {
        return Some(Expression::DoesNotExist(valid_key(key.trim())?));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Some(Expression::NotEqual(valid_key(k.trim())?, v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Some(Expression::Equal(valid_key(k.trim())?, v.trim().into()));
    }
    for (op, negate) in [(" notin ", true), (" in ", false)] {
        if let Some((k, set)) = term.split_once(op) {
            let set = set.trim().strip_prefix('(')?.strip_suffix(')')?;
            let values: BTreeSet<String> = set
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            let key = valid_key(k.trim())?;
            return Some(if negate {
                Expression::NotIn(key, values)
            } else {
                Expression::In(key, values)
            });
        }
    }
    Some(Expression::Exists(valid_key(term)?))
}

fn valid_key(k: &str) -> Option<String> {
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| k.to_string())
}

/// One field selector requirement.
#[derive(Clone, Debug)]
pub struct FieldReq {
    path: String,
    value: String,
    negate: bool,
}

/// Fields of events that can be selected (core `v1` and `events.k8s.io/v1` names), besides
/// the metadata fields every resource has.
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingComponent",
    "reportingController",
    "type",
];

/// Parses a field selector string for `plural` (which fields exist depends on the resource,
/// as upstream: pods add `spec.nodeName` and `status.phase`, events their object fields).
pub fn parse_fields(s: &str, plural: &str) -> Result<Vec<FieldReq>, ApiError> {
    let mut out = Vec::new();
    for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (field, value, negate) = if let Some((f, v)) = term.split_once("!=") {
            (f, v, true)
        } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            (f, v, false)
        } else {
            return Err(ApiError::BadRequest(format!(
                "invalid selector: '{s}'; can't understand '{term}'"
            )));
        };
        let field = field.trim();
        let known = matches!(field, "metadata.name" | "metadata.namespace")
            || (plural == "pods" && matches!(field, "spec.nodeName" | "status.phase"))
            || (plural == "events" && EVENT_FIELDS.contains(&field));
        if !known {
            return Err(ApiError::BadRequest(format!(
                "field label not supported: {field}"
            )));
        }
        out.push(FieldReq {
            path: format!("/{}", field.replace('.', "/")),
            value: value.trim().to_string(),
            negate,
        });
    }
    Ok(out)
}

/// Label and field requirements of a list or watch.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Label selector.
    pub labels: Selector,
    /// Field selector.
    pub fields: Vec<FieldReq>,
}

impl Filter {
    /// Whether `obj` satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let fields_ok = self.fields.iter().all(|r| {
            let have = obj.pointer(&r.path).and_then(Value::as_str).unwrap_or("");
            (have == r.value) != r.negate
        });
        fields_ok && (self.labels.selects_all() || self.labels.matches(&meta::labels(obj)))
    }
}
