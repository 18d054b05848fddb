//! The generated CRDs are structural schemas (what the API server requires of a v1 CRD), and
//! their printer columns name fields that exist. The CRD files themselves are golden files,
//! checked by `gen_is_fresh`.

use serde_json::Value;

/// Keywords a schema inside `allOf`/`anyOf`/`oneOf`/`not` must not set.
const FORBIDDEN_IN_JUNCTORS: [&str; 5] = [
    "description",
    "type",
    "default",
    "additionalProperties",
    "nullable",
];
/// Keywords no node of a v1 CRD schema may use.
const FORBIDDEN: [&str; 4] = ["$ref", "$schema", "definitions", "$defs"];
const JUNCTORS: [&str; 4] = ["allOf", "anyOf", "oneOf", "not"];

fn is_true(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// The sub-schemas of a junctor (`not` holds one schema, the others a list).
fn junctor_branches<'a>(schema: &'a Value, junctor: &str) -> Vec<&'a Value> {
    match schema.get(junctor) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Appends to `errors` every violation of the structural-schema rules under `schema`.
fn check(schema: &Value, path: &str, in_junctor: bool, errors: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        errors.push(format!("{path}: not a schema object"));
        return;
    };
    for key in FORBIDDEN {
        if object.contains_key(key) {
            errors.push(format!("{path}: {key} is not allowed"));
        }
    }
    let int_or_string = is_true(schema, "x-kubernetes-int-or-string");
    if in_junctor {
        for key in FORBIDDEN_IN_JUNCTORS {
            if object.contains_key(key) {
                errors.push(format!("{path}: {key} inside a junctor"));
            }
        }
    } else {
        let typed = object
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if !typed && !int_or_string && !is_true(schema, "x-kubernetes-preserve-unknown-fields") {
            errors.push(format!("{path}: no type"));
        }
    }
    if int_or_string && object.contains_key("type") {
        errors.push(format!("{path}: int-or-string must not set a type"));
    }
    if object.contains_key("properties") && object.contains_key("additionalProperties") {
        errors.push(format!("{path}: both properties and additionalProperties"));
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            check(property, &format!("{path}.{name}"), in_junctor, errors);
        }
    }
    match object.get("items") {
        Some(items @ Value::Object(_)) => check(items, &format!("{path}[]"), in_junctor, errors),
        Some(_) => errors.push(format!("{path}: items must be one schema")),
        None => {}
    }
    if let Some(additional @ Value::Object(_)) = object.get("additionalProperties") {
        check(additional, &format!("{path}{{}}"), in_junctor, errors);
    }
    for junctor in JUNCTORS {
        for (i, branch) in junctor_branches(schema, junctor).into_iter().enumerate() {
            let branch_path = format!("{path}/{junctor}[{i}]");
            // A field a junctor constrains must also be specified outside it.
            if let Some(fields) = branch.get("properties").and_then(Value::as_object) {
                for name in fields.keys() {
                    if schema.pointer(&format!("/properties/{name}")).is_none() {
                        errors.push(format!("{branch_path}.{name}: not specified outside"));
                    }
                }
            }
            if branch.get("items").is_some() && object.get("items").is_none() {
                errors.push(format!("{branch_path}: items not specified outside"));
            }
            check(branch, &branch_path, true, errors);
        }
    }
}

/// Root rules: an object whose `metadata` may only constrain `name` and `generateName`.
fn check_root(schema: &Value, errors: &mut Vec<String>) {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        errors.push("root: type must be object".to_string());
    }
    if let Some(metadata) = schema.pointer("/properties/metadata") {
        let allowed = ["type", "properties"];
        let extra: Vec<&String> = metadata
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        let fields: Vec<&String> = metadata
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| !["name", "generateName"].contains(&k.as_str()))
            .collect();
        if !extra.is_empty() || !fields.is_empty() {
            errors.push(format!("root.metadata: only name and generateName may be constrained ({extra:?} {fields:?})"));
        }
    }
    check(schema, "root", false, errors);
}

fn schemas() -> Vec<(String, Value)> {
    eds_deploy::crds::all()
        .iter()
        .flat_map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            crd.spec.versions.iter().map(move |v| {
                let schema = v
                    .schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref());
                (
                    format!("{name}/{}", v.name),
                    serde_json::to_value(schema.expect("every version has a schema")).unwrap(),
                )
            })
        })
        .collect()
}

#[test]
fn every_crd_schema_is_structural() {
    let schemas = schemas();
    assert_eq!(schemas.len(), 3);
    for (name, schema) in schemas {
        let mut errors = Vec::new();
        check_root(&schema, &mut errors);
        assert!(errors.is_empty(), "{name}:\n  {}", errors.join("\n  "));
    }
}

#[test]
fn the_check_rejects_non_structural_schemas() {
    let bad = serde_json::json!({
        "type": "object",
        "properties": {
            "untyped": {"description": "no type"},
            "junctor": {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "anyOf": [
                    {"type": "object", "properties": {"b": {"default": 1}}}
                ]
            },
            "ref": {"$ref": "#/definitions/X"},
            "both": {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}
        }
    });
    let mut errors = Vec::new();
    check_root(&bad, &mut errors);
    for expected in [
        "root.untyped: no type",
        "root.junctor/anyOf[0]: type inside a junctor",
        "root.junctor/anyOf[0].b: not specified outside",
        "root.junctor/anyOf[0].b: default inside a junctor",
        "root.ref: $ref is not allowed",
        "root.both: both properties and additionalProperties",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "{expected} not in {errors:?}"
        );
    }
}

#[test]
fn printer_columns_name_existing_fields() {
    for crd in eds_deploy::crds::all() {
        for version in &crd.spec.versions {
            let schema = serde_json::to_value(
                version
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap(),
            )
            .unwrap();
            for column in version.additional_printer_columns.iter().flatten() {
                let path = column.json_path.trim_start_matches('.');
                if path.starts_with("metadata.") {
                    continue; // ObjectMeta is not part of a CRD schema
                }
                let pointer: String = path
                    .split('.')
                    .map(|field| format!("/properties/{field}"))
                    .collect();
                assert!(
                    schema.pointer(&pointer).is_some(),
                    "{}: column {:?} path {} is not in the schema",
                    crd.spec.names.kind,
                    column.name,
                    column.json_path
                );
            }
        }
    }
}

#[test]
fn names_and_subresources_are_upstreams() {
    let crds = eds_deploy::crds::all();
    let summary: Vec<(String, Vec<String>, bool)> = crds
        .iter()
        .map(|crd| {
            let names = &crd.spec.names;
            let status = crd.spec.versions[0]
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some());
            (
                names.kind.clone(),
                names.short_names.clone().unwrap_or_default(),
                status,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("ExtendedDaemonSet".into(), vec!["eds".into()], true),
            (
                "ExtendedDaemonSetReplicaSet".into(),
                vec!["ers".into()],
                true
            ),
            ("ExtendedDaemonsetSetting".into(), vec!["edss".into()], true),
        ]
    );
    assert!(
        crds.iter()
            .all(|c| c.spec.group == "datadoghq.com" && c.spec.scope == "Namespaced")
    );
    let categories = crds[0].spec.names.categories.clone().unwrap_or_default();
    assert_eq!(categories, ["all"]);
}
