//! `rollout history <eds> [--revision N]`.

use jiff::Timestamp;
use kube::{Client, ResourceExt};

use super::{Revision, available, current, revisions};
use crate::plugin::{
    annotate::object_ref,
    client::{get_eds, list_owned_ers},
    error::{Error, Result},
    output::to_yaml,
    table::{Table, age},
};
use eds_api::ExtendedDaemonSet;

/// The revision table: number, replica set, its status, its images and its age.
pub fn history_table(eds: &ExtendedDaemonSet, revisions: &[Revision], now: Timestamp) -> String {
    let title = match current(eds, revisions) {
        Some(n) => format!(
            "ExtendedDaemonSet {}: current revision {n}\n",
            object_ref(eds)
        ),
        None => format!(
            "ExtendedDaemonSet {}: spec.template is not rolled out into a revision yet\n",
            object_ref(eds)
        ),
    };
    if revisions.is_empty() {
        return format!("{title}No revisions found.\n");
    }
    let mut table = Table::new(["Revision", "ERS", "Status", "Images", "Age"]);
    for rev in revisions {
        let images: Vec<String> = rev
            .ers
            .spec
            .template
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .filter_map(|c| c.image.clone())
            .collect();
        table.row([
            rev.number.to_string(),
            rev.ers.name_any(),
            rev.ers
                .status
                .as_ref()
                .map(|s| s.status.clone())
                .unwrap_or_default(),
            images.join(","),
            age(rev.ers.metadata.creation_timestamp.as_ref(), now),
        ]);
    }
    title + &table.render()
}

/// Finds revision `number`, or [`Error::NoSuchRevision`] listing those that exist.
pub fn find<'a>(
    eds: &ExtendedDaemonSet,
    revisions: &'a [Revision],
    number: u64,
) -> Result<&'a Revision> {
    revisions
        .iter()
        .find(|r| r.number == number)
        .ok_or_else(|| Error::NoSuchRevision {
            eds: object_ref(eds),
            revision: number,
            available: available(revisions),
        })
}

/// The pod template of one revision as YAML, after a comment naming it.
pub fn revision_yaml(eds: &ExtendedDaemonSet, revision: &Revision) -> Result<String> {
    Ok(format!(
        "# ExtendedDaemonSet {} revision {} (ERS {}): pod template\n{}",
        object_ref(eds),
        revision.number,
        revision.ers.name_any(),
        to_yaml(&revision.ers.spec.template)?
    ))
}

/// Runs `rollout history`.
pub async fn history(
    client: &Client,
    namespace: &str,
    name: &str,
    revision: Option<u64>,
) -> Result<String> {
    let eds = get_eds(client, namespace, name).await?;
    let revs = revisions(list_owned_ers(client, &eds).await?);
    match revision {
        Some(n) => revision_yaml(&eds, find(&eds, &revs, n)?),
        None => Ok(history_table(&eds, &revs, Timestamp::now())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    fn fixture() -> (ExtendedDaemonSet, Vec<Revision>) {
        let eds = testing::eds("foo");
        let revs = revisions(vec![
            testing::ers(
                &eds,
                "foo-8z7lr",
                "registry.k8s.io/pause:3.0",
                "active",
                0,
                Some(1),
            ),
            testing::ers(
                &eds,
                "foo-xdj4b",
                "registry.k8s.io/pause:3.1",
                "canary",
                5,
                Some(2),
            ),
        ]);
        (eds, revs)
    }

    #[test]
    fn table() {
        let (eds, revs) = fixture();
        insta::assert_snapshot!(history_table(&eds, &revs, testing::now()));
    }

    #[test]
    fn one_revision_as_yaml() {
        let (eds, revs) = fixture();
        insta::assert_snapshot!(revision_yaml(&eds, find(&eds, &revs, 2).unwrap()).unwrap());
    }

    #[test]
    fn unknown_revision_lists_the_available_ones() {
        let (eds, revs) = fixture();
        let err = find(&eds, &revs, 9).unwrap_err();
        assert_eq!(
            err.to_string(),
            "revision 9 of ExtendedDaemonSet default/foo not found: available revisions 1, 2"
        );
    }
}
