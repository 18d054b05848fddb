//! Helpers shared by the chart, kustomize and CRD tests: running Helm (through the Python
//! SDK) and kustomize, and parsing manifests into k8s-openapi types.

#![allow(dead_code)] // each test binary uses a different part

pub mod inspect;
pub mod venv;

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{Namespace, Pod, Service, ServiceAccount},
        policy::v1::PodDisruptionBudget,
        rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

/// Root of the repository.
pub fn project_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<name> is two levels below the root")
        .to_path_buf()
}

/// One manifest, parsed into its k8s-openapi type.
// A test holds a few dozen of these; boxing the large variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Object {
    Namespace(Namespace),
    ServiceAccount(ServiceAccount),
    Service(Service),
    Deployment(Deployment),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    Role(Role),
    RoleBinding(RoleBinding),
    Crd(CustomResourceDefinition),
    Pod(Pod),
    PodDisruptionBudget(PodDisruptionBudget),
    /// Prometheus Operator kind, not in k8s-openapi.
    ServiceMonitor(Value),
}

impl Object {
    /// The object as JSON (kind, metadata and all).
    pub fn json(&self) -> Value {
        let value = match self {
            Self::Namespace(o) => serde_json::to_value(o),
            Self::ServiceAccount(o) => serde_json::to_value(o),
            Self::Service(o) => serde_json::to_value(o),
            Self::Deployment(o) => serde_json::to_value(o),
            Self::ClusterRole(o) => serde_json::to_value(o),
            Self::ClusterRoleBinding(o) => serde_json::to_value(o),
            Self::Role(o) => serde_json::to_value(o),
            Self::RoleBinding(o) => serde_json::to_value(o),
            Self::Crd(o) => serde_json::to_value(o),
            Self::Pod(o) => serde_json::to_value(o),
            Self::PodDisruptionBudget(o) => serde_json::to_value(o),
            Self::ServiceMonitor(o) => Ok(o.clone()),
        };
        value.expect("k8s-openapi objects serialize")
    }

    /// `kind/name`, for messages.
    pub fn id(&self) -> String {
        let json = self.json();
        format!(
            "{}/{}",
            json["kind"].as_str().unwrap_or_default(),
            json["metadata"]["name"].as_str().unwrap_or_default()
        )
    }
}

/// The first difference between two JSON values (numbers compared by value, so `0` and
/// `0.0` are equal), as `path: a != b`.
pub fn difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .find_map(|(key, l)| match y.get(key) {
                Some(r) => difference(l, r, &format!("{path}.{key}")),
                None => Some(format!("{path}.{key}: {l} is missing on the right")),
            })
            .or_else(|| {
                y.keys()
                    .find(|key| !x.contains_key(*key))
                    .map(|key| format!("{path}.{key}: missing on the left"))
            }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| difference(l, r, &format!("{path}[{i}]"))),
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        (x, y) if x == y => None,
        (x, y) => Some(format!("{path}: {x} != {y}")),
    }
}

/// Parses `value` into `T` and checks that nothing was lost: serializing `T` gives back
/// `value`, so a misspelled or misplaced field (ignored by serde) fails the test.
pub fn typed<T: DeserializeOwned + serde::Serialize>(value: &Value) -> Result<T, String> {
    let parsed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&parsed).map_err(|e| e.to_string())?;
    match difference(&back, value, "") {
        Some(diff) => Err(format!("the round trip changed {diff}")),
        None => Ok(parsed),
    }
}

/// Parses every document of a multi-document YAML text (empty documents are skipped).
pub fn documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Parses every document of `text` into its k8s-openapi type; panics on an unknown kind or a
/// field the type does not have.
pub fn objects(text: &str) -> Vec<Object> {
    documents(text)
        .iter()
        .map(|doc| {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let parsed = match kind {
                "Namespace" => typed(doc).map(Object::Namespace),
                "ServiceAccount" => typed(doc).map(Object::ServiceAccount),
                "Service" => typed(doc).map(Object::Service),
                "Deployment" => typed(doc).map(Object::Deployment),
                "ClusterRole" => typed(doc).map(Object::ClusterRole),
                "ClusterRoleBinding" => typed(doc).map(Object::ClusterRoleBinding),
                "Role" => typed(doc).map(Object::Role),
                "RoleBinding" => typed(doc).map(Object::RoleBinding),
                "CustomResourceDefinition" => typed(doc).map(Object::Crd),
                "Pod" => typed(doc).map(Object::Pod),
                "PodDisruptionBudget" => typed(doc).map(Object::PodDisruptionBudget),
                "ServiceMonitor" => Ok(Object::ServiceMonitor(doc.clone())),
                other => Err(format!("unexpected kind {other:?}")),
            };
            parsed.unwrap_or_else(|e| panic!("{kind} does not parse: {e}"))
        })
        .collect()
}

/// `kubectl kustomize <dir>`; panics with kubectl's message when it fails.
pub fn kustomize(dir: &Path) -> String {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubectl (needed on PATH for kustomize): {e}"));
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("kustomize output is UTF-8")
}

/// Objects of a kustomize directory (relative to `kustomize/`).
pub fn kustomize_objects(dir: &str) -> Vec<Object> {
    objects(&kustomize(&project_root().join("kustomize").join(dir)))
}

/// Helm's lint report of one set of values.
#[derive(Debug, Deserialize)]
pub struct Lint {
    pub messages: Vec<LintMessage>,
    pub errors: Vec<String>,
}

/// One lint finding; severity 1 info, 2 warning, 3 error.
#[derive(Debug, Deserialize)]
pub struct LintMessage {
    pub severity: u8,
    pub path: String,
    pub error: String,
}

/// Rendering of one set of values: the templates, or Helm's error.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Render {
    Ok(BTreeMap<String, String>),
    Error(String),
}

/// What `helm.py` reports.
#[derive(Debug, Deserialize)]
pub struct HelmReport {
    pub lint: BTreeMap<String, Lint>,
    pub renders: BTreeMap<String, Render>,
    pub crds: Vec<String>,
}

/// Lints and renders the chart with each set of values (`cases`), as release `release` in
/// `namespace`, with Helm's Go code through `helm-python-sdk`.
pub fn helm(release: &str, namespace: &str, cases: &BTreeMap<&str, Value>) -> HelmReport {
    let root = project_root();
    let python = venv::python(&root)
        .unwrap_or_else(|e| panic!("the chart tests need Python with {}: {e}", venv::PACKAGE));
    let request = serde_json::json!({
        "chart": root.join("charts/extendeddaemonset"),
        "release": release,
        "namespace": namespace,
        "cases": cases,
    });
    let mut child = Command::new(&python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gen_support/helm.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(request.to_string().as_bytes())
        .expect("writing the request to helm.py");
    let output = child.wait_with_output().expect("waiting for helm.py");
    assert!(
        output.status.success(),
        "helm.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("helm.py writes a JSON report")
}

/// Objects of a successful render (NOTES.txt left out).
pub fn rendered_objects(render: &Render) -> Vec<Object> {
    match render {
        Render::Ok(templates) => templates
            .iter()
            .filter(|(name, _)| !name.ends_with("NOTES.txt"))
            .flat_map(|(_, text)| objects(text))
            .collect(),
        Render::Error(e) => panic!("the chart did not render: {e}"),
    }
}
