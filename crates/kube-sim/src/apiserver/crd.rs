//! CustomResourceDefinitions: creating or updating one registers its resource (scope, names,
//! short names, categories, status subresource, compiled schemas) and marks it
//! `Established`; deleting one removes the resource and all its objects.

use std::{collections::BTreeMap, sync::Arc};

use serde_json::{Value, json};

use super::{
    admission,
    core::Core,
    error::{ApiError, Cause},
    lists, meta,
    resources::ResourceInfo,
    table::Column,
};

const KIND: &str = "CustomResourceDefinition";
const GROUP: &str = "apiextensions.k8s.io";

fn invalid(name: &str, field: &str, message: String) -> ApiError {
    ApiError::invalid(
        KIND,
        GROUP,
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message,
            field: field.into(),
        }],
    )
}

impl Core {
    /// Registers the resource a CRD defines and sets its status.
    pub fn register_crd(&mut self, crd: &mut Value) -> Result<(), ApiError> {
        let info = parse(crd)?;
        let existing = self.store.registry.get(&info.key());
        if existing.is_some_and(|r| !r.custom) {
            return Err(invalid(
                meta::name(crd),
                "spec.names.plural",
                format!("Invalid value: \"{}\": is a built-in resource", info.plural),
            ));
        }
        let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
        let stored = info.versions.first().cloned().unwrap_or_default();
        let now = meta::now_rfc3339();
        let cond = |t: &str, reason: &str, message: &str| {
            json!({ "type": t, "status": "True", "lastTransitionTime": now,
                    "reason": reason, "message": message })
        };
        crd["status"] = json!({
            "conditions": [
                cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "acceptedNames": names,
            "storedVersions": [stored],
        });
        self.store.registry.insert(info);
        Ok(())
    }

    /// Removes the resource a deleted CRD defined, with all its objects.
    pub fn unregister_crd(&mut self, crd: &Value) {
        let Ok(info) = parse(crd) else {
            return;
        };
        let key = info.key();
        let objects: Vec<Value> = self
            .store
            .iter(&key, None)
            .map(|(_, v)| (**v).clone())
            .collect();
        for obj in objects {
            self.deleted.push(meta::uid(&obj).to_string());
            self.store.remove(&key, obj);
        }
        self.store.drop_resource(&key);
    }
}

/// The resource a CRD defines; schema errors are 422s naming the field.
fn parse(crd: &Value) -> Result<ResourceInfo, ApiError> {
    let name = meta::name(crd);
    let spec = crd.get("spec").cloned().unwrap_or(json!({}));
    let s = |p: &str| {
        spec.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let group = s("/group");
    let plural = s("/names/plural");
    let kind = s("/names/kind");
    if group.is_empty() || plural.is_empty() || kind.is_empty() {
        return Err(invalid(
            name,
            "spec",
            "Required value: spec.group, spec.names.plural and spec.names.kind are required".into(),
        ));
    }
    if name != format!("{plural}.{group}") {
        return Err(invalid(
            name,
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let scope = s("/scope");
    let namespaced = match scope.as_str() {
        "Namespaced" => true,
        "Cluster" => false,
        other => {
            return Err(invalid(
                name,
                "spec.scope",
                format!(
                    "Unsupported value: \"{other}\": supported values: \"Cluster\", \"Namespaced\""
                ),
            ));
        }
    };
    let strings = |p: &str| -> Vec<String> {
        spec.pointer(p)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut served = Vec::new();
    let mut admission_by_version = BTreeMap::new();
    let mut lists_by_version = BTreeMap::new();
    let mut status_subresource = false;
    let mut columns = BTreeMap::new();
    for (i, v) in versions.iter().enumerate() {
        let vname = v.get("name").and_then(Value::as_str).unwrap_or("");
        let schema = v.pointer("/schema/openAPIV3Schema");
        let compiled = admission::compile(schema, &format!("spec.versions[{i}].schema"))
            .map_err(|causes| ApiError::invalid(KIND, GROUP, name, causes))?;
        admission_by_version.insert(vname.to_string(), compiled);
        if let Some(schema) = schema {
            let tree = Arc::new(lists::Node::from_schema(schema));
            lists_by_version.insert(vname.to_string(), lists::Lists::Schema(tree));
        }
        columns.insert(vname.to_string(), printer_columns(v));
        if v.pointer("/subresources/status").is_some() {
            status_subresource = true;
        }
        if v.get("served").and_then(Value::as_bool).unwrap_or(false) {
            // The storage version is served first, as the preferred version.
            if v.get("storage").and_then(Value::as_bool).unwrap_or(false) {
                served.insert(0, vname.to_string());
            } else {
                served.push(vname.to_string());
            }
        }
    }
    if served.is_empty() {
        return Err(invalid(
            name,
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    let singular = s("/names/singular");
    Ok(ResourceInfo {
        singular: if singular.is_empty() {
            kind.to_lowercase()
        } else {
            singular
        },
        short_names: strings("/names/shortNames"),
        categories: strings("/names/categories"),
        group,
        versions: served,
        kind,
        plural,
        namespaced,
        status_subresource,
        generation: true,
        strategic: false,
        custom: true,
        admission: admission_by_version,
        columns,
        lists: lists_by_version,
    })
}

/// A version's `additionalPrinterColumns`, with the real server's default of `Age`.
fn printer_columns(version: &Value) -> Vec<Column> {
    let Some(cols) = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
    else {
        return vec![Column {
            name: "Age".into(),
            kind: "date".into(),
            json_path: ".metadata.creationTimestamp".into(),
            priority: 0,
        }];
    };
    cols.iter()
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Column {
                name: s("name"),
                kind: s("type"),
                json_path: s("jsonPath"),
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
            }
        })
        .collect()
}
