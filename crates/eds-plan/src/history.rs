//! The revisions (ERSs) of an ExtendedDaemonSet: which one is the target, which one is active,
//! their revision numbers, their desired objects and which old ones are deleted.
//!
//! An ERS's identity is the hash of its template, not its name: an ERS left by the upstream
//! controller (`<eds>-<random>`, md5 `templatehash`) whose template equals the current one is
//! adopted as the target, so switching controllers does not roll any pod. We differ from
//! upstream, which deletes every unused ERS: like Deployments, we keep `revisionHistoryLimit`
//! old ERSs (at zero pods) for `rollout undo`, and never delete an ERS that still has pods.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{ObjectRef, pod::controller_ref, revision};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetSpec,
    constants::keys,
};

/// One revision: an existing ERS, or the target ERS about to be created.
pub struct Rev<'a> {
    /// ERS name.
    pub name: String,
    /// Hash of its template.
    pub hash: String,
    /// The ERS; `None` for a target not created yet.
    pub ers: Option<&'a ExtendedDaemonSetReplicaSet>,
    /// Its `revision` annotation.
    pub number: Option<i64>,
    /// Creation time.
    pub created: Option<Timestamp>,
}

impl Rev<'_> {
    fn deleting(&self) -> bool {
        self.ers
            .is_some_and(|e| e.metadata.deletion_timestamp.is_some())
    }
}

/// All revisions of one ExtendedDaemonSet, sorted by name.
pub struct Revisions<'a> {
    /// The revisions.
    pub revs: Vec<Rev<'a>>,
    /// Index of the target (current template) revision.
    pub target: usize,
    by_name: HashMap<String, usize>,
}

impl<'a> Revisions<'a> {
    /// Indexes `erss` and finds (or names) the target revision of `template_hash`.
    pub fn new(erss: &'a [ExtendedDaemonSetReplicaSet], eds: &str, template_hash: &str) -> Self {
        let mut revs: Vec<Rev<'a>> = erss
            .iter()
            .map(|e| Rev {
                name: e.metadata.name.clone().unwrap_or_default(),
                hash: revision::template_hash(&e.spec.template),
                ers: Some(e),
                number: e
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(keys::REVISION_ANNOTATION))
                    .and_then(|n| n.parse().ok()),
                created: e.metadata.creation_timestamp.as_ref().map(|t| t.0),
            })
            .collect();
        revs.sort_by(|a, b| a.name.cmp(&b.name));
        revs.dedup_by(|a, b| a.name == b.name);
        let own_name = revision::ers_name(eds, template_hash);
        // Our own name first, then the oldest adopted one.
        let target = revs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.hash == template_hash && !r.deleting())
            .min_by_key(|(_, r)| (r.name != own_name, r.created, r.name.clone()))
            .map(|(i, _)| i);
        let target = match target {
            Some(i) => i,
            None => {
                revs.push(Rev {
                    name: own_name,
                    hash: template_hash.to_string(),
                    ers: None,
                    number: None,
                    created: None,
                });
                revs.sort_by(|a, b| a.name.cmp(&b.name));
                revs.iter()
                    .position(|r| r.ers.is_none())
                    .unwrap_or_default()
            }
        };
        let by_name = revs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        Self {
            revs,
            target,
            by_name,
        }
    }

    /// Index of the revision named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The active revision before this plan: the one `status.activeReplicaSet` names; if that
    /// is unknown (status lost, state file without status), the existing revision with the most
    /// pods, so a lost status never rolls every node at once. `None` for a new ExtendedDaemonSet.
    pub fn active(&self, status_name: Option<&str>, pods_per_rev: &[usize]) -> Option<usize> {
        if let Some(i) = status_name.and_then(|n| self.index(n))
            && self.revs[i].ers.is_some()
            && !self.revs[i].deleting()
        {
            return Some(i);
        }
        (0..self.revs.len())
            .filter(|&i| self.revs[i].ers.is_some() && pods_per_rev[i] > 0)
            .max_by_key(|&i| (pods_per_rev[i], self.revs[i].number, self.revs[i].created))
    }

    /// Revision numbers after this plan: the target is always the highest (a rollback bumps
    /// it, as Deployments do); revisions without a number get one in creation order.
    pub fn numbers(&self) -> Vec<i64> {
        let mut numbers: Vec<Option<i64>> = self.revs.iter().map(|r| r.number).collect();
        let first = numbers.iter().flatten().max().copied().unwrap_or(0) + 1;
        let mut unnumbered: Vec<usize> = (0..self.revs.len())
            .filter(|&i| numbers[i].is_none() && i != self.target)
            .collect();
        unnumbered.sort_by_key(|&i| (self.revs[i].created, i));
        for (next, i) in (first..).zip(unnumbered) {
            numbers[i] = Some(next);
        }
        let top = (0..self.revs.len())
            .filter(|&i| i != self.target)
            .filter_map(|i| numbers[i])
            .max()
            .unwrap_or(0);
        if numbers[self.target].is_none_or(|n| n <= top) {
            numbers[self.target] = Some(top + 1);
        }
        numbers.into_iter().map(Option::unwrap_or_default).collect()
    }
}

/// The desired ERS object of revision `rev`, or `None` when the cluster's already has every
/// field we manage (nothing to apply).
pub fn desired_ers(
    eds: &ExtendedDaemonSet,
    rev: &Rev<'_>,
    number: i64,
    is_target: bool,
) -> Option<ExtendedDaemonSetReplicaSet> {
    let eds_name = eds.metadata.name.clone().unwrap_or_default();
    // The target copies the ExtendedDaemonSet's labels (upstream); older revisions keep theirs
    // and only need the name label.
    let mut labels = match is_target {
        true => eds.metadata.labels.clone().unwrap_or_default(),
        false => BTreeMap::new(),
    };
    labels.insert(keys::EDS_NAME_LABEL.into(), eds_name);
    let existing = rev.ers.map(|e| &e.metadata);
    let mut annotations = BTreeMap::new();
    let hash = existing
        .and_then(|m| m.annotations.as_ref()?.get(keys::TEMPLATE_HASH_ANNOTATION))
        .cloned()
        .unwrap_or_else(|| rev.hash.clone());
    annotations.insert(keys::TEMPLATE_HASH_ANNOTATION.to_string(), hash);
    annotations.insert(keys::REVISION_ANNOTATION.to_string(), number.to_string());
    let owner = controller_ref(eds);
    let spec = match rev.ers {
        Some(e) => {
            let mut spec = e.spec.clone();
            if is_target {
                spec.selector = eds.spec.selector.clone();
            }
            spec
        }
        None => ExtendedDaemonSetReplicaSetSpec {
            selector: eds.spec.selector.clone(),
            template: eds.spec.template.clone(),
            template_generation: Some(rev.hash.clone()),
        },
    };
    if let Some(meta) = existing {
        let has = |have: &Option<BTreeMap<String, String>>, want: &BTreeMap<String, String>| {
            let have = have.as_ref();
            want.iter()
                .all(|(k, v)| have.and_then(|h| h.get(k)) == Some(v))
        };
        let owned = meta
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.uid == owner.uid && o.kind == owner.kind);
        if has(&meta.labels, &labels)
            && has(&meta.annotations, &annotations)
            && owned
            && rev.ers.is_some_and(|e| e.spec == spec)
        {
            return None;
        }
    }
    let mut object = ExtendedDaemonSetReplicaSet::new(&rev.name, spec);
    object.metadata = ObjectMeta {
        name: Some(rev.name.clone()),
        namespace: eds.metadata.namespace.clone(),
        labels: Some(labels),
        annotations: Some(annotations),
        owner_references: Some(vec![owner]),
        ..ObjectMeta::default()
    };
    Some(object)
}

/// Old revisions to delete: not the target, not active before or after this plan, without
/// any pod, beyond the `limit` newest such revisions.
pub fn history_cleanup(
    revisions: &Revisions<'_>,
    keep: &[usize],
    pods_per_rev: &[usize],
    numbers: &[i64],
    limit: i32,
) -> Vec<ObjectRef> {
    let mut old: Vec<usize> = (0..revisions.revs.len())
        .filter(|i| !keep.contains(i) && *i != revisions.target)
        .filter(|&i| revisions.revs[i].ers.is_some() && !revisions.revs[i].deleting())
        .collect();
    // Newest first: the ones kept for rollback are the most recent.
    old.sort_by_key(|&i| std::cmp::Reverse((numbers[i], revisions.revs[i].created)));
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut kept = 0;
    let mut deletes = Vec::new();
    for i in old {
        if pods_per_rev[i] > 0 {
            continue;
        }
        if kept < limit {
            kept += 1;
            continue;
        }
        let meta = revisions.revs[i].ers.map(|e| &e.metadata);
        deletes.push(ObjectRef {
            name: revisions.revs[i].name.clone(),
            uid: meta.and_then(|m| m.uid.clone()),
            resource_version: meta.and_then(|m| m.resource_version.clone()),
        });
    }
    deletes.sort_by(|a, b| a.name.cmp(&b.name));
    deletes
}
