use serde_json::json;

use super::*;

/// Validates `value` at path `f` against `schema`; returns `field: message` lines.
fn errors(schema: Value, value: Value) -> Vec<String> {
    let mut out = Vec::new();
    validate(&Node::parse(&schema), &value, "f", &mut out);
    out.iter().map(ToString::to_string).collect()
}

fn reasons(schema: Value, value: Value) -> Vec<String> {
    let mut out = Vec::new();
    validate(&Node::parse(&schema), &value, "f", &mut out);
    out.into_iter().map(|c| c.reason).collect()
}

#[test]
fn types_distinguish_integer_from_number() {
    let int = json!({"type": "integer"});
    assert!(errors(int.clone(), json!(3)).is_empty());
    assert!(
        errors(int.clone(), json!(3.0)).is_empty(),
        "integral float is an integer"
    );
    assert_eq!(
        errors(int.clone(), json!(1.5)),
        [r#"f: Invalid value: "number": f in body must be of type integer: "number""#]
    );
    assert_eq!(reasons(int, json!("3")), [reason::TYPE_INVALID]);
    assert!(errors(json!({"type": "number"}), json!(1.5)).is_empty());
    assert_eq!(
        errors(json!({"type": "object"}), json!([])),
        [r#"f: Invalid value: "array": f in body must be of type object: "array""#]
    );
    assert_eq!(
        reasons(json!({"type": "boolean"}), json!("true")),
        [reason::TYPE_INVALID]
    );
}

#[test]
fn null_needs_nullable() {
    assert_eq!(
        errors(json!({"type": "string"}), Value::Null),
        [r#"f: Invalid value: "null": f in body must be of type string: "null""#]
    );
    assert!(errors(json!({"type": "string", "nullable": true}), Value::Null).is_empty());
    assert!(
        errors(
            json!({"x-kubernetes-preserve-unknown-fields": true}),
            Value::Null
        )
        .is_empty()
    );
}

#[test]
fn int_or_string_accepts_only_integers_and_strings() {
    let s = json!({"x-kubernetes-int-or-string": true, "pattern": "^[0-9]+%$", "minimum": 0});
    assert!(errors(s.clone(), json!(3)).is_empty());
    assert!(errors(s.clone(), json!("30%")).is_empty());
    assert_eq!(
        errors(s.clone(), json!(true)),
        [r#"f: Invalid value: "boolean": f in body must be of type integer,string: "boolean""#]
    );
    // The pattern applies to strings only, the minimum to integers only.
    assert_eq!(
        errors(s.clone(), json!(-1)),
        ["f: Invalid value: -1: f in body should be greater than or equal to 0"]
    );
    assert_eq!(
        errors(s, json!("x")),
        [r#"f: Invalid value: "x": f in body should match '^[0-9]+%$'"#]
    );
}

#[test]
fn required_fields_name_the_missing_child() {
    let s = json!({"type": "object", "required": ["a", "b"], "properties": {
        "a": {"type": "string"}, "b": {"type": "string"}}});
    assert_eq!(
        errors(s.clone(), json!({"a": "x"})),
        ["f.b: Required value"]
    );
    assert_eq!(reasons(s, json!({})), [reason::REQUIRED, reason::REQUIRED]);
}

#[test]
fn enum_lists_the_supported_values() {
    let s = json!({"type": "string", "enum": ["auto", "manual"]});
    assert!(errors(s.clone(), json!("auto")).is_empty());
    assert_eq!(
        errors(s, json!("sometimes")),
        [r#"f: Unsupported value: "sometimes": supported values: "auto", "manual""#]
    );
    assert_eq!(
        reasons(json!({"type": "integer", "enum": [1, 2]}), json!(3)),
        [reason::NOT_SUPPORTED]
    );
    assert!(errors(json!({"type": "number", "enum": [1]}), json!(1.0)).is_empty());
}

#[test]
fn numeric_bounds_and_multiples() {
    let s = json!({"type": "integer", "minimum": 1, "maximum": 10});
    assert!(errors(s.clone(), json!(1)).is_empty());
    assert!(errors(s.clone(), json!(10)).is_empty());
    assert_eq!(
        errors(s.clone(), json!(11)),
        ["f: Invalid value: 11: f in body should be less than or equal to 10"]
    );
    assert_eq!(reasons(s, json!(0)), [reason::INVALID]);
    let ex = json!({"type": "number", "minimum": 0, "exclusiveMinimum": true,
                    "maximum": 1, "exclusiveMaximum": true});
    assert_eq!(
        errors(ex.clone(), json!(0)),
        ["f: Invalid value: 0: f in body should be greater than 0"]
    );
    assert_eq!(
        errors(ex, json!(1)),
        ["f: Invalid value: 1: f in body should be less than 1"]
    );
    assert_eq!(
        errors(json!({"type": "integer", "multipleOf": 5}), json!(7)),
        ["f: Invalid value: 7: f in body should be a multiple of 5"]
    );
}

#[test]
fn integer_formats_bound_the_range() {
    let s = json!({"type": "integer", "format": "int32"});
    assert!(errors(s.clone(), json!(2_147_483_647)).is_empty());
    assert_eq!(
        errors(s, json!(2_147_483_648_i64)),
        ["f: Invalid value: 2147483648: f in body must be of type int32"]
    );
    assert!(
        errors(
            json!({"type": "integer", "format": "int64"}),
            json!(1_i64 << 40)
        )
        .is_empty()
    );
}

#[test]
fn string_lengths_patterns_and_formats() {
    let s = json!({"type": "string", "minLength": 2, "maxLength": 3});
    assert!(
        errors(s.clone(), json!("héé")).is_empty(),
        "lengths count characters"
    );
    assert_eq!(
        errors(s.clone(), json!("abcd")),
        ["f: Too long: may not be more than 3 bytes"]
    );
    assert_eq!(reasons(s.clone(), json!("abcd")), [reason::TOO_LONG]);
    assert_eq!(
        errors(s, json!("a")),
        [r#"f: Invalid value: "a": f in body should be at least 2 chars long"#]
    );
    let d = json!({"type": "string", "pattern": r"^[0-9]+(s|m)$"});
    assert_eq!(
        errors(d, json!("5 minutes")),
        [r#"f: Invalid value: "5 minutes": f in body should match '^[0-9]+(s|m)$'"#]
    );
    let t = json!({"type": "string", "format": "date-time"});
    assert!(errors(t.clone(), json!("2024-05-01T10:00:00Z")).is_empty());
    assert_eq!(
        errors(t, json!("yesterday")),
        [r#"f: Invalid value: "yesterday": f in body must be of type date-time: "yesterday""#]
    );
}

#[test]
fn list_sizes_and_list_type_uniqueness() {
    let s = json!({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}});
    assert_eq!(
        errors(s.clone(), json!([])),
        ["f: Invalid value: 0: f in body should have at least 1 items"]
    );
    assert_eq!(
        errors(s.clone(), json!(["a", "b", "c"])),
        ["f: Too many: 3: must have at most 2 items"]
    );
    assert_eq!(
        errors(s, json!(["a", 1])),
        [r#"f[1]: Invalid value: "integer": f[1] in body must be of type string: "integer""#]
    );
    let set =
        json!({"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}});
    assert_eq!(
        errors(set, json!(["a", "b", "a"])),
        [r#"f[2]: Duplicate value: "a""#]
    );
    let map = json!({"type": "array", "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {"type": "object", "properties": {"type": {"type": "string"}}}});
    assert_eq!(
        errors(map.clone(), json!([{"type": "Ready"}, {"type": "Ready"}])),
        [r#"f[1]: Duplicate value: {"type":"Ready"}"#]
    );
    assert!(errors(map, json!([{"type": "Ready"}, {"type": "Stalled"}])).is_empty());
}

#[test]
fn object_property_counts_and_map_values() {
    let s = json!({"type": "object", "maxProperties": 1,
        "additionalProperties": {"type": "integer", "minimum": 0}});
    assert_eq!(
        errors(s.clone(), json!({"a": -1})),
        ["f.a: Invalid value: -1: f.a in body should be greater than or equal to 0"]
    );
    assert_eq!(reasons(s, json!({"a": 1, "b": 2})), [reason::TOO_MANY]);
}

#[test]
fn junctors_apply_value_validations() {
    let any = json!({"type": "string", "anyOf": [{"pattern": "^a"}, {"pattern": "^b"}]});
    assert!(errors(any.clone(), json!("bx")).is_empty());
    let e = errors(any, json!("cx"));
    assert_eq!(
        e[0],
        r#"f: Invalid value: "cx": f in body must validate at least one schema (anyOf)"#
    );
    let one = json!({"type": "integer", "oneOf": [{"minimum": 0}, {"maximum": 10}]});
    assert!(errors(one.clone(), json!(20)).is_empty());
    assert_eq!(
        errors(one, json!(5)),
        ["f: Invalid value: 5: f in body must validate one and only one schema (oneOf)"]
    );
    let all = json!({"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 10}]});
    assert_eq!(reasons(all, json!(11)), [reason::INVALID]);
    let not = json!({"type": "string", "not": {"enum": ["forbidden"]}});
    assert!(errors(not.clone(), json!("fine")).is_empty());
    assert_eq!(
        errors(not, json!("forbidden")),
        [r#"f: Invalid value: "forbidden": f in body must not validate the schema (not)"#]
    );
}

#[test]
fn blocking_reasons_are_the_api_servers() {
    assert!(is_blocking(&FieldCause::required("a", "")));
    assert!(is_blocking(&FieldCause::type_invalid("a", &json!("x"), "")));
    assert!(!is_blocking(&FieldCause::invalid("a", &json!("x"), "")));
}
