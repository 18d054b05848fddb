//! Container resources per node: ExtendedDaemonsetSettings, then node annotations.
//!
//! Upstream: the Setting whose nodeSelector matches the node replaces the resources of the
//! containers it names; then the node annotation
//! `resources.extendeddaemonset.datadoghq.com/<ns>.<eds>.<container>` (JSON
//! ResourceRequirements) replaces that container's resources on that node. When Settings of one
//! ExtendedDaemonSet overlap on a node, the newest wins and the others are in error. We differ:
//! conflicts are judged per referenced ExtendedDaemonSet and on the current nodes, so they are
//! re-evaluated when nodes change. A malformed annotation is ignored (with a Warning event),
//! never fatal.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, ResourceRequirements};
use kube::core::{Selector, SelectorExt};

use super::revision::{canonical_json, sha256_hex};
use eds_api::{
    ExtendedDaemonsetSetting, ExtendedDaemonsetSettingStatus,
    constants::{keys, setting_state},
};

/// Hex characters kept of the Setting and node-override hashes.
const HASH_LEN: usize = 16;

/// One Setting that may apply to nodes.
pub struct Candidate<'a> {
    /// The Setting.
    pub setting: &'a ExtendedDaemonsetSetting,
    /// Its name.
    pub name: &'a str,
    /// Hash of its container resources (pod annotation `settinghash`).
    pub hash: String,
    selector: Selector,
}

/// The Settings of one ExtendedDaemonSet, newest first, and their statuses.
pub struct Settings<'a> {
    /// Usable Settings, newest first.
    pub candidates: Vec<Candidate<'a>>,
    /// Status of every Setting that references the ExtendedDaemonSet, by name.
    pub statuses: BTreeMap<String, ExtendedDaemonsetSettingStatus>,
}

impl<'a> Settings<'a> {
    /// Selects the Settings that reference `eds` and checks each against `containers` (the
    /// template's container names). Call [`Settings::for_node`] for every node, then read
    /// `statuses`.
    pub fn new(settings: &'a [ExtendedDaemonsetSetting], eds: &str, containers: &[&str]) -> Self {
        let mut mine: Vec<&ExtendedDaemonsetSetting> = settings
            .iter()
            .filter(|s| s.spec.reference.name == eds && s.metadata.deletion_timestamp.is_none())
            .collect();
        // Newest first; the name breaks ties so the order never depends on the input's.
        mine.sort_by(|a, b| {
            let created = |s: &ExtendedDaemonsetSetting| s.metadata.creation_timestamp.clone();
            created(b)
                .cmp(&created(a))
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
        });
        let mut statuses = BTreeMap::new();
        let mut candidates = Vec::new();
        for setting in mine {
            let name = setting.metadata.name.as_deref().unwrap_or_default();
            let unknown: Vec<&str> = setting
                .spec
                .containers
                .iter()
                .map(|c| c.name.as_str())
                .filter(|c| !containers.contains(c))
                .collect();
            let selector = Selector::try_from(setting.spec.node_selector.clone());
            let error = match (&selector, unknown.is_empty()) {
                (Err(e), _) => Some(format!("invalid nodeSelector: {e}")),
                (_, false) => Some(format!(
                    "container(s) {} not found in the ExtendedDaemonSet template",
                    unknown.join(", ")
                )),
                _ => None,
            };
            statuses.insert(name.to_string(), status(error.clone()));
            if let (Ok(selector), None) = (selector, error) {
                let containers = serde_json::to_value(&setting.spec.containers).unwrap_or_default();
                let mut hash = sha256_hex(canonical_json(&containers).as_bytes());
                hash.truncate(HASH_LEN);
                candidates.push(Candidate {
                    setting,
                    name,
                    hash,
                    selector,
                });
            }
        }
        Self {
            candidates,
            statuses,
        }
    }

    /// The Setting that applies to `node` (the newest matching one); older matching ones are
    /// marked in conflict.
    pub fn for_node(&mut self, node: &Node) -> Option<usize> {
        let empty = BTreeMap::new();
        let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
        let mut matching = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.selector.matches(labels))
            .map(|(i, _)| i);
        let winner = matching.next()?;
        for loser in matching {
            let message = format!(
                "conflict with another ExtendedDaemonsetSetting: {}",
                self.candidates[winner].name
            );
            self.statuses.insert(
                self.candidates[loser].name.to_string(),
                status(Some(message)),
            );
        }
        Some(winner)
    }
}

fn status(error: Option<String>) -> ExtendedDaemonsetSettingStatus {
    ExtendedDaemonsetSettingStatus {
        status: if error.is_some() {
            setting_state::ERROR
        } else {
            setting_state::VALID
        }
        .to_string(),
        error,
    }
}

/// The resource overrides a node's annotations set for the containers of one EDS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeOverrides {
    /// Valid overrides, by container name.
    pub resources: Vec<(String, ResourceRequirements)>,
    /// Malformed annotations: `(annotation key, parse error)`.
    pub errors: Vec<(String, String)>,
    /// Hash of the override annotations (pod annotation `nodehash`); `None` without any.
    pub hash: Option<String>,
}

/// Prefix of the override annotations of ExtendedDaemonSet `ns/eds` (the container name
/// follows).
pub fn overrides_prefix(ns: &str, eds: &str) -> String {
    keys::node_resources_annotation(ns, eds, "")
}

/// Reads the override annotations of `node` with `prefix` (see [`overrides_prefix`]).
pub fn node_overrides(node: &Node, prefix: &str) -> NodeOverrides {
    let mut out = NodeOverrides::default();
    let mut hashed = String::new();
    let Some(annotations) = node.metadata.annotations.as_ref() else {
        return out;
    };
    // A range scan reads only the annotations with the prefix (nodes carry many others), in
    // key order, so the hash does not depend on the order they were written in.
    let keys = annotations.range::<str, _>((
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    ));
    for (key, value) in keys {
        let Some(container) = key.strip_prefix(prefix) else {
            break;
        };
        hashed.push_str(key);
        hashed.push('=');
        hashed.push_str(value);
        hashed.push('\n');
        match serde_json::from_str::<ResourceRequirements>(value) {
            Ok(resources) => out.resources.push((container.to_string(), resources)),
            Err(e) => out.errors.push((key.clone(), e.to_string())),
        }
    }
    if !hashed.is_empty() {
        let mut hash = sha256_hex(hashed.as_bytes());
        hash.truncate(HASH_LEN);
        out.hash = Some(hash);
    }
    out
}
