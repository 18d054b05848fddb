//! Annotation writes on an ExtendedDaemonSet: the canary and rollout switches the controller
//! reads. Each verb computes an [`AnnotationEdit`] from the object (pure, testable), then one
//! JSON merge patch on `metadata.annotations` applies it (`null` removes a key).

use std::collections::BTreeMap;

use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::{Map, Value, json};

use super::{
    client::get_eds,
    error::{Error, ObjectRef, Result},
};
use eds_api::{ExtendedDaemonSet, constants::PLUGIN_FIELD_MANAGER};

/// Annotation changes of one verb, with what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationEdit {
    /// Key to new value; `None` removes the key.
    pub changes: BTreeMap<&'static str, Option<String>>,
    /// What the change does, e.g. `canary foo-xdj4b paused`.
    pub done: String,
    /// What to say when the annotations already hold the change, e.g. `canary already paused`.
    pub already: String,
}

impl AnnotationEdit {
    /// An edit with no changes yet.
    pub fn new(done: impl Into<String>, already: impl Into<String>) -> Self {
        Self {
            changes: BTreeMap::new(),
            done: done.into(),
            already: already.into(),
        }
    }

    /// Sets `key` to `value`.
    pub fn set(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.changes.insert(key, Some(value.into()));
        self
    }

    /// Removes `key`.
    pub fn remove(mut self, key: &'static str) -> Self {
        self.changes.insert(key, None);
        self
    }

    /// Whether the object's annotations already hold every change.
    pub fn holds_on(&self, eds: &ExtendedDaemonSet) -> bool {
        let current = eds.annotations();
        self.changes
            .iter()
            .all(|(key, value)| current.get(*key) == value.as_ref())
    }

    /// The JSON merge patch that applies the changes.
    pub fn patch(&self) -> Value {
        let annotations: Map<String, Value> = self
            .changes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone().map_or(Value::Null, Value::String)))
            .collect();
        json!({ "metadata": { "annotations": annotations } })
    }
}

/// `namespace/name` of an ExtendedDaemonSet.
pub(crate) fn object_ref(eds: &ExtendedDaemonSet) -> ObjectRef {
    ObjectRef::new(eds.namespace().unwrap_or_default(), eds.name_any())
}

/// Reads the ExtendedDaemonSet, computes the edit with `edit` and patches the annotations unless
/// they already hold it. Returns the line to print.
pub async fn annotate(
    client: &Client,
    namespace: &str,
    name: &str,
    edit: impl FnOnce(&ExtendedDaemonSet) -> Result<AnnotationEdit>,
) -> Result<String> {
    let eds = get_eds(client, namespace, name).await?;
    let edit = edit(&eds)?;
    if edit.holds_on(&eds) {
        return Ok(format!(
            "ExtendedDaemonSet {namespace}/{name}: {} (no change)\n",
            edit.already
        ));
    }
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams {
        field_manager: Some(PLUGIN_FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(name, &params, &Patch::Merge(edit.patch()))
        .await
        .map_err(|e| {
            Error::api(
                format!("cannot annotate ExtendedDaemonSet {namespace}/{name}"),
                e,
            )
        })?;
    Ok(format!(
        "ExtendedDaemonSet {namespace}/{name}: {}\n",
        edit.done
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eds_with(annotations: &[(&str, &str)]) -> ExtendedDaemonSet {
        let mut eds = ExtendedDaemonSet::new(
            "foo",
            serde_json::from_value(json!({
                "template": {}, "strategy": {}
            }))
            .unwrap(),
        );
        eds.metadata.annotations = Some(
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        eds
    }

    #[test]
    fn patch_sets_and_removes_with_null() {
        let edit = AnnotationEdit::new("done", "already")
            .set("a/b", "x")
            .remove("c/d");
        assert_eq!(
            edit.patch(),
            json!({"metadata": {"annotations": {"a/b": "x", "c/d": null}}})
        );
    }

    #[test]
    fn holds_only_when_every_change_is_in_place() {
        let edit = AnnotationEdit::new("done", "already")
            .set("a", "x")
            .remove("b");
        assert!(edit.holds_on(&eds_with(&[("a", "x")])));
        assert!(!edit.holds_on(&eds_with(&[("a", "x"), ("b", "y")])));
        assert!(!edit.holds_on(&eds_with(&[("a", "z")])));
        assert!(!edit.holds_on(&eds_with(&[])));
    }
}
