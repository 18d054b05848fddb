//! The resource registry: which resources exist, their scope, names and behaviour.
//!
//! Built-in kinds are registered at start; a CustomResourceDefinition registers its resource
//! when it is created and removes it when it is deleted, as the real server's CRD handler does.

use std::{collections::BTreeMap, sync::Arc};

use super::{admission::Admission, lists::Lists, table::Column};

/// Key of a resource in the store: API group (empty for core) and plural name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResKey {
    /// API group, empty for the core group.
    pub group: String,
    /// Plural resource name, e.g. `pods`.
    pub plural: String,
}

impl ResKey {
    /// Builds a key.
    pub fn new(group: &str, plural: &str) -> Self {
        ResKey {
            group: group.to_string(),
            plural: plural.to_string(),
        }
    }
}

/// Everything the server knows about one resource.
#[derive(Clone)]
pub struct ResourceInfo {
    /// API group (empty for core).
    pub group: String,
    /// Served versions, the preferred (storage) version first.
    pub versions: Vec<String>,
    /// Kind, e.g. `Pod`.
    pub kind: String,
    /// Plural name, e.g. `pods`.
    pub plural: String,
    /// Singular name, e.g. `pod`.
    pub singular: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names for kubectl (`eds`).
    pub short_names: Vec<String>,
    /// Categories for kubectl (`all`).
    pub categories: Vec<String>,
    /// Whether `/status` is a subresource: then the main endpoint ignores `status` and
    /// `/status` ignores everything else.
    pub status_subresource: bool,
    /// Whether `metadata.generation` tracks spec changes.
    pub generation: bool,
    /// Whether strategic merge patch is accepted (built-in kinds only, as upstream).
    pub strategic: bool,
    /// Whether this resource was registered by a CRD.
    pub custom: bool,
    /// Schema admission per version (custom resources only).
    pub admission: BTreeMap<String, Arc<dyn Admission>>,
    /// `additionalPrinterColumns` per version (custom resources only).
    pub columns: BTreeMap<String, Vec<Column>>,
    /// How lists merge under server-side apply, per version (custom resources only: the
    /// built-in kinds follow their types, see [`Lists::Builtin`]).
    pub lists: BTreeMap<String, Lists>,
}

impl ResourceInfo {
    /// How the lists of this resource merge at `version`.
    pub fn lists(&self, version: &str) -> &Lists {
        static BUILTIN: Lists = Lists::Builtin;
        self.lists.get(version).unwrap_or(&BUILTIN)
    }

    /// Key of this resource.
    pub fn key(&self) -> ResKey {
        ResKey::new(&self.group, &self.plural)
    }

    /// `apiVersion` of this resource at `version`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// Whether `version` is served.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version)
    }
}

/// Options of a built-in resource, in table order.
struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    generation: bool,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        namespaced: false,
        short: &["ns"],
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        namespaced: false,
        short: &["no"],
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Pod",
        plural: "pods",
        namespaced: true,
        short: &["po"],
        status: true,
        generation: true,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        namespaced: true,
        short: &["cm"],
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        namespaced: true,
        short: &[],
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        kind: "Event",
        plural: "events",
        namespaced: true,
        short: &["ev"],
        status: false,
        generation: false,
    },
    Builtin {
        group: "events.k8s.io",
        version: "v1",
        kind: "Event",
        plural: "events",
        namespaced: true,
        short: &["ev"],
        status: false,
        generation: false,
    },
    Builtin {
        group: "apps",
        version: "v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        namespaced: true,
        short: &["ds"],
        status: true,
        generation: true,
    },
    Builtin {
        group: "apps",
        version: "v1",
        kind: "ControllerRevision",
        plural: "controllerrevisions",
        namespaced: true,
        short: &[],
        status: false,
        generation: false,
    },
    Builtin {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        plural: "leases",
        namespaced: true,
        short: &[],
        status: false,
        generation: false,
    },
    Builtin {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        namespaced: false,
        short: &["crd", "crds"],
        status: true,
        generation: true,
    },
];

/// All resources known to the server, by key.
#[derive(Clone, Default)]
pub struct Registry {
    resources: BTreeMap<ResKey, Arc<ResourceInfo>>,
}

impl Registry {
    /// A registry with the built-in kinds.
    pub fn builtin() -> Self {
        let mut reg = Registry::default();
        for b in BUILTINS {
            reg.insert(ResourceInfo {
                group: b.group.to_string(),
                versions: vec![b.version.to_string()],
                kind: b.kind.to_string(),
                plural: b.plural.to_string(),
                singular: b.kind.to_lowercase(),
                namespaced: b.namespaced,
                short_names: b.short.iter().map(|s| s.to_string()).collect(),
                categories: if b.plural == "pods" || b.plural == "daemonsets" {
                    vec!["all".to_string()]
                } else {
                    Vec::new()
                },
                status_subresource: b.status,
                generation: b.generation,
                strategic: true,
                custom: false,
                admission: BTreeMap::new(),
                lists: BTreeMap::new(),
                columns: BTreeMap::new(),
            });
        }
        reg
    }

    /// Adds or replaces a resource.
    pub fn insert(&mut self, info: ResourceInfo) {
        self.resources.insert(info.key(), Arc::new(info));
    }

    /// Removes a resource.
    pub fn remove(&mut self, key: &ResKey) {
        self.resources.remove(key);
    }

    /// The resource with this key.
    pub fn get(&self, key: &ResKey) -> Option<&Arc<ResourceInfo>> {
        self.resources.get(key)
    }

    /// The resource served at `group`/`version` with this plural.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.resources
            .get(&ResKey::new(group, plural))
            .filter(|r| r.serves(version))
            .cloned()
    }

    /// Every resource, in key order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ResourceInfo>> {
        self.resources.values()
    }
}
