//! Building a [`Snapshot`] from a list of Kubernetes objects (`eds plan --state FILE`).

use std::sync::Arc;

use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Node, Pod},
};
use kube::Resource;

use super::Snapshot;
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::EDS_NAME_LABEL,
};

/// Why a list of objects could not be turned into a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The YAML text could not be parsed.
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_saphyr::Error),
    /// A document has no `apiVersion` or `kind`.
    #[error("object #{index} has no apiVersion/kind; every document must be a Kubernetes object")]
    MissingKind {
        /// Position of the object in the input (0-based, after expanding lists).
        index: usize,
    },
    /// An object could not be read as its kind.
    #[error("object #{index} ({kind} {name:?}) is not a valid {kind}: {source}")]
    InvalidObject {
        /// Position of the object in the input.
        index: usize,
        /// Its `kind`.
        kind: String,
        /// Its `metadata.name`, if any.
        name: String,
        /// What serde rejected.
        source: serde_json::Error,
    },
    /// No ExtendedDaemonSet in the input.
    #[error("no ExtendedDaemonSet (datadoghq.com/v1alpha1) in the objects")]
    NoExtendedDaemonSet,
    /// Several ExtendedDaemonSets and no name to choose one.
    #[error("several ExtendedDaemonSets ({0}); name the one to plan")]
    AmbiguousExtendedDaemonSet(String),
    /// The named ExtendedDaemonSet is not in the input.
    #[error("ExtendedDaemonSet {0:?} is not in the objects")]
    ExtendedDaemonSetNotFound(String),
}

/// One object the planner reads.
#[derive(Clone, Debug, PartialEq)]
pub enum StateObject {
    /// An ExtendedDaemonSet.
    Eds(Box<ExtendedDaemonSet>),
    /// An ExtendedDaemonSetReplicaSet.
    Ers(Box<ExtendedDaemonSetReplicaSet>),
    /// A Pod.
    Pod(Box<Pod>),
    /// A Node.
    Node(Box<Node>),
    /// An ExtendedDaemonsetSetting.
    Setting(Box<ExtendedDaemonsetSetting>),
    /// A DaemonSet (the one named by `old-daemonset` tells whether a migration may proceed).
    DaemonSet(Box<DaemonSet>),
}

impl StateObject {
    /// Reads the objects of one JSON/YAML document: a single object or a `kind: List`.
    /// Kinds the planner does not read (Namespaces, Deployments, ...) are skipped.
    pub fn from_value(value: serde_json::Value) -> Result<Vec<StateObject>, SnapshotError> {
        let mut out = Vec::new();
        push_value(value, &mut out, &mut 0)?;
        Ok(out)
    }
}

fn push_value(
    value: serde_json::Value,
    out: &mut Vec<StateObject>,
    index: &mut usize,
) -> Result<(), SnapshotError> {
    if value.is_null() {
        return Ok(());
    }
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .map(str::to_string);
    let api_version = value.get("apiVersion").and_then(|k| k.as_str());
    let (Some(kind), Some(api_version)) = (kind, api_version.map(str::to_string)) else {
        return Err(SnapshotError::MissingKind { index: *index });
    };
    if kind == "List" || kind.ends_with("List") && value.get("items").is_some() {
        if let serde_json::Value::Object(mut map) = value
            && let Some(serde_json::Value::Array(items)) = map.remove("items")
        {
            for item in items {
                push_value(item, out, index)?;
            }
        }
        return Ok(());
    }
    let at = *index;
    *index += 1;
    let name = value
        .pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_string();
    let invalid = |source| SnapshotError::InvalidObject {
        index: at,
        kind: kind.clone(),
        name: name.clone(),
        source,
    };
    let group = api_version.split('/').next().unwrap_or_default();
    let object = match (group, kind.as_str()) {
        ("datadoghq.com", "ExtendedDaemonSet") => {
            StateObject::Eds(serde_json::from_value(value).map_err(invalid)?)
        }
        ("datadoghq.com", "ExtendedDaemonSetReplicaSet") => {
            StateObject::Ers(serde_json::from_value(value).map_err(invalid)?)
        }
        ("datadoghq.com", "ExtendedDaemonsetSetting") => {
            StateObject::Setting(serde_json::from_value(value).map_err(invalid)?)
        }
        ("v1", "Pod") => StateObject::Pod(serde_json::from_value(value).map_err(invalid)?),
        ("v1", "Node") => StateObject::Node(serde_json::from_value(value).map_err(invalid)?),
        ("apps", "DaemonSet") => {
            StateObject::DaemonSet(serde_json::from_value(value).map_err(invalid)?)
        }
        _ => return Ok(()),
    };
    out.push(object);
    Ok(())
}

impl Snapshot {
    /// Builds the snapshot of one ExtendedDaemonSet from a mixed list of objects: the
    /// ExtendedDaemonSet named `eds_name` (or the only one), its ERSs (owned by it or labelled
    /// with its name), its pods, the pods of its `old-daemonset`, all nodes and the Settings of
    /// its namespace. Objects of other namespaces or other ExtendedDaemonSets are left out.
    /// With an `old-daemonset` annotation, the state of that DaemonSet is read from the
    /// objects: [`OldDaemonSet::Missing`](super::OldDaemonSet::Missing) when it is not among
    /// them.
    pub fn from_objects(
        objects: impl IntoIterator<Item = StateObject>,
        eds_name: Option<&str>,
    ) -> Result<Snapshot, SnapshotError> {
        let (mut edss, mut daemonsets) = (Vec::new(), Vec::new());
        let (mut erss, mut pods, mut nodes, mut settings) = (vec![], vec![], vec![], vec![]);
        for object in objects {
            match object {
                StateObject::Eds(e) => edss.push(*e),
                StateObject::Ers(e) => erss.push(*e),
                StateObject::Pod(p) => pods.push(*p),
                StateObject::Node(n) => nodes.push(*n),
                StateObject::Setting(s) => settings.push(*s),
                StateObject::DaemonSet(d) => daemonsets.push(*d),
            }
        }
        let eds = pick_eds(edss, eds_name)?;
        let name = eds.metadata.name.clone().unwrap_or_default();
        let namespace = eds.metadata.namespace.clone();
        // Objects without a namespace (hand-written state files) belong to the EDS's.
        let same_ns = |ns: &Option<String>| namespace.is_none() || ns.is_none() || ns == &namespace;
        let old_ds = crate::Steering::of(&eds).old_daemonset;
        let mut snapshot = Snapshot::new(eds);
        snapshot.old_daemonset = old_ds.as_ref().map(|ds| {
            super::OldDaemonSet::of(daemonsets.iter().find(|d| {
                d.metadata.name.as_deref() == Some(ds.as_str()) && same_ns(&d.metadata.namespace)
            }))
        });
        snapshot.replica_sets = erss
            .into_iter()
            .filter(|e| same_ns(&e.metadata.namespace) && belongs_to(e.meta(), &name))
            .collect();
        for pod in pods.into_iter().filter(|p| same_ns(&p.metadata.namespace)) {
            if label(pod.meta(), EDS_NAME_LABEL) == Some(name.as_str()) {
                snapshot.pods.push(Arc::new(pod));
            } else if let Some(ds) = &old_ds
                && owned_by(pod.meta(), "DaemonSet", ds)
            {
                snapshot.old_daemonset_pods.push(Arc::new(pod));
            }
        }
        snapshot.nodes = nodes.into_iter().map(Arc::new).collect();
        snapshot.settings = settings
            .into_iter()
            .filter(|s| same_ns(&s.metadata.namespace))
            .collect();
        Ok(snapshot)
    }

    /// Builds a snapshot from YAML text: several documents (`---`) and/or `kind: List`s.
    pub fn from_yaml(text: &str, eds_name: Option<&str>) -> Result<Snapshot, SnapshotError> {
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text)?;
        let mut objects = Vec::new();
        let mut index = 0;
        for doc in docs {
            push_value(doc, &mut objects, &mut index)?;
        }
        Self::from_objects(objects, eds_name)
    }
}

fn pick_eds(
    mut edss: Vec<ExtendedDaemonSet>,
    name: Option<&str>,
) -> Result<ExtendedDaemonSet, SnapshotError> {
    match name {
        Some(name) => edss
            .into_iter()
            .find(|e| e.metadata.name.as_deref() == Some(name))
            .ok_or_else(|| SnapshotError::ExtendedDaemonSetNotFound(name.to_string())),
        None if edss.len() > 1 => {
            let mut names: Vec<_> = edss
                .iter()
                .map(|e| e.metadata.name.clone().unwrap_or_default())
                .collect();
            names.sort();
            Err(SnapshotError::AmbiguousExtendedDaemonSet(names.join(", ")))
        }
        None => edss.pop().ok_or(SnapshotError::NoExtendedDaemonSet),
    }
}

fn label<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn owned_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    kind: &str,
    name: &str,
) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == kind && o.name == name)
}

fn belongs_to(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    eds: &str,
) -> bool {
    owned_by(meta, "ExtendedDaemonSet", eds) || label(meta, EDS_NAME_LABEL) == Some(eds)
}
