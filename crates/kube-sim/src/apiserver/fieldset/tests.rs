//! Field sets: paths of objects and the FieldsV1 format.

use serde_json::json;

use super::*;

fn f(name: &str) -> Elem {
    Elem::Field(name.into())
}

#[test]
fn leaves_key_associative_lists_and_skip_identity() {
    let obj = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "p", "uid": "u", "labels": { "app": "x" } },
        "spec": { "containers": [{ "name": "c", "image": "i" }], "args": ["a", "b"] },
        "status": { "phase": "Running" },
    });
    let paths: Vec<Path> = leaves(&obj, Scope::NoStatus, &Lists::Builtin)
        .into_keys()
        .collect();
    let key = Elem::Key(r#"{"name":"c"}"#.into());
    assert_eq!(
        paths,
        vec![
            vec![f("metadata"), f("labels"), f("app")],
            vec![f("spec"), f("args")],
            vec![f("spec"), f("containers"), key.clone()],
            vec![f("spec"), f("containers"), key.clone(), f("image")],
            vec![f("spec"), f("containers"), key, f("name")],
        ]
    );
    let status: Vec<Path> = leaves(&obj, Scope::StatusOnly, &Lists::Builtin)
        .into_keys()
        .collect();
    assert_eq!(status, vec![vec![f("status"), f("phase")]]);
}

#[test]
fn fields_v1_round_trips_with_dot_markers() {
    let obj = json!({ "metadata": { "finalizers": ["x"] },
                      "spec": { "containers": [{ "name": "c", "image": "i" }] } });
    let set: FieldSet = leaves(&obj, Scope::All, &Lists::Builtin)
        .into_keys()
        .collect();
    let v1 = to_fields_v1(&set);
    assert_eq!(
        v1,
        json!({
            "f:metadata": { "f:finalizers": { "v:\"x\"": {} } },
            "f:spec": { "f:containers": { "k:{\"name\":\"c\"}": {
                ".": {}, "f:image": {}, "f:name": {} } } },
        })
    );
    assert_eq!(from_fields_v1(&v1), set);
}

#[test]
fn display_matches_conflict_messages() {
    let path = vec![
        f("spec"),
        f("containers"),
        Elem::Key(r#"{"name":"app"}"#.into()),
        f("image"),
    ];
    assert_eq!(display(&path), r#".spec.containers[name="app"].image"#);
}

#[test]
fn removal_drops_maps_it_empties() {
    use super::super::apply::remove_path;
    let mut obj = json!({ "status": { "canary": { "replicaSet": "x" }, "ready": 1 } });
    remove_path(
        &mut obj,
        &[f("status"), f("canary"), f("replicaSet")],
        &Lists::Builtin,
    );
    assert_eq!(obj, json!({ "status": { "ready": 1 } }));
    let mut obj = json!({ "spec": { "containers": [{ "name": "a", "image": "i" }] } });
    let key = Elem::Key(r#"{"name":"a"}"#.into());
    remove_path(
        &mut obj,
        &[f("spec"), f("containers"), key.clone(), f("image")],
        &Lists::Builtin,
    );
    assert_eq!(obj, json!({ "spec": { "containers": [{ "name": "a" }] } }));
    remove_path(
        &mut obj,
        &[f("spec"), f("containers"), key],
        &Lists::Builtin,
    );
    assert_eq!(obj, json!({ "spec": { "containers": [] } }));
}

#[test]
fn fields_v1_marks_every_owned_prefix_and_only_those() {
    let p = |names: &[&str]| names.iter().map(|n| f(n)).collect::<Path>();
    let set: FieldSet = [
        p(&["a"]),
        p(&["a", "b", "c"]),
        p(&["a", "d"]),
        p(&["e", "g"]),
        p(&["e", "g", "h"]),
        p(&["e", "i"]),
    ]
    .into_iter()
    .collect();
    let v1 = to_fields_v1(&set);
    assert_eq!(
        v1,
        json!({
            "f:a": { ".": {}, "f:b": { "f:c": {} }, "f:d": {} },
            "f:e": { "f:g": { ".": {}, "f:h": {} }, "f:i": {} },
        })
    );
    assert_eq!(from_fields_v1(&v1), set);
}

/// `changes` as the comparison of every leaf of both objects.
fn changes_by_leaves(old: Option<&Value>, new: &Value, scope: Scope) -> (FieldSet, FieldSet) {
    let old_leaves = old
        .map(|o| leaves(o, scope, &Lists::Builtin))
        .unwrap_or_default();
    let new_leaves = leaves(new, scope, &Lists::Builtin);
    let changed = new_leaves
        .iter()
        .filter(|(p, v)| match (old_leaves.get(*p), v) {
            (Some(Leaf::Item), Leaf::Item) => false,
            (Some(Leaf::Value(a)), Leaf::Value(b)) => a != b,
            _ => true,
        })
        .map(|(p, _)| p.clone())
        .collect();
    let removed = old_leaves
        .keys()
        .filter(|p| !new_leaves.contains_key(*p))
        .cloned()
        .collect();
    (changed, removed)
}

#[test]
fn changes_are_those_of_the_leaves_without_walking_equal_parts() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "p", "labels": { "a": "1", "b": "2" },
                      "finalizers": ["x", "y"], "resourceVersion": "5" },
        "spec": { "nodeName": "n1", "empty": {},
                  "containers": [{ "name": "c", "image": "i:1", "ports": [{ "containerPort": 80 }] },
                                 { "name": "d", "image": "j:1" }],
                  "tolerations": [{ "key": "k", "operator": "Exists" }] },
        "status": { "phase": "Pending",
                    "conditions": [{ "type": "Ready", "status": "False" },
                                   { "type": "Scheduled", "status": "True" }] },
    });
    let edits: Vec<fn(&mut Value)> = vec![
        |_| {},
        |v| v["metadata"]["labels"]["a"] = json!("3"),
        |v| v["metadata"]["labels"] = json!({}),
        |v| v["metadata"]["finalizers"] = json!(["y", "z"]),
        |v| v["metadata"]["resourceVersion"] = json!("6"),
        |v| v["spec"]["containers"][0]["image"] = json!("i:2"),
        |v| v["spec"]["containers"][1] = json!({ "image": "j:1" }),
        |v| v["spec"]["containers"] = json!([{ "name": "c", "image": "i:1" }]),
        |v| v["spec"]["empty"] = json!({ "now": "set" }),
        |v| v["spec"]["nodeName"] = json!({ "a": "map" }),
        |v| {
            v["spec"].as_object_mut().map(|m| m.remove("tolerations"));
        },
        |v| v["status"]["conditions"][0]["status"] = json!("True"),
        |v| v["status"] = json!({ "phase": "Running" }),
        |v| {
            v.as_object_mut().map(|m| m.remove("status"));
        },
        |v| v["kind"] = json!("Other"),
        // Associative lists compared item by item.
        |v| v["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(81),
        |v| v["spec"]["containers"][0]["ports"] = json!([]),
        |v| v["spec"]["containers"][0]["env"] = json!({}),
        |v| {
            v["status"]["conditions"] = json!([
            { "type": "Scheduled", "status": "True" }, { "type": "Ready", "status": "False" }])
        },
        |v| {
            v["status"]["conditions"] = json!([{ "type": "Ready", "status": "False" },
            { "type": "Scheduled", "status": "True" }, { "type": "Initialized", "status": "True" }])
        },
        |v| {
            v["status"]["conditions"] = json!([{ "type": "Ready", "status": "True" },
            { "type": "Ready", "status": "False", "reason": "Twice" }])
        },
        |v| {
            v["status"]["conditions"] = json!([{ "type": "Ready", "status": "False" },
            { "status": "True" }])
        },
        |v| v["status"]["conditions"] = json!([]),
        |v| v["status"]["conditions"][1] = json!({ "type": "Scheduled", "status": {} }),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut new = pod.clone();
        edit(&mut new);
        for scope in [Scope::All, Scope::NoStatus, Scope::StatusOnly] {
            for (old, new) in [(Some(&pod), &new), (Some(&new), &pod), (None, &new)] {
                assert_eq!(
                    changes(old, new, scope, &Lists::Builtin),
                    changes_by_leaves(old, new, scope),
                    "edit {i}, {scope:?}"
                );
            }
        }
    }
    // Not vacuous: an edit shows as changed and removed paths.
    let mut new = pod.clone();
    new["spec"]["containers"] = json!([{ "name": "c", "image": "i:2" }]);
    let (changed, removed) = changes(Some(&pod), &new, Scope::All, &Lists::Builtin);
    assert!(changed.iter().any(|p| p.last() == Some(&f("image"))));
    assert!(removed.iter().any(|p| p.contains(&f("ports"))));
}
