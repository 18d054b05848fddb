use serde_json::json;

use super::*;

fn fields(schema: Value) -> Vec<String> {
    check(&schema).into_iter().map(|c| c.field).collect()
}

fn object(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

#[test]
fn accepts_a_structural_schema() {
    let s = object(json!({
        "spec": {"type": "object", "properties": {
            "n": {"type": "integer", "allOf": [{"minimum": 0}]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "port": {"x-kubernetes-int-or-string": true,
                     "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "conds": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["type"],
                      "items": {"type": "object", "required": ["type"],
                                "properties": {"type": {"type": "string"}}}}}},
        "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}
    }));
    assert_eq!(check(&s), vec![]);
}

#[test]
fn every_field_needs_a_type() {
    let s = json!({"properties": {"spec": {"properties": {"a": {}}},
        "list": {"type": "array", "items": {}}}});
    assert_eq!(
        fields(s),
        [
            "openAPIV3Schema.type",
            "openAPIV3Schema.properties[list].items.type",
            "openAPIV3Schema.properties[spec].type",
            "openAPIV3Schema.properties[spec].properties[a].type",
        ]
    );
    let c = &check(&object(json!({"a": {}})))[0];
    assert_eq!(c.reason, "FieldValueRequired");
    assert_eq!(
        c.message,
        "Required value: must not be empty for specified object fields"
    );
}

#[test]
fn untyped_fields_are_allowed_for_int_or_string_and_preserve_unknown_fields() {
    let s = object(json!({
        "a": {"x-kubernetes-int-or-string": true},
        "b": {"x-kubernetes-preserve-unknown-fields": true}}));
    assert!(check(&s).is_empty());
    let bad = object(
        json!({"a": {"type": "string", "x-kubernetes-int-or-string": true},
        "b": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}}),
    );
    assert_eq!(
        fields(bad),
        [
            "openAPIV3Schema.properties[a].type",
            "openAPIV3Schema.properties[b].x-kubernetes-preserve-unknown-fields"
        ]
    );
}

#[test]
fn types_must_be_known_and_the_root_an_object() {
    assert_eq!(
        fields(object(json!({"a": {"type": "float"}}))),
        ["openAPIV3Schema.properties[a].type"]
    );
    assert_eq!(fields(json!({"type": "string"})), ["openAPIV3Schema.type"]);
    assert_eq!(
        fields(object(json!({"a": {"type": ["string", "null"]}}))),
        ["openAPIV3Schema.properties[a].type"]
    );
}

#[test]
fn junctors_hold_value_validations_only() {
    let s = object(json!({"a": {"type": "string", "anyOf": [
        {"type": "string", "default": "x", "description": "d", "nullable": true},
        {"additionalProperties": {"type": "string"}, "x-kubernetes-validations": []}]}}));
    let f = fields(s);
    for key in ["type", "default", "description", "nullable"] {
        assert!(
            f.contains(&format!("openAPIV3Schema.properties[a].anyOf[0].{key}")),
            "{key}: {f:?}"
        );
    }
    assert!(f.contains(&"openAPIV3Schema.properties[a].anyOf[1].additionalProperties".to_string()));
    assert!(
        f.contains(&"openAPIV3Schema.properties[a].anyOf[1].x-kubernetes-validations".to_string())
    );
    let not = object(json!({"a": {"type": "string", "not": {"type": "string"}}}));
    assert_eq!(fields(not), ["openAPIV3Schema.properties[a].not.type"]);
}

#[test]
fn junctor_properties_must_be_in_the_skeleton() {
    let s = object(json!({"spec": {"type": "object",
        "properties": {"a": {"type": "string"}},
        "oneOf": [{"required": ["a"]}, {"properties": {"b": {"minLength": 1}}}]}}));
    let causes = check(&s);
    assert_eq!(causes.len(), 1);
    assert_eq!(
        causes[0].field,
        "openAPIV3Schema.properties[spec].properties[b]"
    );
    assert_eq!(
        causes[0].message,
        "Required value: because it is defined in openAPIV3Schema.properties[spec].oneOf[1].properties[b]"
    );
}

#[test]
fn additional_properties_excludes_properties_and_false() {
    let s = object(json!({
        "both": {"type": "object", "properties": {"a": {"type": "string"}},
                 "additionalProperties": {"type": "string"}},
        "no": {"type": "object", "additionalProperties": false}}));
    let causes = check(&s);
    assert_eq!(
        causes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        [
            "openAPIV3Schema.properties[both].additionalProperties",
            "openAPIV3Schema.properties[no].additionalProperties"
        ]
    );
    assert!(causes[0].message.contains("mutual exclusive"));
}

#[test]
fn unsupported_keywords_patterns_and_items() {
    let s = object(json!({
        "r": {"$ref": "#/definitions/x"},
        "p": {"type": "string", "pattern": "("},
        "u": {"type": "array", "uniqueItems": true, "items": {"type": "string"}},
        "t": {"type": "array", "items": [{"type": "string"}]},
        "m": {"type": "array"}}));
    assert_eq!(
        fields(s),
        [
            "openAPIV3Schema.properties[m].items",
            "openAPIV3Schema.properties[p].pattern",
            "openAPIV3Schema.properties[r].$ref",
            "openAPIV3Schema.properties[r].type",
            "openAPIV3Schema.properties[t].items",
            "openAPIV3Schema.properties[u].uniqueItems",
        ]
    );
}

#[test]
fn list_types_and_root_metadata() {
    let s = object(json!({
        "l": {"type": "array", "x-kubernetes-list-type": "map",
              "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        "k": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["nope"],
              "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        "s": {"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}},
        "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}));
    assert_eq!(
        fields(s),
        [
            "openAPIV3Schema.properties[k].x-kubernetes-list-map-keys",
            "openAPIV3Schema.properties[l].x-kubernetes-list-map-keys",
            "openAPIV3Schema.properties[s].x-kubernetes-list-type",
            "openAPIV3Schema.properties[metadata]",
        ]
    );
}

#[test]
fn list_map_keys_must_be_required_or_defaulted_and_not_nullable() {
    let s = object(json!({
        // `port` required, `protocol` defaulted: accepted.
        "ok": {"type": "array", "x-kubernetes-list-type": "map",
               "x-kubernetes-list-map-keys": ["port", "protocol"],
               "items": {"type": "object", "required": ["port"], "properties": {
                   "port": {"type": "integer"},
                   "protocol": {"type": "string", "default": "TCP"}}}},
        "optional": {"type": "array", "x-kubernetes-list-type": "map",
                     "x-kubernetes-list-map-keys": ["ip"],
                     "items": {"type": "object", "properties": {"ip": {"type": "string"}}}},
        "nullable": {"type": "array", "x-kubernetes-list-type": "map",
                     "x-kubernetes-list-map-keys": ["name"],
                     "items": {"type": "object", "required": ["name"], "properties": {
                         "name": {"type": "string", "nullable": true}}}},
        "set": {"type": "array", "x-kubernetes-list-type": "set",
                "items": {"type": "string", "nullable": true}},
        // An atomic list may have null items.
        "atomic": {"type": "array", "x-kubernetes-list-type": "atomic",
                   "items": {"type": "string", "nullable": true}}}));
    let causes = check(&s);
    let got: Vec<(&str, &str)> = causes
        .iter()
        .map(|c| (c.field.as_str(), c.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "openAPIV3Schema.properties[nullable].items.properties[name].nullable",
                "Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable"
            ),
            (
                "openAPIV3Schema.properties[optional].items.properties[ip].default",
                "Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
            ),
            (
                "openAPIV3Schema.properties[set].items.nullable",
                "Forbidden: cannot be nullable when x-kubernetes-list-type is set"
            ),
        ]
    );
}
