//! The rules of one write, as pure functions of the old and new object.

use serde_json::{Map, Value};

use super::super::{
    core::{Sub, Target, WriteOpts},
    error::{ApiError, Cause},
    managed::Writer,
    resources::ResourceInfo,
};

pub(super) fn writer<'a>(
    t: &'a Target,
    o: &'a WriteOpts,
    api_version: &'a str,
    now: &'a str,
) -> Writer<'a> {
    Writer {
        manager: &o.manager,
        api_version,
        subresource: t.sub.name(),
        scope: t.scope(),
        now,
        lists: t.info.lists(&t.version),
    }
}

/// The main endpoint keeps the stored status; `/status` keeps everything but status.
pub(super) fn scope_to_subresource(t: &Target, old: &Value, new: Value) -> Value {
    match t.sub {
        Sub::Main if t.info.status_subresource => {
            let mut new = new;
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            new
        }
        Sub::Main | Sub::Binding => new,
        Sub::Status => {
            // Everything of `old` but its status, which `new` gives (or drops): the old status
            // is not copied and the new one is moved.
            let mut new = new;
            let status = new.as_object_mut().and_then(|m| m.remove("status"));
            let Some(fields) = old.as_object() else {
                return old.clone();
            };
            let mut merged: Map<String, Value> = fields
                .iter()
                .filter(|(k, _)| *k != "status")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Some(s) = status {
                merged.insert("status".to_string(), s);
            }
            // Labels and annotations may change through /status as upstream allows.
            Value::Object(merged)
        }
    }
}

/// Whether anything but metadata (and status, when it is a subresource) changed.
pub(super) fn spec_changed(info: &ResourceInfo, old: &Value, new: &Value) -> bool {
    let ignored = |k: &str| k == "metadata" || (info.status_subresource && k == "status");
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old != new;
    };
    let differs = |a: &Map<String, Value>, b: &Map<String, Value>| {
        a.iter()
            .filter(|(k, _)| !ignored(k))
            .any(|(k, v)| b.get(k) != Some(v))
    };
    differs(o, n) || differs(n, o)
}

/// Whether `new` equals `old` but for managedFields timestamps (a no-op write), compared
/// without copying either object.
pub(super) fn unchanged(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old == new;
    };
    if o.len() != n.len() {
        return false;
    }
    o.iter().all(|(k, ov)| match n.get(k) {
        Some(nv) if k == "metadata" => same_metadata(ov, nv),
        Some(nv) => ov == nv,
        None => false,
    })
}

fn same_metadata(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old == new;
    };
    if o.len() != n.len() {
        return false;
    }
    o.iter().all(|(k, ov)| match n.get(k) {
        Some(nv) if k == "managedFields" => same_entries(ov, nv),
        Some(nv) => ov == nv,
        None => false,
    })
}

fn same_entries(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_array(), new.as_array()) else {
        return old == new;
    };
    let without_time = |e: &Value| -> Map<String, Value> {
        let mut m = e.as_object().cloned().unwrap_or_default();
        m.remove("time");
        m
    };
    o.len() == n.len()
        && o.iter()
            .zip(n)
            .all(|(a, b)| without_time(a) == without_time(b))
}

pub(super) fn required(field: &str, message: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: format!("Required value: {message}"),
        field: field.into(),
    }
}

pub(super) fn invalid_name(t: &Target, name: &str) -> ApiError {
    ApiError::invalid(
        &t.info.kind,
        &t.info.group,
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower \
                 case alphanumeric characters, '-' or '.', and must start and end with an \
                 alphanumeric character"
            ),
            field: "metadata.name".into(),
        }],
    )
}
