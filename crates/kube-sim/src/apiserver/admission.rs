//! The boundary between the API server and CRD schema admission ([`crate::schema`]).
//!
//! A CRD's `openAPIV3Schema` is compiled once when the CRD is created or updated; every
//! create, update and patch of a custom resource then runs [`Admission::admit`], which
//! prunes unknown fields, applies defaults, validates and evaluates CEL rules.

use std::sync::Arc;

use serde_json::Value;

use super::error::Cause;
use crd_schema::{CrdSchema, FieldCause};

/// Schema admission of one custom resource version.
pub trait Admission: Send + Sync {
    /// Validates `obj` (the full object) in place: prunes, defaults, checks. `old` is the
    /// stored object on update (CEL transition rules use it). Returns the field causes of a
    /// rejection.
    fn admit(&self, obj: &mut Value, old: Option<&Value>) -> Result<(), Vec<Cause>>;

    /// Paths of the fields of `obj` the schema does not specify (what [`Admission::admit`]
    /// prunes), for `fieldValidation`.
    fn unknown_fields(&self, _obj: &Value) -> Vec<String> {
        Vec::new()
    }
}

/// Admission that accepts everything unchanged: versions without a schema.
pub struct AcceptAll;

impl Admission for AcceptAll {
    fn admit(&self, _obj: &mut Value, _old: Option<&Value>) -> Result<(), Vec<Cause>> {
        Ok(())
    }
}

impl Admission for CrdSchema {
    fn admit(&self, obj: &mut Value, old: Option<&Value>) -> Result<(), Vec<Cause>> {
        CrdSchema::admit(self, obj, old).map_err(|causes| causes.into_iter().map(cause).collect())
    }

    fn unknown_fields(&self, obj: &Value) -> Vec<String> {
        CrdSchema::unknown_fields(self, obj)
    }
}

fn cause(c: FieldCause) -> Cause {
    Cause {
        reason: c.reason,
        message: c.message,
        field: c.field,
    }
}

/// Compiles a CRD version's `openAPIV3Schema`. A rejected schema (non-structural, invalid
/// rule or default) gives causes whose fields are prefixed with `field_prefix`
/// (`spec.versions[0].schema`), as the real server reports them.
pub fn compile(
    schema: Option<&Value>,
    field_prefix: &str,
) -> Result<Arc<dyn Admission>, Vec<Cause>> {
    let Some(schema) = schema else {
        return Ok(Arc::new(AcceptAll));
    };
    match CrdSchema::new(schema) {
        Ok(compiled) => Ok(Arc::new(compiled)),
        Err(e) => Err(e
            .causes()
            .iter()
            .cloned()
            .map(|c| Cause {
                field: format!("{field_prefix}.{}", c.field),
                ..cause(c)
            })
            .collect()),
    }
}
