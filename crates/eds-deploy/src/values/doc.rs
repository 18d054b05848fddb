//! The documented `values.yaml`: the defaults of [`Values`], each key preceded by its
//! description (the field's doc comment, taken from the schema) as a comment.

use schemars::JsonSchema;
use serde_json::Value;

use super::{
    ArgocdValues, CrdValues, Image, PodDisruptionBudgetValues, ServiceAccountValues,
    ServiceMonitorValues, TestValues, Values, schema,
};
use crate::{Error, yaml};

/// `values.yaml` of the chart.
pub fn values_yaml() -> Result<String, Error> {
    let body = yaml::to_yaml(&Values::default())?;
    let schema = schema().to_value();
    let mut out = format!(
        "{}\n# Default values of the extendeddaemonset chart; values.schema.json checks them.\n",
        yaml::HEADER
    );
    annotate(&body, &schema, &mut out);
    Ok(out)
}

/// Definitions whose keys are documented one by one; Kubernetes types (resources, affinity...)
/// are documented upstream and shown as plain YAML.
pub(crate) fn documented_definitions() -> [String; 7] {
    [
        Image::schema_name().into_owned(),
        ServiceAccountValues::schema_name().into_owned(),
        ServiceMonitorValues::schema_name().into_owned(),
        PodDisruptionBudgetValues::schema_name().into_owned(),
        CrdValues::schema_name().into_owned(),
        TestValues::schema_name().into_owned(),
        ArgocdValues::schema_name().into_owned(),
    ]
}

/// Inserts the description comments into `body`, the serialized defaults, which keeps the field
/// order of the Rust type (the schema's maps are sorted).
fn annotate(body: &str, root: &Value, out: &mut String) {
    let documented = documented_definitions();
    // (indent of a key, schema describing the keys nested under it)
    let mut stack: Vec<(usize, Option<&Value>)> = Vec::new();
    for line in body.lines() {
        if let Some((indent, key)) = key_of(line) {
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            let parent = match stack.last() {
                None => Some(root),
                Some((_, parent)) => *parent,
            };
            let property = parent.and_then(|p| p.get("properties")?.get(key));
            if let Some(description) = property.and_then(|p| p.get("description")?.as_str()) {
                if indent == 0 {
                    out.push('\n');
                }
                for text in description.lines() {
                    out.push_str(&format!("{:indent$}# {text}\n", "").replace("# \n", "#\n"));
                }
            }
            let nested = property.and_then(|p| definition(root, p, &documented));
            stack.push((indent, nested));
        }
        out.push_str(line);
        out.push('\n');
    }
}

/// `(indentation, key)` of a `key: value` or `key:` line; `None` for list items and scalars.
fn key_of(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let (key, _) = trimmed.split_once(':')?;
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then_some((indent, key))
}

/// The definition a property refers to, when it is one of `documented`.
pub(crate) fn definition<'a>(
    root: &'a Value,
    property: &Value,
    documented: &[String],
) -> Option<&'a Value> {
    let reference = property.get("$ref").or_else(|| {
        property
            .get("allOf")?
            .as_array()?
            .iter()
            .find_map(|s| s.get("$ref"))
    })?;
    let name = reference.as_str()?.strip_prefix("#/definitions/")?;
    documented
        .iter()
        .any(|d| d == name)
        .then(|| root.get("definitions")?.get(name))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_top_level_key_is_documented() {
        let text = values_yaml().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut keys = 0;
        for (i, line) in lines.iter().enumerate() {
            if let Some((0, key)) = key_of(line) {
                keys += 1;
                assert!(
                    lines[i - 1].starts_with("# "),
                    "top-level key {key} has no comment above it"
                );
            }
        }
        assert!(keys >= 15, "only {keys} top-level keys");
    }

    #[test]
    fn nested_keys_of_own_types_are_documented() {
        let text = values_yaml().unwrap();
        assert!(
            text.contains("  # Image repository.\n  repository: "),
            "{text}"
        );
        assert!(text.contains("  # Create a ServiceMonitor"), "{text}");
    }

    #[test]
    fn documented_yaml_parses_back_to_the_defaults() {
        let text = values_yaml().unwrap();
        let parsed: Values = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(parsed, Values::default());
    }
}
