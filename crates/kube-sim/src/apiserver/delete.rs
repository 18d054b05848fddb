//! Deletion: preconditions, finalizers, propagation policies and pod graceful deletion.
//!
//! An object with finalizers (or a propagation finalizer) only gets a `deletionTimestamp`;
//! it is removed when its last finalizer goes. A pod bound to a node is deleted gracefully:
//! it gets `deletionTimestamp` = now + grace period and the kubelet removes it; a pod not
//! bound, or deleted with grace 0, is removed at once.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    core::{Core, Target},
    error::{ApiError, qualified},
    meta,
};

/// Finalizer of foreground cascading deletion.
pub const FOREGROUND: &str = "foregroundDeletion";
/// Finalizer of orphaning deletion.
pub const ORPHAN: &str = "orphan";

/// `DeleteOptions` as sent in the body or query.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// Grace period; pods only.
    pub grace_period_seconds: Option<i64>,
    /// uid and resourceVersion the object must still have.
    pub preconditions: Option<Preconditions>,
    /// `Orphan`, `Background` or `Foreground`.
    pub propagation_policy: Option<String>,
    /// Legacy form of `propagationPolicy: Orphan`.
    pub orphan_dependents: Option<bool>,
    /// `["All"]` for a dry run.
    #[serde(default)]
    pub dry_run: Vec<String>,
}

/// Delete preconditions.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// Expected uid.
    pub uid: Option<String>,
    /// Expected resourceVersion.
    pub resource_version: Option<String>,
}

/// Result of a delete.
pub enum Deleted {
    /// Still there, with a deletionTimestamp (finalizers or grace period pending).
    Pending(Arc<Value>),
    /// Removed; the last state.
    Gone(Arc<Value>),
}

impl Core {
    /// Deletes `name` through `t`.
    pub fn delete(
        &mut self,
        t: &Target,
        name: &str,
        opts: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        let info = t.info.clone();
        let Some(old) = self.store.get(&info.key(), &t.namespace, name).cloned() else {
            return Err(ApiError::not_found(&info.plural, &info.group, name));
        };
        check_preconditions(t, &old, opts)?;
        let is_pod = info.group.is_empty() && info.plural == "pods";
        let mut grace = if is_pod {
            opts.grace_period_seconds.unwrap_or_else(|| {
                old.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30)
            })
        } else {
            0
        };
        if is_pod
            && old
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .is_none()
        {
            grace = 0;
        }
        let grace = grace.max(0);
        let policy = match (&opts.propagation_policy, opts.orphan_dependents) {
            (Some(p), _) => p.as_str(),
            (None, Some(true)) => "Orphan",
            _ => "Background",
        };
        let mut finalizers = meta::finalizers(&old);
        let added = match policy {
            "Orphan" => Some(ORPHAN),
            "Foreground" => Some(FOREGROUND),
            "Background" => None,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "propagationPolicy: Unsupported value: \"{other}\": supported values: \
                     \"Foreground\", \"Background\", \"Orphan\""
                )));
            }
        };
        if let Some(f) = added
            && !meta::is_deleting(&old)
            && !finalizers.iter().any(|x| x == f)
        {
            finalizers.push(f.to_string());
        }
        let namespace_kind = info.group.is_empty() && info.plural == "namespaces";
        if finalizers.is_empty() && grace == 0 && !namespace_kind {
            let last = (*old).clone();
            if dry_run {
                return Ok(Deleted::Gone(Arc::new(last)));
            }
            return Ok(Deleted::Gone(self.remove(&info.key(), last)));
        }
        let mut new = (*old).clone();
        let now = jiff::Timestamp::now();
        let when = now
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap_or(now);
        let shorter = old
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .is_none_or(|g| grace < g);
        if !meta::is_deleting(&old) || (is_pod && shorter) {
            meta::set_meta(
                &mut new,
                "deletionTimestamp",
                meta::format_time(when).into(),
            );
            meta::set_meta(&mut new, "deletionGracePeriodSeconds", grace.into());
            if info.generation || info.custom {
                let g = old
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                meta::set_meta(&mut new, "generation", (g + 1).into());
            }
        }
        if namespace_kind {
            new["status"] = json!({ "phase": "Terminating" });
        }
        meta::set_meta(&mut new, "finalizers", json!(finalizers));
        if finalizers.is_empty() {
            meta::set_meta(&mut new, "finalizers", Value::Null);
        }
        if *old == new {
            return Ok(Deleted::Pending(old));
        }
        if dry_run {
            return Ok(Deleted::Pending(Arc::new(new)));
        }
        // The garbage collector acts on the new deletionTimestamp (foreground, orphan,
        // namespace contents).
        self.deleted.push(meta::uid(&new).to_string());
        let stored = self.store.put(&info.key(), new);
        self.mirror_put(&info.key(), &stored);
        Ok(Deleted::Pending(stored))
    }
}

fn check_preconditions(t: &Target, old: &Value, opts: &DeleteOptions) -> Result<(), ApiError> {
    let Some(pre) = &opts.preconditions else {
        return Ok(());
    };
    let info = &t.info;
    let fail = |what: &str, want: &str, have: &str| ApiError::Conflict {
        message: format!(
            "Operation cannot be fulfilled on {} \"{}\": Precondition failed: {what} in \
             precondition: {want}, {what} in object meta: {have}",
            qualified(&info.plural, &info.group),
            meta::name(old)
        ),
        kind: info.plural.clone(),
        name: meta::name(old).to_string(),
        causes: Vec::new(),
    };
    if let Some(uid) = &pre.uid
        && uid != meta::uid(old)
    {
        return Err(fail("UID", uid, meta::uid(old)));
    }
    if let Some(rv) = &pre.resource_version
        && Some(rv.as_str()) != meta::meta_str(old, "resourceVersion")
    {
        return Err(fail(
            "ResourceVersion",
            rv,
            meta::meta_str(old, "resourceVersion").unwrap_or(""),
        ));
    }
    Ok(())
}
