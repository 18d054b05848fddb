//! `x-kubernetes-validations` CEL rules, compiled once per schema and evaluated with
//! `kube_cel` (a real CEL implementation with the Kubernetes extension functions).

use std::collections::HashMap;

use kube_cel::{CompilationError, CompiledSchema, ErrorKind, ValidationError};
use serde_json::Value;

use super::cause::{FieldCause, reason};

/// The compiled rules of one schema.
#[derive(Debug)]
pub(crate) struct Rules {
    compiled: CompiledSchema,
    /// Rule text -> `type` of the schema node carrying it: the API server reports that type
    /// as the rejected "value" (`Invalid value: "object": <message>`).
    node_types: HashMap<String, &'static str>,
    /// Whether the schema has any rule at all (skips the walk when it has none).
    any: bool,
}

impl Rules {
    /// Compiles every rule of `schema`; a rule that does not compile is reported with the path
    /// of its schema node (`openAPIV3Schema.properties[spec].x-kubernetes-validations[0]`).
    pub(crate) fn compile(schema: &Value) -> Result<Rules, Vec<FieldCause>> {
        let compiled = kube_cel::compile_schema(schema);
        let mut errors = Vec::new();
        collect_errors(&compiled, "openAPIV3Schema", &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut node_types = HashMap::new();
        collect_types(schema, &mut node_types);
        Ok(Rules {
            compiled,
            any: !node_types.is_empty(),
            node_types,
        })
    }

    /// Evaluates the rules against a defaulted object (and the stored object, for transition
    /// rules that use `oldSelf`).
    pub(crate) fn evaluate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldCause> {
        if !self.any {
            return Vec::new();
        }
        match kube_cel::validate_compiled(&self.compiled, object, old) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| self.cause(e)).collect(),
        }
    }

    fn cause(&self, error: &ValidationError) -> FieldCause {
        let path = &error.field_path;
        if error.kind != ErrorKind::ValidationFailure {
            // The API server reports a rule that cannot run as an internal error of the field.
            let detail = format!("rule compile or evaluation error: {}", error.message);
            return FieldCause::invalid(path, &Value::String("object".into()), &detail);
        }
        let type_label = self
            .node_types
            .get(&error.rule)
            .copied()
            .unwrap_or("object");
        let value = Value::String(type_label.to_string());
        match error.reason.as_deref() {
            Some(reason::REQUIRED) => FieldCause::required(path, &error.message),
            Some(reason::FORBIDDEN) => FieldCause::forbidden(path, &error.message),
            Some(reason::DUPLICATE) => FieldCause::duplicate(path, &value),
            _ => FieldCause::invalid(path, &value, &error.message),
        }
    }
}

fn collect_errors(compiled: &CompiledSchema, path: &str, out: &mut Vec<FieldCause>) {
    for (i, result) in compiled.validations.iter().enumerate() {
        if let Err(error) = result {
            let field = format!("{path}.x-kubernetes-validations[{i}].rule");
            let rule = Value::String(rule_text(error));
            out.push(FieldCause::invalid(&field, &rule, &error.to_string()));
        }
    }
    for (key, child) in &compiled.properties {
        collect_errors(child, &format!("{path}.properties[{key}]"), out);
    }
    if let Some(items) = &compiled.items {
        collect_errors(items, &format!("{path}.items"), out);
    }
    if let Some(additional) = &compiled.additional_properties {
        collect_errors(additional, &format!("{path}.additionalProperties"), out);
    }
    for (name, branches) in [
        ("allOf", &compiled.all_of),
        ("anyOf", &compiled.any_of),
        ("oneOf", &compiled.one_of),
    ] {
        for (i, branch) in branches.iter().enumerate() {
            collect_errors(branch, &format!("{path}.{name}[{i}]"), out);
        }
    }
}

fn rule_text(error: &CompilationError) -> String {
    match error {
        CompilationError::Parse { rule, .. }
        | CompilationError::MessageExpressionParse { rule, .. } => rule.clone(),
        _ => String::new(),
    }
}

fn collect_types(schema: &Value, out: &mut HashMap<String, &'static str>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(rules) = map
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
    {
        let label = match map.get("type").and_then(Value::as_str) {
            Some("object") => "object",
            Some("array") => "array",
            Some("string") => "string",
            Some("integer") => "integer",
            Some("number") => "number",
            Some("boolean") => "boolean",
            _ if map.contains_key("x-kubernetes-int-or-string") => "",
            _ => "object",
        };
        for rule in rules.iter().filter_map(|r| r.get("rule")?.as_str()) {
            out.insert(rule.to_string(), label);
        }
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        props.values().for_each(|child| collect_types(child, out));
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get(key) {
            collect_types(child, out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = map.get(key).and_then(Value::as_array) {
            branches.iter().for_each(|child| collect_types(child, out));
        }
    }
}
