//! The merge `kubectl apply` makes, so the plan shows what the user's apply would store.
//!
//! - Client-side apply (the default of `kubectl apply`): for a custom resource, a three-way
//!   JSON merge patch from the last applied configuration (the
//!   `kubectl.kubernetes.io/last-applied-configuration` annotation), the file and the live
//!   object. A field the previous apply set and the file no longer has is deleted (this is
//!   how removing `tolerations` from a manifest removes them from the cluster); a field set
//!   by someone else (`kubectl eds canary pause`, an annotation added by hand) is kept; lists
//!   are replaced whole.
//! - Server-side apply (`--server-side`): the API server merges, by field ownership of the
//!   field manager (`--field-manager`, default `kubectl`).

use serde_json::{Map, Value};

/// Annotation where `kubectl apply` keeps the configuration it applied.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Field manager of `kubectl apply` (client-side) on create and patch.
pub const CLIENT_SIDE_MANAGER: &str = "kubectl-client-side-apply";

/// How the user applies the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMode {
    /// `kubectl apply` (three-way merge against the last applied configuration).
    ClientSide,
    /// `kubectl apply --server-side --field-manager NAME [--force-conflicts]`.
    ServerSide {
        /// Field manager.
        manager: String,
        /// Take over fields other managers own.
        force: bool,
    },
}

/// The file as `kubectl apply` sends it: with the last-applied annotation holding the file
/// itself (without that annotation), as compact JSON.
pub fn with_last_applied(file: &Value) -> Value {
    let mut config = file.clone();
    if let Some(annotations) = config
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty()
            && let Some(meta) = config.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("annotations");
        }
    }
    let text = config.to_string();
    let mut out = config;
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(map) = annotations.as_object_mut() {
            map.insert(LAST_APPLIED.into(), Value::String(text));
        }
    }
    out
}

/// The last applied configuration recorded on a live object, if any (an object created by
/// another tool, or by server-side apply, has none: nothing is then deleted).
pub fn last_applied(live: &Value) -> Option<Value> {
    let text = live
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    serde_json::from_str(text).ok()
}

/// The three-way JSON merge patch `kubectl apply` sends for a custom resource: deletions of
/// what `original` (last applied) set and `modified` (the file) no longer sets, plus every
/// value of `modified` that differs from `current` (the live object).
pub fn three_way_patch(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    let mut patch = changes(modified, current);
    if let Some(original) = original {
        add_deletions(&mut patch, original, modified);
    }
    patch
}

/// What must change in `current` for it to hold every field of `modified`.
fn changes(modified: &Value, current: &Value) -> Value {
    let (Value::Object(modified), Value::Object(current)) = (modified, current) else {
        return modified.clone();
    };
    let mut out = Map::new();
    for (key, value) in modified {
        match current.get(key) {
            Some(now) if now == value => {}
            Some(now) if value.is_object() && now.is_object() => {
                out.insert(key.clone(), changes(value, now));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// Adds `null` (delete) for every field of `original` missing from `modified`.
fn add_deletions(patch: &mut Value, original: &Value, modified: &Value) {
    let (Value::Object(original), Value::Object(modified)) = (original, modified) else {
        return;
    };
    let Value::Object(out) = patch else {
        return;
    };
    for (key, was) in original {
        match modified.get(key) {
            None => {
                out.insert(key.clone(), Value::Null);
            }
            Some(now) if was.is_object() && now.is_object() => {
                let entry = out
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if entry.is_object() {
                    add_deletions(entry, was, now);
                }
            }
            Some(_) => {}
        }
    }
}

/// Applies a JSON merge patch (RFC 7386) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Removes the empty objects a patch leaves behind (`{"spec": {}}`), so an unchanged object
/// gives an empty patch.
pub fn prune_empty(patch: &mut Value) {
    if let Value::Object(map) = patch {
        for value in map.values_mut() {
            prune_empty(value);
        }
        map.retain(|_, v| !matches!(v, Value::Object(m) if m.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_field_removed_from_the_file_is_deleted_and_others_are_kept() {
        let last = json!({"spec": {"tolerations": [{"operator": "Exists"}], "image": "v1"}});
        let live = json!({"metadata": {"annotations": {"paused": "true"}},
            "spec": {"tolerations": [{"operator": "Exists"}], "image": "v1", "defaulted": 10}});
        let file = json!({"spec": {"image": "v2"}});
        let patch = three_way_patch(Some(&last), &file, &live);
        assert_eq!(patch, json!({"spec": {"image": "v2", "tolerations": null}}));
        let mut result = live.clone();
        merge_patch(&mut result, &patch);
        assert_eq!(
            result,
            json!({"metadata": {"annotations": {"paused": "true"}},
                "spec": {"image": "v2", "defaulted": 10}})
        );
        // Without a last applied configuration nothing is deleted.
        let patch = three_way_patch(None, &file, &live);
        assert_eq!(patch, json!({"spec": {"image": "v2"}}));
    }

    #[test]
    fn lists_are_replaced_whole_and_an_unchanged_file_gives_an_empty_patch() {
        let live = json!({"spec": {"list": [1, 2, 3], "a": {"b": 1}}});
        let file = json!({"spec": {"list": [1, 3], "a": {"b": 1}}});
        let mut patch = three_way_patch(Some(&file), &file, &live);
        prune_empty(&mut patch);
        assert_eq!(patch, json!({"spec": {"list": [1, 3]}}));
        let mut same = three_way_patch(Some(&file), &file, &file);
        prune_empty(&mut same);
        assert_eq!(same, json!({}));
    }

    #[test]
    fn the_sent_file_records_itself_as_last_applied() {
        let file = json!({"metadata": {"name": "foo", "annotations": {LAST_APPLIED: "old"}},
            "spec": {"a": 1}});
        let sent = with_last_applied(&file);
        let recorded = last_applied(&sent).expect("annotation");
        assert_eq!(
            recorded,
            json!({"metadata": {"name": "foo"}, "spec": {"a": 1}})
        );
    }
}
