//! ConfigMap and Secret references of a pod, and what the kubelet makes of missing ones:
//! a missing volume source keeps the pod in `ContainerCreating` (`FailedMount`), a missing
//! env source or key fails the container with `CreateContainerConfigError`. Optional
//! references never block.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Pod, Volume};

use super::lifecycle::Blocks;

/// The kind of object a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    ConfigMap,
    Secret,
}

impl Source {
    fn lower(self) -> &'static str {
        match self {
            Self::ConfigMap => "configmap",
            Self::Secret => "secret",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::ConfigMap => "ConfigMap",
            Self::Secret => "Secret",
        }
    }
}

/// Who uses a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum User {
    Volume(String),
    Container(String),
}

/// One reference to a ConfigMap or Secret (and possibly one of its keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub source: Source,
    pub name: String,
    pub key: Option<String>,
    pub optional: bool,
    pub user: User,
}

/// Every non-optional reference of the pod's volumes and containers (init containers too).
pub(crate) fn references(pod: &Pod) -> Vec<Reference> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let mut refs = Vec::new();
    for volume in spec.volumes.iter().flatten() {
        volume_refs(volume, &mut refs);
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers);
    for container in containers {
        container_refs(container, &mut refs);
    }
    refs.retain(|r| !r.optional);
    refs
}

fn volume_refs(volume: &Volume, out: &mut Vec<Reference>) {
    let user = || User::Volume(volume.name.clone());
    let mut push = |source, name: &str, keys: Vec<String>, optional: Option<bool>| {
        let optional = optional.unwrap_or(false);
        let name = name.to_string();
        if keys.is_empty() {
            out.push(Reference {
                source,
                name: name.clone(),
                key: None,
                optional,
                user: user(),
            });
        }
        for key in keys {
            let key = Some(key);
            out.push(Reference {
                source,
                name: name.clone(),
                key,
                optional,
                user: user(),
            });
        }
    };
    if let Some(cm) = &volume.config_map {
        let keys = cm.items.iter().flatten().map(|i| i.key.clone()).collect();
        push(Source::ConfigMap, &cm.name, keys, cm.optional);
    }
    if let Some(secret) = &volume.secret {
        let keys = secret
            .items
            .iter()
            .flatten()
            .map(|i| i.key.clone())
            .collect();
        let name = secret.secret_name.clone().unwrap_or_default();
        push(Source::Secret, &name, keys, secret.optional);
    }
    for projection in volume
        .projected
        .iter()
        .flat_map(|p| p.sources.iter().flatten())
    {
        if let Some(cm) = &projection.config_map {
            let keys = cm.items.iter().flatten().map(|i| i.key.clone()).collect();
            push(Source::ConfigMap, &cm.name, keys, cm.optional);
        }
        if let Some(secret) = &projection.secret {
            let keys = secret
                .items
                .iter()
                .flatten()
                .map(|i| i.key.clone())
                .collect();
            push(Source::Secret, &secret.name, keys, secret.optional);
        }
    }
}

fn container_refs(container: &Container, out: &mut Vec<Reference>) {
    let user = || User::Container(container.name.clone());
    for env in container.env.iter().flatten() {
        let Some(from) = &env.value_from else {
            continue;
        };
        if let Some(r) = &from.config_map_key_ref {
            out.push(Reference {
                source: Source::ConfigMap,
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional.unwrap_or(false),
                user: user(),
            });
        }
        if let Some(r) = &from.secret_key_ref {
            out.push(Reference {
                source: Source::Secret,
                name: r.name.clone(),
                key: Some(r.key.clone()),
                optional: r.optional.unwrap_or(false),
                user: user(),
            });
        }
    }
    for from in container.env_from.iter().flatten() {
        if let Some(r) = &from.config_map_ref {
            let optional = r.optional.unwrap_or(false);
            out.push(Reference {
                source: Source::ConfigMap,
                name: r.name.clone(),
                key: None,
                optional,
                user: user(),
            });
        }
        if let Some(r) = &from.secret_ref {
            let optional = r.optional.unwrap_or(false);
            out.push(Reference {
                source: Source::Secret,
                name: r.name.clone(),
                key: None,
                optional,
                user: user(),
            });
        }
    }
}

/// The objects found for a pod's references: `(source, name)` -> its keys, absent when the
/// object does not exist.
pub(crate) type Found = BTreeMap<(Source, String), BTreeSet<String>>;

/// What the missing references block, with the kubelet's messages.
pub(crate) fn blocks(namespace: &str, refs: &[Reference], found: &Found) -> Blocks {
    let mut blocks = Blocks::default();
    for r in refs {
        let keys = found.get(&(r.source, r.name.clone()));
        let problem = match (keys, &r.key) {
            (None, _) => Some(format!("{} \"{}\" not found", r.source.lower(), r.name)),
            (Some(keys), Some(key)) if !keys.contains(key) => Some(match r.user {
                User::Volume(_) => format!(
                    "{} references non-existent config key: {key}",
                    r.source.lower()
                ),
                User::Container(_) => format!(
                    "couldn't find key {key} in {} {namespace}/{}",
                    r.source.kind(),
                    r.name
                ),
            }),
            _ => None,
        };
        let Some(problem) = problem else {
            continue;
        };
        match &r.user {
            User::Volume(volume) => {
                blocks.volume.get_or_insert_with(|| {
                    format!("MountVolume.SetUp failed for volume \"{volume}\" : {problem}")
                });
            }
            User::Container(container) => {
                blocks
                    .containers
                    .entry(container.clone())
                    .or_insert(problem);
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests;
