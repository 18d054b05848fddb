//! Create and update: the path every write (PUT, patch, apply) ends in, with the real
//! server's rules for system metadata, status subresources, generation, admission,
//! managedFields, finalizers and dry run.

use std::sync::Arc;

use serde_json::Value;

#[cfg(test)]
mod parsed_tests;
mod pod;
mod resources;
mod rules;

use rules::{invalid_name, required, scope_to_subresource, spec_changed, unchanged, writer};

use super::{
    core::{Core, Target, WriteOpts},
    defaults,
    error::{ApiError, Cause},
    managed::{self, Entry},
    meta,
};

/// Metadata only the server sets; copied from the stored object on update.
const SYSTEM_META: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "selfLink",
];

/// How field ownership of a write is recorded.
pub enum Ownership {
    /// An `Update` by the request's field manager.
    Update,
    /// Entries already computed by server-side apply.
    Applied(Vec<Entry>),
}

impl Core {
    /// Creates `obj` through `t`.
    pub fn create(
        &mut self,
        t: &Target,
        mut obj: Value,
        own: Ownership,
        o: &WriteOpts,
    ) -> Result<Arc<Value>, ApiError> {
        let info = t.info.clone();
        if !obj.is_object() {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        pod::check_decodes(t, &obj)?;
        obj["apiVersion"] = Value::String(t.api_version());
        obj["kind"] = Value::String(info.kind.clone());
        let mut name = meta::name(&obj).to_string();
        if name.is_empty()
            && let Some(prefix) = meta::meta_str(&obj, "generateName")
        {
            name = format!("{prefix}{}", self.name_suffix());
            meta::set_meta(&mut obj, "name", Value::String(name.clone()));
        }
        if name.is_empty() {
            return Err(ApiError::invalid(
                &info.kind,
                &info.group,
                "",
                vec![required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        self.check_namespace(t, &mut obj)?;
        if !meta::valid_name(&name) {
            return Err(invalid_name(t, &name));
        }
        if self.store.get(&info.key(), &t.namespace, &name).is_some() {
            return Err(ApiError::AlreadyExists {
                kind: info.plural.clone(),
                name,
            });
        }
        for f in SYSTEM_META
            .iter()
            .chain(&["resourceVersion", "managedFields"])
        {
            meta::set_meta(&mut obj, f, Value::Null);
        }
        let uid = self.uid();
        meta::set_meta(&mut obj, "uid", Value::String(uid));
        meta::set_meta(&mut obj, "creationTimestamp", meta::now_rfc3339().into());
        if info.generation {
            meta::set_meta(&mut obj, "generation", 1.into());
        }
        defaults::on_write(&info, &mut obj);
        pod::validate_create(t, &obj)?;
        super::events::validate(&info.key(), &obj)?;
        defaults::on_create(&info, &mut obj);
        defaults::secret_string_data(&info, &mut obj);
        self.admit(t, &mut obj, None, o)?;
        let now = meta::now_rfc3339();
        let entries = match own {
            Ownership::Applied(entries) => entries,
            Ownership::Update => {
                let mut entries = Vec::new();
                let api_version = t.api_version();
                let writer = writer(t, o, &api_version, &now);
                managed::track_update(&mut entries, None, &obj, &writer);
                entries
            }
        };
        let written = managed::write(&mut obj, entries, None);
        if o.dry_run {
            return Ok(Arc::new(obj));
        }
        if info.group == "apiextensions.k8s.io" {
            self.register_crd(&mut obj)?;
        }
        let stored = self
            .store
            .put_parsed(&info.key(), obj, Some(written.into()));
        self.mirror_put(&info.key(), &stored);
        Ok(stored)
    }

    /// Namespace rules: namespaced objects take the path's namespace, which must exist.
    fn check_namespace(&self, t: &Target, obj: &mut Value) -> Result<(), ApiError> {
        if !t.info.namespaced {
            meta::set_meta(obj, "namespace", Value::Null);
            return Ok(());
        }
        let body_ns = meta::namespace(obj);
        if !body_ns.is_empty() && body_ns != t.namespace {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on \
                 the request"
                    .into(),
            ));
        }
        meta::set_meta(obj, "namespace", Value::String(t.namespace.clone()));
        let ns_key = super::resources::ResKey::new("", "namespaces");
        match self.store.get(&ns_key, "", &t.namespace) {
            None => Err(ApiError::not_found("namespaces", "", &t.namespace)),
            Some(ns) if meta::is_deleting(ns) => Err(ApiError::Forbidden {
                message: format!(
                    "{} \"{}\" is forbidden: unable to create new content in namespace {} \
                     because it is being terminated",
                    t.info.plural,
                    meta::name(obj),
                    t.namespace
                ),
                kind: t.info.plural.clone(),
                name: meta::name(obj).to_string(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Applies `fieldValidation` (unknown fields of custom resources, duplicate fields of the
    /// body), then runs schema admission of custom resources.
    fn admit(
        &mut self,
        t: &Target,
        obj: &mut Value,
        old: Option<&Value>,
        o: &WriteOpts,
    ) -> Result<(), ApiError> {
        let adm = t.info.admission.get(&t.version);
        let unknown = adm.map(|a| a.unknown_fields(obj)).unwrap_or_default();
        let object = match meta::namespace(obj) {
            "" => meta::name(obj).to_string(),
            ns => format!("{ns}/{}", meta::name(obj)),
        };
        let warnings = o
            .fields
            .check(&t.info.kind, &t.api_version(), &object, &unknown)?;
        self.warnings.extend(warnings);
        let Some(adm) = adm else {
            return Ok(());
        };
        adm.admit(obj, old).map_err(|causes| {
            ApiError::invalid(&t.info.kind, &t.info.group, meta::name(obj), causes)
        })
    }

    /// Replaces `old` with `new` through `t` (PUT, patch and apply end here).
    pub fn commit(
        &mut self,
        t: &Target,
        old: &Arc<Value>,
        mut new: Value,
        own: Ownership,
        o: &WriteOpts,
    ) -> Result<Arc<Value>, ApiError> {
        let info = t.info.clone();
        let name = meta::name(old).to_string();
        if !new.is_object() {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        pod::check_decodes(t, &new)?;
        if let Some(rv) = meta::meta_str(&new, "resourceVersion")
            && !rv.is_empty()
            && Some(rv) != meta::meta_str(old, "resourceVersion")
        {
            return Err(ApiError::stale(&info.plural, &info.group, &name));
        }
        new = scope_to_subresource(t, old, new);
        new["apiVersion"] = Value::String(t.api_version());
        new["kind"] = Value::String(info.kind.clone());
        for f in SYSTEM_META
            .iter()
            .chain(&["name", "namespace", "resourceVersion"])
        {
            let v = old.get("metadata").and_then(|m| m.get(*f)).cloned();
            meta::set_meta(&mut new, f, v.unwrap_or(Value::Null));
        }
        if meta::is_deleting(old) {
            let before = meta::finalizers(old);
            if meta::finalizers(&new).iter().any(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    &info.kind,
                    &info.group,
                    &name,
                    vec![Cause {
                        reason: "FieldValueForbidden".into(),
                        message: "Forbidden: no new finalizers can be added if the object is \
                                  being deleted"
                            .into(),
                        field: "metadata.finalizers".into(),
                    }],
                ));
            }
        }
        defaults::secret_string_data(&info, &mut new);
        defaults::on_write(&info, &mut new);
        pod::check_update(t, old, &new)?;
        super::events::validate(&info.key(), &new)?;
        self.admit(t, &mut new, Some(old), o)?;
        if (info.generation || info.custom) && spec_changed(&info, old, &new) {
            let g = old
                .get("metadata")
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta::set_meta(&mut new, "generation", (g + 1).into());
        }
        let now = meta::now_rfc3339();
        let entries = match own {
            Ownership::Applied(entries) => entries,
            Ownership::Update => {
                let mut entries = self.store.managed(&info.key(), old);
                let api_version = t.api_version();
                let writer = writer(t, o, &api_version, &now);
                managed::track_update(&mut entries, Some(old), &new, &writer);
                entries
            }
        };
        let written = managed::write(&mut new, entries, Some(old));
        if unchanged(old, &new) {
            return Ok(old.clone());
        }
        // As upstream's "should delete during update": the last finalizer is gone and no grace
        // period is running (a terminating pod stays until its kubelet deletes it).
        let grace_running = new
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .is_some_and(|g| g > 0);
        if meta::is_deleting(&new) && meta::finalizers(&new).is_empty() && !grace_running {
            if o.dry_run {
                return Ok(Arc::new(new));
            }
            return Ok(self.remove(&info.key(), new));
        }
        if o.dry_run {
            return Ok(Arc::new(new));
        }
        if info.group == "apiextensions.k8s.io" {
            self.register_crd(&mut new)?;
        }
        let stored = self
            .store
            .put_parsed(&info.key(), new, Some(written.into()));
        self.mirror_put(&info.key(), &stored);
        Ok(stored)
    }

    /// Removes an object for good and queues its dependents for garbage collection.
    pub fn remove(&mut self, res: &super::resources::ResKey, last: Value) -> Arc<Value> {
        self.deleted.push(meta::uid(&last).to_string());
        if res.group == "apiextensions.k8s.io" {
            self.unregister_crd(&last);
        }
        self.mirror_remove(res, &last);
        self.store.remove(res, last)
    }
}
