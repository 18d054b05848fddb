//! Events are one resource served by two APIs: an event written through `events.k8s.io/v1`
//! (what kube-rs's `Recorder` does) is readable through core `v1` (what `kubectl get events`
//! and many tests read), and the other way round, as on a real server.
//!
//! The simulator keeps a converted copy in the other API's store, written and removed with
//! the original (same name and uid, its own resourceVersion).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{
    core::Core,
    error::{ApiError, Cause},
    meta,
    resources::ResKey,
};

const EVENTS_GROUP: &str = "events.k8s.io";

/// The most bytes an event's message (`note` in `events.k8s.io`) may have.
pub const MESSAGE_LIMIT: usize = 1024;

/// The real server's validation of an event's message length, through either API: `Event
/// "x" is invalid: message: Invalid value: "": can have at most 1024 characters` (the internal
/// kind is the core one, so the error names neither the group nor `note`).
pub fn validate(res: &ResKey, obj: &Value) -> Result<(), ApiError> {
    let field = match (res.group.as_str(), res.plural.as_str()) {
        ("", "events") => "message",
        (EVENTS_GROUP, "events") => "note",
        _ => return Ok(()),
    };
    let too_long = obj
        .get(field)
        .and_then(Value::as_str)
        .is_some_and(|m| m.len() > MESSAGE_LIMIT);
    if !too_long {
        return Ok(());
    }
    Err(ApiError::invalid(
        "Event",
        "",
        meta::name(obj),
        vec![Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Invalid value: \"\": can have at most {MESSAGE_LIMIT} characters"),
            field: "message".into(),
        }],
    ))
}

/// Fields renamed between core/v1 and events.k8s.io/v1 (core name, events.k8s.io name).
const RENAMED: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// Fields with the same name in both versions.
const SHARED: &[&str] = &[
    "reason",
    "type",
    "action",
    "related",
    "eventTime",
    "series",
    "reportingInstance",
];

/// The store of the other API of an events resource.
fn mirror_of(res: &ResKey) -> Option<ResKey> {
    match (res.group.as_str(), res.plural.as_str()) {
        ("", "events") => Some(ResKey::new(EVENTS_GROUP, "events")),
        (EVENTS_GROUP, "events") => Some(ResKey::new("", "events")),
        _ => None,
    }
}

/// `obj` converted to the API of `to` (core when `to.group` is empty).
fn convert(obj: &Value, to: &ResKey) -> Value {
    let to_core = to.group.is_empty();
    let mut out = Map::new();
    let api_version = if to_core { "v1" } else { "events.k8s.io/v1" };
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    let mut metadata = obj.get("metadata").cloned().unwrap_or_default();
    if let Some(m) = metadata.as_object_mut() {
        m.remove("managedFields");
        m.remove("resourceVersion");
    }
    out.insert("metadata".into(), metadata);
    for (core, events) in RENAMED {
        let (from, into) = if to_core {
            (events, core)
        } else {
            (core, events)
        };
        if let Some(v) = obj.get(*from) {
            out.insert((*into).to_string(), v.clone());
        }
    }
    for f in SHARED {
        if let Some(v) = obj.get(*f) {
            out.insert((*f).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

impl Core {
    /// Writes the other API's copy of a stored event.
    pub fn mirror_put(&mut self, res: &ResKey, obj: &Arc<Value>) {
        if let Some(other) = mirror_of(res) {
            let copy = convert(obj, &other);
            self.store.put(&other, copy);
            // The uid index points at the original.
            self.store.index_uid(res, obj);
        }
    }

    /// Removes the other API's copy of a removed event.
    pub fn mirror_remove(&mut self, res: &ResKey, last: &Value) {
        let Some(other) = mirror_of(res) else {
            return;
        };
        let Some(copy) = self
            .store
            .get(&other, meta::namespace(last), meta::name(last))
            .cloned()
        else {
            return;
        };
        self.store.remove(&other, (*copy).clone());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_message_over_1024_bytes_is_refused_through_either_api() {
        for (res, field) in [
            (ResKey::new("", "events"), "message"),
            (ResKey::new(EVENTS_GROUP, "events"), "note"),
        ] {
            let event = |len: usize| json!({ "metadata": { "name": "e" }, field: "x".repeat(len) });
            assert!(validate(&res, &event(MESSAGE_LIMIT)).is_ok());
            let err = validate(&res, &event(MESSAGE_LIMIT + 1)).unwrap_err();
            assert_eq!(err.code(), 422);
            assert_eq!(
                err.to_string(),
                "Event \"e\" is invalid: message: Invalid value: \"\": can have at most 1024 characters"
            );
        }
        // Other resources are not concerned.
        let pod = json!({ "metadata": { "name": "p" }, "message": "x".repeat(2000) });
        assert!(validate(&ResKey::new("", "pods"), &pod).is_ok());
    }

    #[test]
    fn conversion_round_trips() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": { "name": "e", "namespace": "ns", "uid": "u" },
            "involvedObject": { "kind": "Pod", "name": "p" },
            "message": "hello", "reason": "Started", "type": "Warning", "count": 2,
            "reportingComponent": "ctl", "reportingInstance": "ctl-1",
        });
        let events = convert(&core, &ResKey::new(EVENTS_GROUP, "events"));
        assert_eq!(events["regarding"]["name"], "p");
        assert_eq!(events["note"], "hello");
        assert_eq!(events["deprecatedCount"], 2);
        assert_eq!(events["reportingController"], "ctl");
        assert_eq!(convert(&events, &ResKey::new("", "events")), core);
    }
}
