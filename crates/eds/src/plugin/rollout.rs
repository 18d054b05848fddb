//! `rollout history|undo|status`: revisions of an ExtendedDaemonSet and the rollout's progress.
//!
//! A revision is one ExtendedDaemonSetReplicaSet of the ExtendedDaemonSet. Revisions are
//! numbered by the ERS's revision annotation when every ERS has a distinct one; otherwise (ERSs
//! made by a controller that does not write it) they are numbered 1, 2, ... in creation order.

pub mod history;
pub mod status;
pub mod undo;

use std::collections::BTreeSet;

use kube::ResourceExt;

use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, constants::keys};

/// One revision: its number and its replica set.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// Revision number, from 1.
    pub number: u64,
    /// The replica set holding the revision's template.
    pub ers: ExtendedDaemonSetReplicaSet,
}

/// Numbers and orders the replica sets of one ExtendedDaemonSet, oldest first.
pub fn revisions(mut replica_sets: Vec<ExtendedDaemonSetReplicaSet>) -> Vec<Revision> {
    let annotated: Vec<Option<u64>> = replica_sets.iter().map(revision_annotation).collect();
    let distinct: BTreeSet<u64> = annotated.iter().flatten().copied().collect();
    if annotated.iter().all(Option::is_some) && distinct.len() == replica_sets.len() {
        let mut revs: Vec<Revision> = replica_sets
            .into_iter()
            .zip(annotated)
            .map(|(ers, n)| Revision {
                number: n.unwrap_or_default(),
                ers,
            })
            .collect();
        revs.sort_by_key(|r| r.number);
        return revs;
    }
    replica_sets.sort_by(|a, b| {
        let key = |e: &ExtendedDaemonSetReplicaSet| {
            (
                e.metadata.creation_timestamp.clone(),
                revision_annotation(e),
                e.name_any(),
            )
        };
        key(a).cmp(&key(b))
    });
    replica_sets
        .into_iter()
        .zip(1..)
        .map(|(ers, number)| Revision { number, ers })
        .collect()
}

/// The revision annotation of an ERS, when it is a positive integer.
fn revision_annotation(ers: &ExtendedDaemonSetReplicaSet) -> Option<u64> {
    ers.annotations()
        .get(keys::REVISION_ANNOTATION)
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
}

/// The revision whose template is the ExtendedDaemonSet's `spec.template` (the newest if
/// several are), or `None` when the spec has not been rolled out into a revision yet.
pub fn current(eds: &ExtendedDaemonSet, revisions: &[Revision]) -> Option<u64> {
    revisions
        .iter()
        .rev()
        .find(|r| r.ers.spec.template == eds.spec.template)
        .map(|r| r.number)
}

/// The revision numbers, for messages: `1, 2, 3`, or `none`.
pub fn available(revisions: &[Revision]) -> String {
    if revisions.is_empty() {
        return "none".into();
    }
    revisions
        .iter()
        .map(|r| r.number.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    #[test]
    fn annotations_number_the_revisions() {
        let eds = testing::eds("foo");
        let revs = revisions(vec![
            testing::ers(&eds, "foo-b", "x:2", "canary", 0, Some(7)),
            testing::ers(&eds, "foo-a", "x:1", "active", 5, Some(3)),
        ]);
        let got: Vec<(u64, String)> = revs.iter().map(|r| (r.number, r.ers.name_any())).collect();
        assert_eq!(got, [(3, "foo-a".to_string()), (7, "foo-b".to_string())]);
        assert_eq!(available(&revs), "3, 7");
    }

    #[test]
    fn creation_time_numbers_them_when_an_annotation_is_missing() {
        let eds = testing::eds("foo");
        let revs = revisions(vec![
            testing::ers(&eds, "foo-c", "x:3", "canary", 9, Some(2)),
            testing::ers(&eds, "foo-a", "x:1", "unknown", 1, None),
            testing::ers(&eds, "foo-b", "x:2", "active", 4, Some(2)),
        ]);
        let got: Vec<(u64, String)> = revs.iter().map(|r| (r.number, r.ers.name_any())).collect();
        assert_eq!(
            got,
            [
                (1, "foo-a".into()),
                (2, "foo-b".into()),
                (3, "foo-c".into())
            ]
        );
        assert_eq!(available(&[]), "none");
    }

    #[test]
    fn current_is_the_revision_of_the_spec_template() {
        let eds = testing::eds("foo"); // runs registry.k8s.io/pause:3.0
        let revs = revisions(vec![
            testing::ers(
                &eds,
                "foo-a",
                "registry.k8s.io/pause:3.0",
                "active",
                1,
                Some(1),
            ),
            testing::ers(
                &eds,
                "foo-b",
                "registry.k8s.io/pause:3.1",
                "unknown",
                2,
                Some(2),
            ),
        ]);
        assert_eq!(current(&eds, &revs), Some(1));
        assert_eq!(current(&eds, &revs[1..]), None);
    }
}
