//! PATCH: JSON patch, merge patch, strategic merge patch and server-side apply, selected by
//! the request's content type, plus the pod `/binding` subresource.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    apply,
    core::{Core, Target, WriteOpts},
    error::{ApiError, Cause},
    fieldset,
    managed::Writer,
    meta, strategic,
    write::Ownership,
};

/// Patch format, from `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply {
        /// `force=true`: take over conflicting fields.
        force: bool,
    },
}

impl PatchKind {
    /// The patch kind of a content type, if supported.
    pub fn from_content_type(ct: &str, force: bool) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchKind::Apply { force })
            }
            _ => None,
        }
    }
}

fn parse_body(body: &[u8], yaml_ok: bool) -> Result<Value, ApiError> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(e) if !yaml_ok => Err(ApiError::BadRequest(format!("invalid JSON body: {e}"))),
        Err(_) => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
            serde_saphyr::from_str(text)
                .map_err(|e| ApiError::BadRequest(format!("invalid YAML body: {e}")))
        }
    }
}

impl Core {
    /// Patches `name` through `t`; returns the object and whether apply created it.
    pub fn patch(
        &mut self,
        t: &Target,
        name: &str,
        kind: PatchKind,
        body: &[u8],
        o: &WriteOpts,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let info = t.info.clone();
        let patch = parse_body(body, matches!(kind, PatchKind::Apply { .. }))?;
        let old = self.store.get(&info.key(), &t.namespace, name).cloned();
        if let PatchKind::Apply { force } = kind {
            // Apply creates through the main resource only, as upstream.
            if old.is_none() && t.sub == super::core::Sub::Status {
                return Err(ApiError::not_found(&info.plural, &info.group, name));
            }
            return self.apply(t, name, old, &patch, force, o);
        }
        let Some(old) = old else {
            return Err(ApiError::not_found(&info.plural, &info.group, name));
        };
        let mut new = (*old).clone();
        match kind {
            PatchKind::Json => {
                let ops: json_patch::Patch = serde_json::from_value(patch)
                    .map_err(|e| ApiError::BadRequest(format!("invalid JSON patch: {e}")))?;
                json_patch::patch(&mut new, &ops).map_err(|e| {
                    ApiError::invalid(
                        &info.kind,
                        &info.group,
                        name,
                        vec![Cause {
                            reason: "FieldValueInvalid".into(),
                            message: format!("the JSON patch cannot be applied: {e}"),
                            field: String::new(),
                        }],
                    )
                })?;
            }
            PatchKind::Merge => json_patch::merge(&mut new, &patch),
            PatchKind::Strategic => {
                if !info.strategic {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "the body of the request was in an unknown format - accepted media \
                         types include: application/json-patch+json, \
                         application/merge-patch+json, application/apply-patch+yaml (strategic \
                         merge patch is not supported for {})",
                        info.kind
                    )));
                }
                strategic::patch(&mut new, &patch);
            }
            PatchKind::Apply { .. } => unreachable!("handled above"),
        }
        let obj = self.commit(t, &old, new, Ownership::Update, o)?;
        Ok((obj, false))
    }

    fn apply(
        &mut self,
        t: &Target,
        name: &str,
        live: Option<Arc<Value>>,
        config: &Value,
        force: bool,
        o: &WriteOpts,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let info = t.info.clone();
        if o.manager.is_empty() {
            return Err(ApiError::BadRequest(
                "PATCH requests of type apply require fieldManager to be set".into(),
            ));
        }
        let api_version = t.api_version();
        if config.get("apiVersion").and_then(Value::as_str) != Some(api_version.as_str())
            || config.get("kind").and_then(Value::as_str) != Some(info.kind.as_str())
        {
            return Err(ApiError::BadRequest(format!(
                "apply configuration must have apiVersion \"{api_version}\" and kind \"{}\"",
                info.kind
            )));
        }
        // kube-apiserver refuses to let an applier write field ownership itself; an empty list
        // (or null) means none and passes, as there.
        if config
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty())
        {
            return Err(ApiError::BadRequest(
                "metadata.managedFields must be nil".into(),
            ));
        }
        // A configuration without a name applies to the object of the URL (kube-lease-manager
        // sends such patches); a different name is an error.
        let named;
        let config = if meta::name(config).is_empty() {
            named = {
                let mut c = config.clone();
                meta::set_meta(&mut c, "name", Value::String(name.to_string()));
                c
            };
            &named
        } else {
            config
        };
        if meta::name(config) != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta::name(config)
            )));
        }
        let now = meta::now_rfc3339();
        let writer = Writer {
            manager: &o.manager,
            api_version: &api_version,
            subresource: t.sub.name(),
            scope: t.scope(),
            now: &now,
            lists: t.info.lists(&t.version),
        };
        let entries = live
            .as_ref()
            .map(|l| self.store.managed(&info.key(), l))
            .unwrap_or_default();
        let (merged, entries) = apply::apply(live.as_deref(), config, entries, &writer, force)
            .map_err(|conflicts| conflict_error(t, name, &conflicts))?;
        match live {
            None => {
                let created = self.create(t, merged, Ownership::Applied(entries), o)?;
                Ok((created, true))
            }
            Some(old) => {
                let obj = self.commit(t, &old, merged, Ownership::Applied(entries), o)?;
                Ok((obj, false))
            }
        }
    }

    /// `POST pods/<name>/binding`: assigns the pod to a node.
    pub fn bind(&mut self, t: &Target, name: &str, body: &[u8]) -> Result<Value, ApiError> {
        let info = t.info.clone();
        let binding: Value = parse_body(body, false)?;
        let node = binding
            .pointer("/target/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::BadRequest("binding target.name is required".into()))?
            .to_string();
        let Some(old) = self.store.get(&info.key(), &t.namespace, name).cloned() else {
            return Err(ApiError::not_found(&info.plural, &info.group, name));
        };
        if let Some(current) = old.pointer("/spec/nodeName").and_then(Value::as_str) {
            return Err(ApiError::Conflict {
                message: format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is \
                     already assigned to node \"{current}\""
                ),
                kind: "pods/binding".into(),
                name: name.into(),
                causes: Vec::new(),
            });
        }
        let mut new = (*old).clone();
        new["spec"]["nodeName"] = Value::String(node);
        let cond = json!({ "type": "PodScheduled", "status": "True",
                           "lastTransitionTime": meta::now_rfc3339() });
        let conds = new["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut conds: Vec<Value> = conds
            .into_iter()
            .filter(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"))
            .collect();
        conds.push(cond);
        new["status"]["conditions"] = Value::Array(conds);
        let binding = Target {
            sub: super::core::Sub::Binding,
            ..t.clone()
        };
        let o = WriteOpts {
            dry_run: false,
            manager: "kube-scheduler".into(),
            fields: Default::default(),
        };
        self.commit(&binding, &old, new, Ownership::Update, &o)?;
        Ok(
            json!({ "kind": "Status", "apiVersion": "v1", "metadata": {},
                   "status": "Success", "code": 201 }),
        )
    }
}

fn conflict_error(t: &Target, name: &str, conflicts: &[apply::Conflict]) -> ApiError {
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with \"{}\" using {}", c.manager, c.api_version),
            field: fieldset::display(&c.path),
        })
        .collect();
    let n = causes.len();
    let list: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.message, c.field))
        .collect();
    ApiError::Conflict {
        message: format!(
            "Apply failed with {n} conflict{}: {}",
            if n == 1 { "" } else { "s" },
            list.join("\n")
        ),
        kind: t.info.plural.clone(),
        name: name.to_string(),
        causes,
    }
}
