//! A minimal OpenAPI v3 discovery (`/openapi/v3`, `/openapi/v3/apis/<g>/<v>`).
//!
//! kubectl reads it only to learn that the server validates fields itself (the PATCH
//! operation of each kind lists the `fieldValidation` query parameter); it then skips its
//! client-side schema validation. So each document lists, per resource, a PATCH operation
//! with its `x-kubernetes-group-version-kind` and that parameter, and no schemas.
//! (`/openapi/v2` is not served: kubectl only falls back to it when v3 is missing.)

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::resources::Registry;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: the served group versions and where their documents are.
pub fn root(reg: &Registry) -> Value {
    let gvs: BTreeSet<String> = reg
        .all()
        .flat_map(|r| r.versions.iter().map(|v| gv_path(&r.group, v)))
        .collect();
    let paths: Map<String, Value> = gvs
        .into_iter()
        .map(|p| {
            let url = format!("/openapi/v3/{p}");
            (p, json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// `/openapi/v3/<gv path>`, if the group version is served.
pub fn group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    for r in reg.all().filter(|r| r.group == group && r.serves(version)) {
        let prefix = format!("/{}", gv_path(group, version));
        let item = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        let patch = json!({
            "operationId": format!("patch{}", r.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {
                "group": r.group, "version": version, "kind": r.kind,
            },
            "parameters": [
                { "name": "fieldValidation", "in": "query", "schema": { "type": "string" } },
                { "name": "fieldManager", "in": "query", "schema": { "type": "string" } },
                { "name": "dryRun", "in": "query", "schema": { "type": "string" } },
                { "name": "force", "in": "query", "schema": { "type": "boolean" } },
            ],
            "responses": { "200": { "description": "OK" } },
        });
        paths.insert(item, json!({ "patch": patch }));
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "v1.33.0" },
        "paths": paths,
        "components": { "schemas": {} },
    }))
}
