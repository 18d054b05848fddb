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
