//! Strategic merge patch: the directives kubectl sends.

use serde_json::{Value, json};

use super::patch;

fn patched(orig: Value, p: Value) -> Value {
    let mut o = orig;
    patch(&mut o, &p);
    o
}

#[test]
fn keyed_lists_merge_and_delete_by_key() {
    let orig = json!({ "spec": { "containers": [
        { "name": "a", "image": "a:1", "env": [{ "name": "X", "value": "1" }] },
        { "name": "b", "image": "b:1" },
    ]}});
    let got = patched(
        orig,
        json!({ "spec": { "containers": [
            { "name": "a", "env": [{ "name": "Y", "value": "2" }] },
            { "name": "b", "$patch": "delete" },
        ]}}),
    );
    assert_eq!(
        got,
        json!({ "spec": { "containers": [
            { "name": "a", "image": "a:1",
              "env": [{ "name": "X", "value": "1" }, { "name": "Y", "value": "2" }] },
        ]}})
    );
}

#[test]
fn atomic_lists_are_replaced_and_nulls_delete() {
    let orig = json!({ "spec": { "tolerations": [{ "key": "a" }], "nodeSelector": { "x": "1" } } });
    let got = patched(
        orig,
        json!({ "spec": { "tolerations": [{ "key": "b" }], "nodeSelector": null } }),
    );
    assert_eq!(got, json!({ "spec": { "tolerations": [{ "key": "b" }] } }));
}

#[test]
fn replace_directive_on_maps_and_lists() {
    let orig = json!({ "metadata": { "labels": { "a": "1", "b": "2" } },
                       "spec": { "containers": [{ "name": "a" }, { "name": "b" }] } });
    let got = patched(
        orig,
        json!({ "metadata": { "labels": { "$patch": "replace", "c": "3" } },
                "spec": { "containers": [{ "name": "z" }, { "$patch": "replace" }] } }),
    );
    assert_eq!(
        got,
        json!({ "metadata": { "labels": { "c": "3" } },
                "spec": { "containers": [{ "name": "z" }] } })
    );
}

#[test]
fn finalizers_merge_as_a_set_and_primitive_deletes() {
    let orig = json!({ "metadata": { "finalizers": ["a", "b"] } });
    let got = patched(
        orig,
        json!({ "metadata": { "finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"] } }),
    );
    assert_eq!(got, json!({ "metadata": { "finalizers": ["b", "c"] } }));
}

#[test]
fn set_element_order_and_retain_keys() {
    let orig = json!({ "spec": {
        "containers": [{ "name": "a" }, { "name": "b" }],
        "volumes": [{ "name": "v", "emptyDir": {} }],
    }});
    let got = patched(
        orig,
        json!({ "spec": {
            "$setElementOrder/containers": [{ "name": "b" }, { "name": "a" }],
            "volumes": [{ "name": "v", "hostPath": { "path": "/x" },
                          "$retainKeys": ["name", "hostPath"] }],
        }}),
    );
    assert_eq!(
        got,
        json!({ "spec": {
            "containers": [{ "name": "b" }, { "name": "a" }],
            "volumes": [{ "name": "v", "hostPath": { "path": "/x" } }],
        }})
    );
}

#[test]
fn conditions_merge_by_type() {
    let orig = json!({ "status": { "conditions": [
        { "type": "Ready", "status": "False" }, { "type": "PodScheduled", "status": "True" }] } });
    let got = patched(
        orig,
        json!({ "status": { "conditions": [{ "type": "Ready", "status": "True" }] } }),
    );
    assert_eq!(
        got["status"]["conditions"],
        json!([{ "type": "Ready", "status": "True" }, { "type": "PodScheduled", "status": "True" }])
    );
}
