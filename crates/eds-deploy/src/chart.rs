//! The Helm chart `charts/extendeddaemonset`: metadata, values and their schema, the CRDs and
//! the templates, all generated.

use std::path::PathBuf;

use serde_json::json;

use super::{Error, crds, manager::NAME, values, yaml};

mod extra;
mod rbac;
mod readme;
mod templates;
mod text;

/// Directory of the chart, relative to the repository root.
pub const DIR: &str = "charts/extendeddaemonset";

/// Oldest Kubernetes version the chart installs on (k8s-openapi's `v1_33` feature).
pub const KUBE_VERSION: &str = ">=1.33.0-0";

/// Helm expression of the name of the release's objects.
pub(crate) const FULLNAME: &str = "{{ include \"extendeddaemonset.fullname\" $ }}";
/// Helm expression of the controller's ServiceAccount name.
pub(crate) const SERVICE_ACCOUNT: &str = "{{ include \"extendeddaemonset.serviceAccountName\" $ }}";
/// Helm expression of the name of the release's cluster-scoped objects, unique per namespace.
pub(crate) const CLUSTER_NAME: &str =
    "{{ include \"extendeddaemonset.fullname\" $ }}-{{ $.Release.Namespace }}";
/// Helm expression of the release namespace.
pub(crate) const NAMESPACE: &str = "{{ $.Release.Namespace }}";
/// Template text of the labels of every object (for [`super::helm::Insert::Text`]).
pub(crate) const LABELS: &str = "{{- include \"extendeddaemonset.labels\" $ | nindent {n} }}";
/// Template text of the selector labels.
pub(crate) const SELECTOR_LABELS: &str =
    "{{- include \"extendeddaemonset.selectorLabels\" $ | nindent {n} }}";

fn chart_yaml() -> Result<String, Error> {
    let version = env!("CARGO_PKG_VERSION");
    let chart = json!({
        "apiVersion": "v2",
        "name": NAME,
        "description": "ExtendedDaemonSet controller: canary deployments and a careful rolling update for node daemons",
        "type": "application",
        "version": version,
        "appVersion": version,
        "kubeVersion": KUBE_VERSION,
        "home": env!("CARGO_PKG_REPOSITORY"),
        "sources": [env!("CARGO_PKG_REPOSITORY")],
        "keywords": ["daemonset", "canary", "rolling-update", "controller"],
    });
    Ok(yaml::file(&[yaml::to_yaml(&chart)?]))
}

fn helmignore() -> String {
    format!("{}\n.git/\n*.orig\n*.rej\n*~\n.DS_Store\n", yaml::HEADER)
}

/// Every file of the chart, with paths relative to the repository root.
pub fn files() -> Result<Vec<(PathBuf, String)>, Error> {
    let dir = PathBuf::from(DIR);
    let schema = serde_json::to_string_pretty(&values::schema()).map_err(|e| Error::Template {
        pointer: "values.schema.json".to_string(),
        reason: e.to_string(),
    })?;
    let mut files = vec![
        (dir.join("Chart.yaml"), chart_yaml()?),
        (dir.join(".helmignore"), helmignore()),
        (dir.join("values.yaml"), values::doc::values_yaml()?),
        (dir.join("values.schema.json"), format!("{schema}\n")),
    ];
    for (name, text) in crds::files()? {
        files.push((dir.join("crds").join(name), text));
    }
    let templates = dir.join("templates");
    for (name, text) in templates::files()? {
        files.push((templates.join(name), text));
    }
    files.push((templates.join("rbac.yaml"), rbac::file()?));
    for (name, text) in extra::files()? {
        files.push((templates.join(name), text));
    }
    files.push((dir.join("README.md"), readme::readme()));
    files.push((templates.join("_helpers.tpl"), text::helpers()));
    files.push((templates.join("NOTES.txt"), text::notes()));
    Ok(files)
}
