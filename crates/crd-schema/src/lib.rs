//! CRD schema admission: structural check, validation, pruning, defaulting and CEL rules.
//!
//! [`CrdSchema::new`] takes the `openAPIV3Schema` of one CRD version and rejects it as the
//! Kubernetes API server would (non-structural schema, invalid pattern, CEL rule that does not
//! compile, default that does not validate), naming the schema path in every cause.
//!
//! [`CrdSchema::admit`] then runs on every write of a custom resource, in the API server's
//! order:
//! 1. prune the fields the schema does not specify (`x-kubernetes-preserve-unknown-fields` and
//!    `additionalProperties` keep theirs; `apiVersion`, `kind` and `metadata` at the root are
//!    never pruned: metadata is ObjectMeta, which the API server handles itself), then drop the
//!    `null`s of fields that are neither nullable nor defaulted;
//! 2. apply the schema defaults, recursively, only where the parent exists;
//! 3. validate: type (integer vs number), nullable, int-or-string, required, enum, pattern,
//!    minimum/maximum (exclusive), multipleOf, min/maxLength, min/maxItems,
//!    min/maxProperties, list-type set/map uniqueness, `date-time`/`date` and int32/int64
//!    formats, junctors;
//! 4. evaluate the `x-kubernetes-validations` CEL rules with [`kube_cel`], unless step 3 found
//!    a type, required, enum or size error (the rules would see a value of the wrong shape),
//!    as the API server does.
//!
//! Causes carry the field path, the reason and the message the API server gives, e.g.
//! `spec.strategy.canary.replicas: Invalid value: "150%": spec.strategy.canary.replicas in
//! body should match '^(100|[1-9]?[0-9])%$'`. Validation ratcheting (accepting unchanged
//! invalid fields on update) is not modelled: every write is validated in full.

mod cause;
mod cel;
mod default;
mod node;
mod prune;
mod structural;
mod validate;

use std::sync::Arc;

use serde_json::Value;

pub use cause::{FieldCause, invalid_message, reason};

use node::Node;

/// Fields of `metadata` (ObjectMeta): the API server decodes them itself, so they are known
/// whatever the schema says.
const OBJECT_META_FIELDS: [&str; 16] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "clusterName",
];

/// Why a CRD schema was rejected. Every cause names its path from `openAPIV3Schema`, so an
/// API server reports `spec.versions[i].schema.<field>`.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema is not structural: a field without a type, a junctor that sets types,
    /// defaults or fields the skeleton lacks, `additionalProperties` beside `properties`, an
    /// unsupported keyword, an invalid pattern or list type...
    #[error("openAPIV3Schema is not a valid structural schema: {}", join(.0))]
    NotStructural(Vec<FieldCause>),
    /// An `x-kubernetes-validations` rule (or its `messageExpression`) does not compile.
    #[error("openAPIV3Schema has invalid x-kubernetes-validations rules: {}", join(.0))]
    InvalidRule(Vec<FieldCause>),
    /// A `default` is not valid for its own schema (unknown fields, wrong type, bounds...).
    #[error("openAPIV3Schema has invalid defaults: {}", join(.0))]
    InvalidDefault(Vec<FieldCause>),
}

impl SchemaError {
    /// The individual causes, each with its schema path.
    pub fn causes(&self) -> &[FieldCause] {
        match self {
            Self::NotStructural(c) | Self::InvalidRule(c) | Self::InvalidDefault(c) => c,
        }
    }
}

fn join(causes: &[FieldCause]) -> String {
    let texts: Vec<String> = causes.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// The admission logic of one CRD version, built once when the CRD is stored and shared
/// (cheap to clone, `Send + Sync`) by every request on its custom resources.
#[derive(Clone, Debug)]
pub struct CrdSchema {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: Node,
    rules: cel::Rules,
}

impl CrdSchema {
    /// Checks and compiles a version's `openAPIV3Schema`.
    pub fn new(schema: &Value) -> Result<CrdSchema, SchemaError> {
        let violations = structural::check(schema);
        if !violations.is_empty() {
            return Err(SchemaError::NotStructural(violations));
        }
        let rules = cel::Rules::compile(schema).map_err(SchemaError::InvalidRule)?;
        let root = Node::parse(schema);
        let mut bad_defaults = Vec::new();
        default::check_defaults(&root, "openAPIV3Schema", &mut bad_defaults);
        if !bad_defaults.is_empty() {
            return Err(SchemaError::InvalidDefault(bad_defaults));
        }
        Ok(CrdSchema {
            inner: Arc::new(Inner { root, rules }),
        })
    }

    /// Admits a write: prunes and defaults `object` in place (the full object with
    /// `apiVersion`, `kind` and `metadata`), then validates it and evaluates the CEL rules
    /// (`old` is the stored object on an update, for transition rules). On error the object
    /// may be partly pruned/defaulted and must not be stored.
    pub fn admit(&self, object: &mut Value, old: Option<&Value>) -> Result<(), Vec<FieldCause>> {
        self.normalize(object);
        let mut causes = Vec::new();
        validate::validate(&self.inner.root, object, "", &mut causes);
        if causes.iter().any(validate::is_blocking) {
            let detail = "some validation rules were not checked because the object was invalid; \
                          correct the existing errors to complete validation";
            causes.push(FieldCause::invalid("", &Value::Null, detail));
            return Err(causes);
        }
        causes.extend(self.inner.rules.evaluate(object, old));
        if causes.is_empty() {
            Ok(())
        } else {
            Err(causes)
        }
    }

    /// The fields of `object` the schema does not specify, by path (`spec.foo`,
    /// `spec.template.spec.containers[0].nmae`, `metadata.nmae`), in document order: what
    /// admission would prune, and what the API server's strict field validation
    /// (`fieldValidation=Strict`, the default of `kubectl apply`) rejects as
    /// `unknown field "spec.foo"`. `object` itself is left unchanged.
    pub fn unknown_fields(&self, object: &Value) -> Vec<String> {
        let mut copy = object.clone();
        let mut pruned = Vec::new();
        if let Some(meta) = object.get("metadata").and_then(Value::as_object) {
            pruned.extend(
                meta.keys()
                    .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
                    .map(|k| format!("metadata.{k}")),
            );
        }
        prune::prune_reporting(&self.inner.root, &mut copy, true, &mut pruned);
        pruned
    }

    /// Prunes unknown fields and applies defaults without validating: what the API server
    /// does to an object it reads back from storage after the schema changed.
    pub fn normalize(&self, object: &mut Value) {
        prune::prune(&self.inner.root, object, true);
        prune::prune_nulls(&self.inner.root, object);
        default::apply(&self.inner.root, object);
    }
}

#[cfg(test)]
mod tests;
