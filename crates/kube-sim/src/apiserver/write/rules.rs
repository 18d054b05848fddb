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
            // is not copied and the new one is moved. A field of `new` equal to the stored one
            // (all of them, for a patch of the status) is moved rather than copied from `old`.
            let mut given = match new {
                Value::Object(fields) => fields,
                _ => Map::new(),
            };
            let status = given.remove("status");
            let Some(fields) = old.as_object() else {
                return old.clone();
            };
            let mut merged: Map<String, Value> = fields
                .iter()
                .filter(|(k, _)| *k != "status")
                .map(|(k, v)| match given.remove(k) {
                    Some(same) if same == *v => (k.clone(), same),
                    _ => (k.clone(), v.clone()),
                })
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
/// without copying either object; metadata last, as a write mostly changes something else.
pub(super) fn unchanged(old: &Value, new: &Value) -> bool {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return old == new;
    };
    if o.len() != n.len() {
        return false;
    }
    let same = |k: &String, ov: &Value| match n.get(k) {
        Some(nv) if k == "metadata" => same_metadata(ov, nv),
        Some(nv) => ov == nv,
        None => false,
    };
    o.iter()
        .filter(|(k, _)| *k != "metadata")
        .all(|(k, v)| same(k, v))
        && o.get_key_value("metadata").is_none_or(|(k, v)| same(k, v))
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
    o.len() == n.len() && o.iter().zip(n).all(|(a, b)| same_but_time(a, b))
}

/// Whether two managedFields entries are equal but for their `time` (an entry that is not an
/// object counts as an empty one).
fn same_but_time(a: &Value, b: &Value) -> bool {
    let empty = Map::new();
    let a = a.as_object().unwrap_or(&empty);
    let b = b.as_object().unwrap_or(&empty);
    let untimed = |m: &Map<String, Value>| m.keys().filter(|k| *k != "time").count();
    untimed(a) == untimed(b)
        && a.iter()
            .filter(|(k, _)| *k != "time")
            .all(|(k, v)| b.get(k) == Some(v))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiserver::resources::{Registry, ResKey};

    fn pods(sub: Sub) -> Target {
        let registry = Registry::builtin();
        Target {
            info: registry.get(&ResKey::new("", "pods")).unwrap().clone(),
            version: "v1".into(),
            namespace: "default".into(),
            sub,
        }
    }

    fn pod(image: &str, phase: &str, time: &str) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "managedFields": [
                {"manager": "m", "operation": "Update", "time": time, "fieldsV1": {"f:spec": {}}}
            ]},
            "spec": {"containers": [{"name": "c", "image": image}]},
            "status": {"phase": phase},
        })
    }

    #[test]
    fn a_status_write_keeps_everything_but_the_status_of_the_stored_object() {
        let old = pod("a", "Pending", "t1");
        let scoped = scope_to_subresource(&pods(Sub::Status), &old, pod("b", "Running", "t2"));
        assert_eq!(scoped, pod("a", "Running", "t1"));
        let scoped = scope_to_subresource(&pods(Sub::Status), &old, pod("a", "Running", "t1"));
        assert_eq!(scoped, pod("a", "Running", "t1"));
        let mut without_status = pod("a", "Running", "t1");
        without_status.as_object_mut().unwrap().remove("status");
        let scoped = scope_to_subresource(&pods(Sub::Status), &old, without_status.clone());
        assert_eq!(
            scoped, without_status,
            "a status the write drops is dropped"
        );
    }

    #[test]
    fn only_managed_fields_times_make_no_change() {
        let old = pod("a", "Pending", "t1");
        assert!(unchanged(&old, &pod("a", "Pending", "t2")));
        assert!(!unchanged(&old, &pod("a", "Running", "t1")));
        assert!(!unchanged(&old, &pod("b", "Pending", "t1")));
        let mut other_fields = pod("a", "Pending", "t1");
        other_fields["metadata"]["managedFields"][0]["fieldsV1"] = json!({"f:status": {}});
        assert!(!unchanged(&old, &other_fields));
        let mut more_keys = pod("a", "Pending", "t2");
        more_keys["metadata"]["managedFields"][0]["subresource"] = json!("status");
        assert!(!unchanged(&old, &more_keys));
        let mut no_time = pod("a", "Pending", "t1");
        no_time["metadata"]["managedFields"][0]
            .as_object_mut()
            .unwrap()
            .remove("time");
        assert!(unchanged(&old, &no_time));
    }
}
