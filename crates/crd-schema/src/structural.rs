//! The structural-schema check the API server runs when a CRD is created or updated
//! (`structuralschema.ValidateStructural` and the CRD schema validation around it).
//!
//! A structural schema specifies a type for every field (the "skeleton"), so pruning and
//! defaulting are well defined; value validations may use `allOf`/`anyOf`/`oneOf`/`not`, but
//! those junctors may not add types, defaults, descriptions or fields the skeleton lacks.
//! Paths start at `openAPIV3Schema` and use the API server's notation
//! (`openAPIV3Schema.properties[spec].type`).

mod junctor;

use serde_json::{Map, Value};

use super::cause::FieldCause;

/// Where a skeleton node sits, which words the "type missing" message.
#[derive(Clone, Copy)]
enum Position {
    Root,
    Property,
    Items,
}

const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
const LIST_TYPES: [&str; 3] = ["atomic", "set", "map"];
/// Keywords a structural schema never uses.
const UNSUPPORTED: [&str; 7] = [
    "$ref",
    "$schema",
    "id",
    "definitions",
    "dependencies",
    "additionalItems",
    "patternProperties",
];

/// Returns every structural violation of `schema` (empty when it is structural).
pub(crate) fn check(schema: &Value) -> Vec<FieldCause> {
    let mut out = Vec::new();
    check_node(schema, "openAPIV3Schema", Position::Root, &mut out);
    out
}

fn check_node(value: &Value, path: &str, position: Position, out: &mut Vec<FieldCause>) {
    let Some(node) = value.as_object() else {
        out.push(FieldCause::invalid(path, value, "must be a schema object"));
        return;
    };
    check_keywords(node, path, out);
    let int_or_string = flag(node, "x-kubernetes-int-or-string");
    let preserve = node.get("x-kubernetes-preserve-unknown-fields");
    if preserve.is_some_and(|p| p != &Value::Bool(true)) {
        let field = format!("{path}.x-kubernetes-preserve-unknown-fields");
        out.push(FieldCause::invalid(
            &field,
            &preserve.cloned().unwrap_or_default(),
            "must be true or undefined",
        ));
    }
    let type_ = check_type(node, path, position, int_or_string, out);
    if let Some(v) = node.get("additionalProperties") {
        let field = format!("{path}.additionalProperties");
        if v == &Value::Bool(false) {
            out.push(FieldCause::forbidden(
                &field,
                "additionalProperties cannot be set to false",
            ));
        } else if node
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
        {
            let detail = "additionalProperties and properties are mutual exclusive";
            out.push(FieldCause::forbidden(&field, detail));
        }
        if v.is_object() {
            check_node(v, &field, Position::Property, out);
        }
    }
    if let Some(props) = node.get("properties") {
        match props.as_object() {
            Some(props) => {
                for (key, child) in props {
                    let child_path = format!("{path}.properties[{key}]");
                    check_node(child, &child_path, Position::Property, out);
                }
                if matches!(position, Position::Root)
                    && let Some(meta) = props.get("metadata")
                {
                    check_root_metadata(meta, &format!("{path}.properties[metadata]"), out);
                }
            }
            None => out.push(FieldCause::invalid(
                &format!("{path}.properties"),
                props,
                "must be a map of schemas",
            )),
        }
    }
    match node.get("items") {
        Some(items @ Value::Object(_)) => {
            check_node(items, &format!("{path}.items"), Position::Items, out)
        }
        Some(_) => out.push(FieldCause::forbidden(
            &format!("{path}.items"),
            "items must be a schema object and not an array",
        )),
        None if type_ == Some("array") => {
            out.push(FieldCause::required(
                &format!("{path}.items"),
                "must be specified",
            ));
        }
        None => {}
    }
    if flag(node, "x-kubernetes-embedded-resource") && type_ != Some("object") {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        out.push(FieldCause::invalid(
            &format!("{path}.type"),
            &type_.into(),
            detail,
        ));
    }
    check_list_type(node, path, type_, out);
    junctor::check_all(node, path, int_or_string, out);
}

/// Checks `type`; returns it when it is a valid type name.
fn check_type<'a>(
    node: &'a Map<String, Value>,
    path: &str,
    position: Position,
    int_or_string: bool,
    out: &mut Vec<FieldCause>,
) -> Option<&'a str> {
    let field = format!("{path}.type");
    let Some(type_value) = node.get("type") else {
        let preserve = flag(node, "x-kubernetes-preserve-unknown-fields");
        let detail = match position {
            Position::Root => Some("must not be empty at the root"),
            _ if int_or_string || preserve => None,
            Position::Property => Some("must not be empty for specified object fields"),
            Position::Items => Some("must not be empty for specified array items"),
        };
        if let Some(detail) = detail {
            out.push(FieldCause::required(&field, detail));
        }
        return None;
    };
    let Some(type_) = type_value.as_str().filter(|t| TYPES.contains(t)) else {
        let supported: Vec<String> = TYPES.iter().map(|t| t.to_string()).collect();
        out.push(FieldCause::not_supported(&field, type_value, &supported));
        return None;
    };
    if int_or_string {
        let detail = "must be empty if x-kubernetes-int-or-string is true";
        out.push(FieldCause::invalid(&field, type_value, detail));
    }
    if matches!(position, Position::Root) && type_ != "object" {
        out.push(FieldCause::invalid(
            &field,
            type_value,
            "must be object at the root",
        ));
    }
    Some(type_)
}

/// Keywords forbidden everywhere, and patterns that must compile.
pub(super) fn check_keywords(node: &Map<String, Value>, path: &str, out: &mut Vec<FieldCause>) {
    for key in UNSUPPORTED.iter().filter(|k| node.contains_key(**k)) {
        out.push(FieldCause::forbidden(
            &format!("{path}.{key}"),
            &format!("{key} is not supported"),
        ));
    }
    if flag(node, "uniqueItems") {
        let detail =
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic";
        out.push(FieldCause::forbidden(
            &format!("{path}.uniqueItems"),
            detail,
        ));
    }
    if let Some(pattern) = node.get("pattern") {
        let error = match pattern.as_str() {
            Some(p) => regex::Regex::new(p).err().map(|e| e.to_string()),
            None => Some("must be a string".to_string()),
        };
        if let Some(error) = error {
            let detail = format!("must be a valid regular expression, but isn't: {error}");
            out.push(FieldCause::invalid(
                &format!("{path}.pattern"),
                pattern,
                &detail,
            ));
        }
    }
}

fn check_list_type(
    node: &Map<String, Value>,
    path: &str,
    type_: Option<&str>,
    out: &mut Vec<FieldCause>,
) {
    let list_type = node.get("x-kubernetes-list-type");
    let keys_field = format!("{path}.x-kubernetes-list-map-keys");
    let keys = node
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array);
    if let Some(list_type) = list_type {
        let field = format!("{path}.x-kubernetes-list-type");
        if !list_type.as_str().is_some_and(|t| LIST_TYPES.contains(&t)) {
            let supported: Vec<String> = LIST_TYPES.iter().map(|t| t.to_string()).collect();
            out.push(FieldCause::not_supported(&field, list_type, &supported));
        }
        let items_nullable = node
            .get("items")
            .and_then(|i| i.get("nullable"))
            .and_then(Value::as_bool)
            == Some(true);
        if items_nullable && list_type.as_str().is_some_and(|t| t != "atomic") {
            out.push(FieldCause::forbidden(
                &format!("{path}.items.nullable"),
                &format!(
                    "cannot be nullable when x-kubernetes-list-type is {}",
                    list_type.as_str().unwrap_or_default()
                ),
            ));
        }
        if type_ != Some("array") {
            let detail = "must be array if x-kubernetes-list-type is specified";
            out.push(FieldCause::invalid(
                &format!("{path}.type"),
                &type_.into(),
                detail,
            ));
        }
    }
    if list_type.and_then(Value::as_str) == Some("map") {
        let item_props = node
            .get("items")
            .and_then(|i| i.get("properties"))
            .and_then(Value::as_object);
        match keys {
            None => out.push(FieldCause::required(
                &keys_field,
                "must not be empty if x-kubernetes-list-type is map",
            )),
            Some(keys) if keys.is_empty() => out.push(FieldCause::required(
                &keys_field,
                "must not be empty if x-kubernetes-list-type is map",
            )),
            Some(keys) => {
                let required: Vec<&str> = node
                    .get("items")
                    .and_then(|i| i.get("required"))
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for key in keys {
                    let prop = key
                        .as_str()
                        .and_then(|k| item_props.and_then(|p| p.get(k)).map(|p| (k, p)));
                    let Some((name, prop)) = prop else {
                        out.push(FieldCause::invalid(
                            &keys_field,
                            key,
                            "entries must all be names of item properties",
                        ));
                        continue;
                    };
                    let prop_path = format!("{path}.items.properties[{name}]");
                    if !required.contains(&name) && prop.get("default").is_none() {
                        out.push(FieldCause::required(
                            &format!("{prop_path}.default"),
                            "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                        ));
                    }
                    if prop.get("nullable").and_then(Value::as_bool) == Some(true) {
                        out.push(FieldCause::forbidden(
                            &format!("{prop_path}.nullable"),
                            "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                        ));
                    }
                }
            }
        }
    } else if keys.is_some() {
        out.push(FieldCause::forbidden(
            &keys_field,
            "must not be set if x-kubernetes-list-type is not map",
        ));
    }
}

/// `metadata` at the root is ObjectMeta, which the API server handles itself: a schema may
/// only restrict `name` and `generateName`.
fn check_root_metadata(meta: &Value, path: &str, out: &mut Vec<FieldCause>) {
    let allowed = ["type", "properties", "description"];
    let extra_keys = meta
        .as_object()
        .is_some_and(|m| m.keys().any(|k| !allowed.contains(&k.as_str())));
    let extra_props = meta
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.keys().any(|k| k != "name" && k != "generateName"));
    if extra_keys || extra_props {
        let detail = "must not specify anything other than name and generateName, but metadata is implicitly specified";
        out.push(FieldCause::forbidden(path, detail));
    }
    if meta
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "object")
    {
        out.push(FieldCause::invalid(
            &format!("{path}.type"),
            &meta["type"],
            "must be object",
        ));
    }
}

pub(super) fn flag(node: &Map<String, Value>, key: &str) -> bool {
    node.get(key).and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests;
