//! The proposed ExtendedDaemonSet: admitted offline as the API server would admit it, and
//! merged into the stored object so the planner sees what the cluster would store.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResourceExt;
use serde_json::Value;

use super::{error::PlanError, input::Located};
use crate::{
    api::{ExtendedDaemonSet, ValidationMode, validate::validate_spec},
    sim::schema::CrdSchema,
};

/// The admission of the ExtendedDaemonSet CRD: its schema, defaults and validation rules.
pub struct Admission {
    schema: CrdSchema,
}

impl Admission {
    /// Compiles the schema of the ExtendedDaemonSet CRD this program generates.
    pub fn new() -> Self {
        let crd = ExtendedDaemonSet::crd();
        let schema = crd
            .spec
            .versions
            .first()
            .and_then(|v| v.schema.as_ref())
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(Value::Null);
        // The CRD is generated from our own types; its schema compiling is checked by the CRD
        // tests, so a failure here is a programming error, not bad input.
        let schema =
            CrdSchema::new(&schema).expect("the generated ExtendedDaemonSet CRD schema compiles");
        Self { schema }
    }

    /// Admits the proposed object in `namespace`: prunes unknown fields, applies the schema
    /// defaults, checks the schema, its CEL rules and the controller's own spec rules.
    pub fn admit(
        &self,
        proposed: &Located,
        namespace: &str,
    ) -> Result<ExtendedDaemonSet, PlanError> {
        let mut value = proposed.value.clone();
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(namespace.into()));
        }
        let invalid = |causes: Vec<String>| PlanError::InvalidSpec {
            at: proposed.at.clone(),
            name: proposed.name().to_string(),
            causes,
        };
        if proposed.name().is_empty() {
            return Err(invalid(vec!["metadata.name: Required value".into()]));
        }
        self.schema
            .admit(&mut value, None)
            .map_err(|causes| invalid(causes.iter().map(ToString::to_string).collect()))?;
        let admitted = Located {
            at: proposed.at.clone(),
            value,
        };
        let eds: ExtendedDaemonSet = admitted.parse()?;
        let errors = validate_spec(&eds.spec, ValidationMode::Auto);
        if !errors.is_empty() {
            return Err(invalid(errors.iter().map(ToString::to_string).collect()));
        }
        Ok(eds)
    }

    /// Applies the schema defaults to a stored object (a state file may hold an object written
    /// before a default existed, or written by hand), so the diff shows only real changes.
    pub fn default_stored(&self, eds: &ExtendedDaemonSet) -> ExtendedDaemonSet {
        let Ok(mut value) = serde_json::to_value(eds) else {
            return eds.clone();
        };
        let status = value.as_object_mut().and_then(|o| o.remove("status"));
        self.schema.normalize(&mut value);
        if let (Some(status), Some(o)) = (status, value.as_object_mut()) {
            o.insert("status".into(), status);
        }
        serde_json::from_value(value).unwrap_or_else(|_| eds.clone())
    }
}

impl Default for Admission {
    fn default() -> Self {
        Self::new()
    }
}

/// How the proposed labels and annotations combine with the stored ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataMerge {
    /// The proposed object already holds the result (a server-side dry-run apply).
    Replace,
    /// Keys of the proposed object win; stored keys it does not set are kept, as server-side
    /// apply keeps the keys other field managers own (e.g. `kubectl eds canary pause`).
    Overlay,
}

/// The object the cluster would store: the stored object's identity and status with the
/// proposed spec, labels and annotations; `generation` grows when the spec changes. Without a
/// stored object, the proposed one as first created at `now`.
pub fn merge(
    stored: Option<&ExtendedDaemonSet>,
    proposed: ExtendedDaemonSet,
    how: MetadataMerge,
    now: Timestamp,
) -> ExtendedDaemonSet {
    let Some(stored) = stored else {
        let mut created = proposed;
        created.metadata.generation = Some(1);
        created.metadata.creation_timestamp = Some(Time(now));
        created.metadata.managed_fields = None;
        created.status = None;
        return created;
    };
    let mut out = stored.clone();
    if out.spec != proposed.spec {
        out.metadata.generation = Some(stored.metadata.generation.unwrap_or(0) + 1);
    }
    out.spec = proposed.spec;
    let combine = |old: &Option<BTreeMap<String, String>>,
                   new: Option<BTreeMap<String, String>>| {
        let mut map = match how {
            MetadataMerge::Replace => BTreeMap::new(),
            MetadataMerge::Overlay => old.clone().unwrap_or_default(),
        };
        map.extend(new.unwrap_or_default());
        (!map.is_empty()).then_some(map)
    };
    out.metadata.labels = combine(&stored.metadata.labels, proposed.metadata.labels);
    out.metadata.annotations = combine(&stored.metadata.annotations, proposed.metadata.annotations);
    out
}
