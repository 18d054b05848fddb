//! The kustomize tree `kustomize/`: `crd` (the CRDs), `base` (ServiceAccount, manager
//! Deployment, metrics Service, nodes and leader-election RBAC) and two overlays that add the
//! rules of the watched namespaces: `namespaced` (the upstream default: a Role in the
//! controller's own namespace, which it watches) and `cluster-wide` (a ClusterRole and
//! `WATCH_NAMESPACE=""`), and an optional component, `components/servicemonitor`. Every
//! kustomization labels its objects with [`common_labels`]; names are plain so that an
//! overlay's `namePrefix` makes the cluster-scoped ones (ClusterRoles and their bindings)
//! unique per install, kustomize renaming the references with them.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{
    Error, crds,
    manager::{self, CONTAINER, Identity, METRICS_PORT_NAME, NAME, NAME_LABEL, WatchNamespace},
    rbac::{self, Rules},
    values::Values,
    yaml,
};

/// Directory of the kustomize tree, relative to the repository root.
pub const DIR: &str = "kustomize";
/// Namespace of the `namespaced` overlay: the seed README's demo runs everything in `default`.
pub const NAMESPACED_NAMESPACE: &str = "default";
/// Namespace of the `cluster-wide` overlay (created by the overlay).
pub const CLUSTER_WIDE_NAMESPACE: &str = "extendeddaemonset-system";

/// The overlays, by directory name under `kustomize/overlays`.
pub const OVERLAYS: [&str; 2] = ["namespaced", "cluster-wide"];

/// Directory of the optional components, which an overlay lists under `components`.
pub const COMPONENTS: &str = "components";
/// The ServiceMonitor component, relative to [`DIR`].
pub const SERVICE_MONITOR_COMPONENT: &str = "components/servicemonitor";

/// The labels kustomize puts on every object (CRDs and RBAC included). Not on selectors: the
/// Deployment's selector is immutable, and `app.kubernetes.io/version` changes every release.
pub fn common_labels() -> serde_json::Map<String, Value> {
    [
        (NAME_LABEL, NAME),
        ("app.kubernetes.io/part-of", NAME),
        ("app.kubernetes.io/managed-by", "kustomize"),
        ("app.kubernetes.io/version", env!("CARGO_PKG_VERSION")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), json!(v)))
    .collect()
}

fn kustomization(namespace: Option<&str>, resources: &[&str], patches: &[&str]) -> Value {
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        "labels": [{"pairs": common_labels(), "includeSelectors": false}],
    });
    if let Some(namespace) = namespace {
        k["namespace"] = json!(namespace);
    }
    if !patches.is_empty() {
        k["patches"] = patches.iter().map(|p| json!({ "path": p })).collect();
    }
    k
}

fn one<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    Ok(yaml::file(&[yaml::to_yaml(value)?]))
}

fn two<A: serde::Serialize, B: serde::Serialize>(a: &A, b: &B) -> Result<String, Error> {
    Ok(yaml::file(&[yaml::to_yaml(a)?, yaml::to_yaml(b)?]))
}

/// The strategic-merge patch making the manager watch every namespace: the env entry of the
/// seed README, with the base's `valueFrom` removed.
fn watch_all_namespaces_patch() -> Value {
    let mut env = json!(WatchNamespace::All.env());
    env["valueFrom"] = Value::Null;
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": NAME },
        "spec": { "template": { "spec": { "containers": [
            { "name": CONTAINER, "env": [env] }
        ] } } },
    })
}

/// Every file of the kustomize tree, with paths relative to the repository root.
pub fn files() -> Result<Vec<(PathBuf, String)>, Error> {
    let root = PathBuf::from(DIR);
    let values = Values::default();
    let id = Identity::kustomize();
    let Rules {
        cluster,
        watched,
        leader_election,
    } = rbac::rules();
    let mut files = Vec::new();

    let crd_dir = root.join("crd");
    let crd_files = crds::files()?;
    let crd_names: Vec<&str> = crd_files.iter().map(|(n, _)| n.as_str()).collect();
    files.push((
        crd_dir.join("kustomization.yaml"),
        one(&kustomization(None, &crd_names, &[]))?,
    ));
    for (name, text) in &crd_files {
        files.push((crd_dir.join(name), text.clone()));
    }

    let base = root.join("base");
    let nodes = rbac::nodes_role_name(NAME);
    let election = rbac::leader_election_role_name(NAME);
    let base_files = [
        (
            "service_account.yaml",
            one(&manager::service_account(&values, &id))?,
        ),
        ("manager.yaml", one(&manager::deployment(&values, &id))?),
        ("metrics_service.yaml", one(&manager::metrics_service(&id))?),
        (
            "nodes_role.yaml",
            two(
                &rbac::cluster_role(&nodes, cluster),
                &rbac::cluster_role_binding(&nodes, NAME, None),
            )?,
        ),
        ("aggregate_roles.yaml", {
            let [edit, view] = rbac::aggregate_roles(NAME);
            two(&edit, &view)?
        }),
        (
            "leader_election_role.yaml",
            two(
                &rbac::role(&election, None, leader_election),
                &rbac::role_binding(&election, None, NAME, None),
            )?,
        ),
    ];
    let names: Vec<&str> = base_files.iter().map(|(n, _)| *n).collect();
    files.push((
        base.join("kustomization.yaml"),
        one(&kustomization(None, &names, &[]))?,
    ));
    files.extend(base_files.map(|(n, text)| (base.join(n), text)));

    let overlays = root.join("overlays");
    let watched_name = rbac::watched_role_name(NAME);
    let namespaced = overlays.join(OVERLAYS[0]);
    files.push((
        namespaced.join("kustomization.yaml"),
        one(&kustomization(
            Some(NAMESPACED_NAMESPACE),
            &["../../crd", "../../base", "role.yaml"],
            &[],
        ))?,
    ));
    files.push((
        namespaced.join("role.yaml"),
        two(
            &rbac::role(&watched_name, None, watched.clone()),
            &rbac::role_binding(&watched_name, None, NAME, None),
        )?,
    ));

    let cluster_wide = overlays.join(OVERLAYS[1]);
    files.push((
        cluster_wide.join("kustomization.yaml"),
        one(&kustomization(
            Some(CLUSTER_WIDE_NAMESPACE),
            &[
                "../../crd",
                "../../base",
                "namespace.yaml",
                "cluster_role.yaml",
            ],
            &["watch_all_namespaces.yaml"],
        ))?,
    ));
    files.push((
        cluster_wide.join("namespace.yaml"),
        one(&json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": CLUSTER_WIDE_NAMESPACE },
        }))?,
    ));
    files.push((
        cluster_wide.join("cluster_role.yaml"),
        two(
            &rbac::cluster_role(&watched_name, watched),
            &rbac::cluster_role_binding(&watched_name, NAME, None),
        )?,
    ));
    files.push((
        cluster_wide.join("watch_all_namespaces.yaml"),
        one(&watch_all_namespaces_patch())?,
    ));

    let monitor = root.join(SERVICE_MONITOR_COMPONENT);
    let mut component = kustomization(None, &["servicemonitor.yaml"], &[]);
    component["apiVersion"] = json!("kustomize.config.k8s.io/v1alpha1");
    component["kind"] = json!("Component");
    files.push((monitor.join("kustomization.yaml"), one(&component)?));
    files.push((
        monitor.join("servicemonitor.yaml"),
        one(&service_monitor(&id))?,
    ));
    Ok(files)
}

/// The Prometheus Operator ServiceMonitor of the metrics Service (the chart's, with its
/// defaults), for overlays that list the component.
fn service_monitor(id: &Identity) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": { "name": id.name, "labels": id.labels },
        "spec": {
            "selector": { "matchLabels": id.labels },
            "endpoints": [{
                "port": METRICS_PORT_NAME,
                "path": "/metrics",
                "interval": Values::default().service_monitor.interval,
            }],
        },
    })
}
