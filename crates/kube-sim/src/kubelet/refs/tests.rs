use serde_json::json;

use super::*;

fn pod() -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {
            "volumes": [
                {"name": "cfg", "configMap": {"name": "app-config"}},
                {"name": "opt", "secret": {"secretName": "maybe", "optional": true}},
                {"name": "keys", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "c"}]}}
            ],
            "containers": [{
                "name": "app",
                "env": [
                    {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-env", "key": "a"}}},
                    {"name": "B", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "b", "optional": true}}},
                    {"name": "C", "value": "plain"}
                ],
                "envFrom": [{"secretRef": {"name": "all"}}]
            }]
        }
    }))
    .unwrap()
}

#[test]
fn optional_references_are_skipped() {
    let refs = references(&pod());
    let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["app-config", "tls", "app-env", "all"]);
    assert_eq!(refs[1].key.as_deref(), Some("tls.crt"));
}

#[test]
fn missing_objects_and_keys_block_with_kubelet_messages() {
    let refs = references(&pod());
    let mut found = Found::new();
    found.insert((Source::ConfigMap, "app-config".into()), BTreeSet::new());
    found.insert(
        (Source::Secret, "tls".into()),
        ["tls.key".to_string()].into(),
    );
    found.insert((Source::ConfigMap, "app-env".into()), BTreeSet::new());
    let blocks = blocks("ns", &refs, &found);
    assert_eq!(
        blocks.volume.as_deref(),
        Some(
            "MountVolume.SetUp failed for volume \"keys\" : secret references non-existent config key: tls.crt"
        )
    );
    assert_eq!(
        blocks.containers.get("app").map(String::as_str),
        Some("couldn't find key a in ConfigMap ns/app-env")
    );
}

#[test]
fn everything_present_blocks_nothing() {
    let refs = references(&pod());
    let mut found = Found::new();
    found.insert((Source::ConfigMap, "app-config".into()), BTreeSet::new());
    found.insert(
        (Source::Secret, "tls".into()),
        ["tls.crt".to_string()].into(),
    );
    found.insert(
        (Source::ConfigMap, "app-env".into()),
        ["a".to_string()].into(),
    );
    found.insert((Source::Secret, "all".into()), BTreeSet::new());
    assert_eq!(blocks("ns", &refs, &found), Blocks::default());
    found.remove(&(Source::Secret, "all".into()));
    assert_eq!(
        blocks("ns", &refs, &found)
            .containers
            .get("app")
            .map(String::as_str),
        Some("secret \"all\" not found")
    );
}
