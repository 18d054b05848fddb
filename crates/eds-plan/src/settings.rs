//! Container resources per node: ExtendedDaemonsetSettings, then node annotations.
//!
//! Upstream: the Setting whose nodeSelector matches the node replaces the resources of the
//! containers it names; then the node annotation
//! `resources.extendeddaemonset.datadoghq.com/<ns>.<eds>.<container>` (JSON
//! ResourceRequirements) replaces that container's resources on that node. When Settings of one
//! ExtendedDaemonSet overlap on a node, the newest wins and the others are in error. We differ:
//! conflicts are judged per referenced ExtendedDaemonSet and on the current nodes, so they are
//! re-evaluated when nodes change. A malformed annotation is ignored (with a Warning event),
//! never fatal: a value that is not JSON ResourceRequirements, a field other than
//! `limits`, `requests` and `claims`, a quantity the API server would refuse, a request above its
//! limit, or a container the template does not have.

mod overrides;

use std::collections::BTreeMap;

use kube::core::Selector;

pub use overrides::{NodeOverrides, has_overrides, node_overrides, overrides_prefix};

use super::{
    digest::NodeDigest,
    placement::LabelMatcher,
    revision::{canonical_json, sha256_hex},
};
use eds_api::{ExtendedDaemonsetSetting, ExtendedDaemonsetSettingStatus, constants::setting_state};

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
    selector: LabelMatcher,
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
                    selector: selector.into(),
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
    pub fn for_node(&mut self, node: &NodeDigest) -> Option<usize> {
        if self.candidates.is_empty() {
            return None;
        }
        let mut matching = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.selector.matches(node))
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
