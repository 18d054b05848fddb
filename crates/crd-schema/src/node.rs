//! The parsed form of a structural schema: one [`Node`] per schema object, with its
//! validations ready to run (patterns compiled), so admission does not re-read JSON.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

/// JSON type named by a schema's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl Type {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "object" => Self::Object,
            "array" => Self::Array,
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            _ => return None,
        })
    }

    /// The schema spelling of the type.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
        }
    }
}

/// `x-kubernetes-list-type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListType {
    /// Entries are unique scalars.
    Set,
    /// Entries are objects, unique by the listed keys.
    Map(Vec<String>),
}

/// `additionalProperties` of an object node.
#[derive(Debug, Default)]
pub(crate) enum Additional {
    /// Not set: unknown fields are pruned.
    #[default]
    None,
    /// `true`: any value is kept.
    Any,
    /// A schema for the values of a map.
    Schema(Box<Node>),
}

/// One node of a structural schema (or a value-validation branch of a junctor).
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub type_: Option<Type>,
    pub nullable: bool,
    pub int_or_string: bool,
    pub preserve_unknown: bool,
    pub embedded_resource: bool,
    pub properties: BTreeMap<String, Node>,
    pub additional: Additional,
    pub items: Option<Box<Node>>,
    pub required: Vec<String>,
    pub enum_values: Option<Vec<Value>>,
    pub pattern: Option<(String, Regex)>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub multiple_of: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub format: Option<String>,
    pub default: Option<Value>,
    pub list_type: Option<ListType>,
    pub all_of: Vec<Node>,
    pub any_of: Vec<Node>,
    pub one_of: Vec<Node>,
    pub not: Option<Box<Node>>,
}

impl Node {
    /// Parses a schema the structural check accepted; keywords it does not know are ignored
    /// (documentation, `x-kubernetes-validations` which CEL handles, ...).
    pub(crate) fn parse(schema: &Value) -> Node {
        let Some(map) = schema.as_object() else {
            return Node::default();
        };
        let list_type = match map.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => Some(ListType::Set),
            Some("map") => Some(ListType::Map(strings(
                map.get("x-kubernetes-list-map-keys"),
            ))),
            _ => None,
        };
        let pattern = map.get("pattern").and_then(Value::as_str).and_then(|p| {
            // An invalid pattern was rejected by the structural check already.
            Regex::new(p).ok().map(|re| (p.to_string(), re))
        });
        Node {
            type_: map
                .get("type")
                .and_then(Value::as_str)
                .and_then(Type::parse),
            nullable: flag(map, "nullable"),
            int_or_string: flag(map, "x-kubernetes-int-or-string"),
            preserve_unknown: flag(map, "x-kubernetes-preserve-unknown-fields"),
            embedded_resource: flag(map, "x-kubernetes-embedded-resource"),
            properties: map
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), Node::parse(v)))
                        .collect()
                })
                .unwrap_or_default(),
            additional: match map.get("additionalProperties") {
                Some(Value::Bool(true)) => Additional::Any,
                Some(v @ Value::Object(_)) => Additional::Schema(Box::new(Node::parse(v))),
                _ => Additional::None,
            },
            items: map.get("items").map(|v| Box::new(Node::parse(v))),
            required: strings(map.get("required")),
            enum_values: map.get("enum").and_then(Value::as_array).cloned(),
            pattern,
            minimum: map.get("minimum").and_then(Value::as_f64),
            maximum: map.get("maximum").and_then(Value::as_f64),
            exclusive_minimum: flag(map, "exclusiveMinimum"),
            exclusive_maximum: flag(map, "exclusiveMaximum"),
            multiple_of: map.get("multipleOf").and_then(Value::as_f64),
            min_length: map.get("minLength").and_then(Value::as_u64),
            max_length: map.get("maxLength").and_then(Value::as_u64),
            min_items: map.get("minItems").and_then(Value::as_u64),
            max_items: map.get("maxItems").and_then(Value::as_u64),
            min_properties: map.get("minProperties").and_then(Value::as_u64),
            max_properties: map.get("maxProperties").and_then(Value::as_u64),
            format: map
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
            default: map.get("default").cloned(),
            list_type,
            all_of: branches(map, "allOf"),
            any_of: branches(map, "anyOf"),
            one_of: branches(map, "oneOf"),
            not: map.get("not").map(|v| Box::new(Node::parse(v))),
        }
    }

    /// The schema of the value under `key` of an object: its property, else the
    /// `additionalProperties` schema.
    pub(crate) fn field(&self, key: &str) -> Option<&Node> {
        self.properties.get(key).or(match &self.additional {
            Additional::Schema(node) => Some(node),
            _ => None,
        })
    }
}

fn flag(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn branches(map: &Map<String, Value>, key: &str) -> Vec<Node> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Node::parse).collect())
        .unwrap_or_default()
}
