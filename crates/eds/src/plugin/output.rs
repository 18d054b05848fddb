//! YAML and JSON output of API objects, with `metadata.managedFields` hidden like kubectl does.

use kube::Resource;
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    cli::OutputFormat,
    error::{Error, Result},
};

/// Prints one object, or a `kind: List` of objects when `single` is false.
///
/// Returns `None` for the table formats (none or `wide`): the caller prints a table then.
pub fn print_objects<K>(
    objects: &[K],
    single: bool,
    format: Option<OutputFormat>,
) -> Result<Option<String>>
where
    K: Resource + Serialize,
    K::DynamicType: Default,
{
    let format = match format {
        Some(f @ (OutputFormat::Yaml | OutputFormat::Json)) => f,
        _ => return Ok(None),
    };
    let mut values = objects
        .iter()
        .map(|o| to_value(o).map(strip_managed_fields))
        .collect::<Result<Vec<_>>>()?;
    let value = match (single, values.len()) {
        (true, 1) => values.remove(0),
        _ => json!({ "apiVersion": "v1", "kind": "List", "metadata": {}, "items": values }),
    };
    render(&value, format).map(Some)
}

/// Renders a JSON value as pretty JSON (with a final newline) or YAML.
pub fn render(value: &Value, format: OutputFormat) -> Result<String> {
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| Error::Print {
                what: "JSON".into(),
                message: e.to_string(),
            }),
        _ => to_yaml(value),
    }
}

/// Renders any serializable value as YAML.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::Print {
        what: "YAML".into(),
        message: e.to_string(),
    })
}

/// Serializes an object with its `apiVersion` and `kind` (lists from the API omit them per item).
fn to_value<K>(object: &K) -> Result<Value>
where
    K: Resource + Serialize,
    K::DynamicType: Default,
{
    let mut value = serde_json::to_value(object).map_err(|e| Error::Print {
        what: "an object".into(),
        message: e.to_string(),
    })?;
    if let Some(map) = value.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| Value::String(K::api_version(&Default::default()).into_owned()));
        map.entry("kind")
            .or_insert_with(|| Value::String(K::kind(&Default::default()).into_owned()));
    }
    Ok(value)
}

/// Removes `metadata.managedFields`: long, noisy and of no use when reading an object.
pub fn strip_managed_fields(mut value: Value) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::ObjectMeta;

    use super::*;

    fn pod_with_managed_fields() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                managed_fields: Some(vec![Default::default()]),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn managed_fields_are_hidden_and_kind_is_set() {
        let out = print_objects(&[pod_with_managed_fields()], true, Some(OutputFormat::Json))
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["kind"], "Pod");
        assert_eq!(v["apiVersion"], "v1");
        assert!(v["metadata"].get("managedFields").is_none());
        assert_eq!(v["metadata"]["name"], "p");
    }

    #[test]
    fn many_objects_print_as_a_list() {
        let pods = [pod_with_managed_fields(), pod_with_managed_fields()];
        let out = print_objects(&pods, false, Some(OutputFormat::Yaml))
            .unwrap()
            .unwrap();
        assert!(out.contains("kind: List"), "{out}");
        assert!(!out.contains("managedFields"), "{out}");
        assert_eq!(out.matches("name: p").count(), 2, "{out}");
    }

    #[test]
    fn table_formats_print_nothing_here() {
        let pods = [pod_with_managed_fields()];
        assert!(print_objects(&pods, true, None).unwrap().is_none());
        assert!(
            print_objects(&pods, true, Some(OutputFormat::Wide))
                .unwrap()
                .is_none()
        );
    }
}
