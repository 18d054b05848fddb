//! `rollout undo <eds> [--to-revision N]`: writes a revision's pod template into the
//! ExtendedDaemonSet's `spec.template`.
//!
//! The write is a JSON merge patch computed from the live template to the chosen one (keys the
//! chosen template lacks are set to `null`, so nothing of the newer template survives), carrying
//! `metadata.resourceVersion` so a concurrent change of the object fails the write instead of
//! being overwritten.

use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::{Map, Value, json};

use super::{Revision, available, current, history::find, revisions};
use crate::plugin::{
    annotate::object_ref,
    client::{get_eds, list_owned_ers},
    error::{Error, Result},
};
use eds_api::{ExtendedDaemonSet, constants::PLUGIN_FIELD_MANAGER};

/// The revision to roll back to: `to` if given, else the newest revision older than the current
/// one (the newest revision when the spec's template is in none yet).
pub fn target<'a>(
    eds: &ExtendedDaemonSet,
    revisions: &'a [Revision],
    to: Option<u64>,
) -> Result<&'a Revision> {
    if let Some(n) = to {
        return find(eds, revisions, n);
    }
    let below = current(eds, revisions).unwrap_or(u64::MAX);
    revisions
        .iter()
        .rev()
        .find(|r| r.number < below)
        .ok_or_else(|| Error::NoPreviousRevision {
            eds: object_ref(eds),
            available: available(revisions),
        })
}

/// The JSON merge patch that turns `from` into `to`: changed keys get their new value, removed
/// keys `null`; arrays are replaced whole, as merge patches do.
pub fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, old) in a {
                match b.get(key) {
                    None => {
                        patch.insert(key.clone(), Value::Null);
                    }
                    Some(new) if new != old => {
                        patch.insert(key.clone(), merge_diff(old, new));
                    }
                    Some(_) => {}
                }
            }
            for (key, new) in b {
                if !a.contains_key(key) {
                    patch.insert(key.clone(), new.clone());
                }
            }
            Value::Object(patch)
        }
        _ => to.clone(),
    }
}

/// The patch writing `revision`'s template into the ExtendedDaemonSet, or `None` when the spec
/// already has it.
pub fn undo_patch(eds: &ExtendedDaemonSet, revision: &Revision) -> Result<Option<Value>> {
    if revision.ers.spec.template == eds.spec.template {
        return Ok(None);
    }
    let to_value = |t| {
        serde_json::to_value(t).map_err(|e| Error::Print {
            what: "a pod template".into(),
            message: e.to_string(),
        })
    };
    let from = to_value(&eds.spec.template)?;
    let to = to_value(&revision.ers.spec.template)?;
    Ok(Some(json!({
        "metadata": { "resourceVersion": eds.resource_version() },
        "spec": { "template": merge_diff(&from, &to) },
    })))
}

/// Runs `rollout undo`.
pub async fn undo(
    client: &Client,
    namespace: &str,
    name: &str,
    to_revision: Option<u64>,
) -> Result<String> {
    let eds = get_eds(client, namespace, name).await?;
    let revs = revisions(list_owned_ers(client, &eds).await?);
    let rev = target(&eds, &revs, to_revision)?;
    let Some(patch) = undo_patch(&eds, rev)? else {
        return Ok(format!(
            "ExtendedDaemonSet {namespace}/{name}: spec.template is already revision {} (no change)\n",
            rev.number
        ));
    };
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams {
        field_manager: Some(PLUGIN_FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(name, &params, &Patch::Merge(patch))
        .await
        .map_err(|e| {
            Error::api(
                format!("cannot roll back ExtendedDaemonSet {namespace}/{name}"),
                e,
            )
        })?;
    Ok(format!(
        "ExtendedDaemonSet {namespace}/{name}: rolled back to revision {} (ERS {})\n",
        rev.number,
        rev.ers.name_any()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    fn fixture() -> (ExtendedDaemonSet, Vec<Revision>) {
        let mut eds = testing::eds("foo");
        eds.metadata.resource_version = Some("42".into());
        let revs = revisions(vec![
            testing::ers(&eds, "foo-a", "x:1", "unknown", 0, Some(1)),
            testing::ers(&eds, "foo-b", "x:2", "unknown", 1, Some(2)),
            testing::ers(
                &eds,
                "foo-c",
                "registry.k8s.io/pause:3.0",
                "active",
                2,
                Some(3),
            ),
            testing::ers(&eds, "foo-d", "x:4", "canary-failed", 3, Some(4)),
        ]);
        (eds, revs)
    }

    #[test]
    fn default_target_is_the_revision_before_the_current_one() {
        let (eds, revs) = fixture();
        assert_eq!(target(&eds, &revs, None).unwrap().number, 2);
        assert_eq!(target(&eds, &revs, Some(4)).unwrap().number, 4);
        let err = target(&eds, &revs[2..], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ExtendedDaemonSet default/foo has no previous revision: available revisions 3, 4"
        );
    }

    #[test]
    fn patch_replaces_the_template_and_guards_the_resource_version() {
        let (eds, revs) = fixture();
        let patch = undo_patch(&eds, &revs[1]).unwrap().unwrap();
        assert_eq!(
            patch,
            json!({
                "metadata": {"resourceVersion": "42"},
                "spec": {"template": {"spec": {"containers": [{"name": "daemon", "image": "x:2"}]}}}
            })
        );
        assert_eq!(undo_patch(&eds, &revs[2]).unwrap(), None, "already current");
    }

    #[test]
    fn merge_diff_nulls_removed_keys() {
        let from = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]});
        let to = json!({"b": {"c": 2, "d": 4, "f": 5}, "e": [2]});
        assert_eq!(
            merge_diff(&from, &to),
            json!({"a": null, "b": {"d": 4, "f": 5}, "e": [2]})
        );
    }
}
