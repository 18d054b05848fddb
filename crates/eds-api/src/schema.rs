//! Schema fragments shared by the CRD types: what schemars cannot derive on its own.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Regular expression of a percentage between 0% and 100%.
pub const PERCENT_PATTERN: &str = r"^(100|[1-9]?[0-9])%$";

/// An IntOrString that must be a non-negative integer or a percentage from 0% to 100%.
///
/// `pattern` constrains the string form and `minimum` the integer form (each validation applies
/// only to values of its type).
pub fn int_or_percent(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "x-kubernetes-int-or-string": true,
        "pattern": PERCENT_PATTERN,
        "minimum": 0
    })
}

/// A list of conditions merged by `type` under server-side apply.
pub fn conditions(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Vec<super::Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

/// A pod template whose lists merge under server-side apply as those of a Pod do (containers
/// by name, their env by name, volumes by name...): the markers of the Kubernetes types,
/// which a CRD must declare itself, or every list of the template is atomic.
pub fn pod_template(generator: &mut SchemaGenerator) -> Schema {
    let schema = generator.subschema_for::<k8s_openapi::api::core::v1::PodTemplateSpec>();
    let mut value = schema.to_value();
    list_types::annotate(&mut value, &["spec", "template"]);
    Schema::try_from(value).expect("an annotated schema is still a schema object")
}
