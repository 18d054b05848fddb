//! Every file of `examples/` and every YAML snippet of the upstream README parses into our
//! types, and serializing the parsed value gives back every field.

use std::path::{Path, PathBuf};

use eds_api::{
    Duration, ExtendedDaemonSet, ExtendedDaemonsetSetting, ValidationMode, validate::validate_spec,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<name> is two levels below the root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"))
}

/// Whether two scalars mean the same: equal, or the same duration spelled differently (the
/// types write Go's canonical `5m0s` for `5m`).
fn same_scalar(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => matches!(
            (a.parse::<Duration>(), b.parse::<Duration>()),
            (Ok(a), Ok(b)) if a == b
        ),
        _ => false,
    }
}

/// Every field of `inner` is in `outer` with the same value; `null` in `inner` marks an
/// elided part (`# ...` in the README) and matches anything.
fn contains(outer: &Value, inner: &Value, path: &str) -> Result<(), String> {
    match (outer, inner) {
        (_, Value::Null) => Ok(()),
        (Value::Object(o), Value::Object(i)) => i.iter().try_for_each(|(key, value)| {
            let path = format!("{path}.{key}");
            let found = o.get(key).ok_or_else(|| format!("{path} was lost"))?;
            contains(found, value, &path)
        }),
        (Value::Array(o), Value::Array(i)) if o.len() == i.len() => o
            .iter()
            .zip(i)
            .enumerate()
            .try_for_each(|(n, (o, i))| contains(o, i, &format!("{path}[{n}]"))),
        (o, i) if same_scalar(o, i) => Ok(()),
        (o, i) => Err(format!("{path}: {i} became {o}")),
    }
}

/// Parses `value` into `T`, serializes it back, and checks that both directions keep every
/// field (so no field is unknown to the type or dropped by it).
fn round_trip<T: DeserializeOwned + Serialize>(value: &Value, name: &str) -> T {
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let back = serde_json::to_value(&parsed).unwrap();
    contains(&back, value, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    contains(value, &back, name).unwrap_or_else(|e| panic!("{name} gained a field: {e}"));
    parsed
}

/// `snippet` laid over `base`: objects merge, `null` (an elision) keeps the base.
fn overlay(base: &Value, snippet: &Value) -> Value {
    match (base, snippet) {
        (b, Value::Null) => b.clone(),
        (Value::Object(b), Value::Object(s)) => {
            let mut merged = b.clone();
            for (key, value) in s {
                let next = overlay(b.get(key).unwrap_or(&Value::Null), value);
                merged.insert(key.clone(), next);
            }
            Value::Object(merged)
        }
        (_, s) => s.clone(),
    }
}

fn foo_v1() -> Value {
    yaml(&read(&root().join("examples/foo-eds_v1.yaml")))
}

fn check_eds(eds: &ExtendedDaemonSet, name: &str) {
    let errors = validate_spec(&eds.spec, ValidationMode::Auto);
    assert!(errors.is_empty(), "{name}: {errors:?}");
}

#[derive(serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KindCluster {
    kind: String,
    api_version: String,
    nodes: Vec<KindNode>,
}

#[derive(serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct KindNode {
    role: String,
}

#[test]
fn every_example_parses_and_round_trips() {
    let mut seen = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        // examples/ also holds cargo examples (`*.rs`); the manifests are the YAML files.
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let value = yaml(&read(&path));
        match value["kind"].as_str() {
            Some("ExtendedDaemonSet") => {
                let eds: ExtendedDaemonSet = round_trip(&value, &name);
                check_eds(&eds, &name);
            }
            Some("ExtendedDaemonsetSetting") => {
                round_trip::<ExtendedDaemonsetSetting>(&value, &name);
            }
            Some("Cluster") => {
                round_trip::<KindCluster>(&value, &name);
            }
            other => panic!("{name}: unexpected kind {other:?}"),
        }
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} examples");
}

#[test]
fn foo_v1_and_v2_differ_only_in_the_image_on_line_17() {
    let v1 = read(&root().join("examples/foo-eds_v1.yaml"));
    let v2 = read(&root().join("examples/foo-eds_v2.yaml"));
    let differing: Vec<(usize, &str, &str)> = v1
        .lines()
        .zip(v2.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a, b))
        .collect();
    assert_eq!(v1.lines().count(), v2.lines().count());
    assert_eq!(
        differing,
        [(
            17,
            "        image: registry.k8s.io/pause:3.0",
            "        image: registry.k8s.io/pause:3.1"
        )]
    );
    let eds: ExtendedDaemonSet = round_trip(&yaml(&v1), "foo-eds_v1.yaml");
    let canary = eds.spec.strategy.canary.unwrap();
    assert_eq!(
        canary.replicas,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
    );
    assert_eq!(canary.duration, Some(Duration::from_secs(300)));
}

#[test]
fn kind_cluster_has_one_control_plane_and_two_workers() {
    let value = yaml(&read(
        &root().join("examples/kind-cluster-configuration.yaml"),
    ));
    let cluster: KindCluster = round_trip(&value, "kind-cluster-configuration.yaml");
    let roles: Vec<&str> = cluster.nodes.iter().map(|n| n.role.as_str()).collect();
    assert_eq!(roles, ["control-plane", "worker", "worker"]);
}

fn snippet(name: &str) -> String {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/upstream-readme")
            .join(name),
    )
}

#[test]
fn readme_setting_parses_once_its_list_indentation_is_fixed() {
    let text = snippet("setting.yaml");
    // Upstream's snippet indents `- name: daemon` one space deeper than its `resources:`,
    // which no YAML parser accepts; the content is kept as is.
    assert!(serde_saphyr::from_str::<Value>(&text).is_err());
    let fixed = text.replace("   - name: daemon", "  - name: daemon");
    let setting: ExtendedDaemonsetSetting = round_trip(&yaml(&fixed), "setting.yaml");
    let requests = setting.spec.containers[0]
        .resources
        .requests
        .clone()
        .unwrap();
    assert_eq!(requests["cpu"].0, "0.5");
    assert_eq!(setting.spec.reference.name, "foo");
}

#[test]
fn readme_fragments_apply_to_the_foo_example() {
    // (file, text elided by the README and removed here)
    for (name, elision) in [
        ("node-affinity.yaml", Some("      //...\n")),
        ("canary-strategy.yaml", None),
        ("migration.yaml", None),
    ] {
        let mut text = snippet(name);
        if let Some(elision) = elision {
            assert!(text.contains(elision), "{name}");
            text = text.replace(elision, "");
        }
        let fragment = yaml(&text);
        let merged = overlay(&foo_v1(), &fragment);
        let eds: ExtendedDaemonSet = round_trip(&merged, name);
        check_eds(&eds, name);
        let back = serde_json::to_value(&eds).unwrap();
        contains(&back, &fragment, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn readme_canary_settings_resolve_as_documented() {
    let merged = overlay(&foo_v1(), &yaml(&snippet("canary-strategy.yaml")));
    let eds: ExtendedDaemonSet = round_trip(&merged, "canary-strategy.yaml");
    let canary = eds.spec.resolve(ValidationMode::Auto).canary.unwrap();
    assert_eq!(canary.duration, Some(Duration::from_secs(300)));
    assert!(canary.auto_pause.enabled);
    assert_eq!(canary.auto_pause.max_restarts, 5);
    // autoFail keeps its default (5), which satisfies autoFail >= autoPause.
    assert_eq!(canary.auto_fail.max_restarts, 5);
}
