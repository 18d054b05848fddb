//! The proposed ExtendedDaemonSet: admitted offline as the API server would admit it, and
//! merged into the stored object so the planner sees what the cluster would store.

use std::{collections::BTreeMap, sync::OnceLock};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResourceExt;
use serde_json::Value;

use super::{
    error::{PlanError, explain},
    input::Located,
};
use crd_schema::CrdSchema;
use eds_api::{ExtendedDaemonSet, ValidationMode, validate::validate_spec};

/// The admission of the ExtendedDaemonSet CRD: its schema, defaults and validation rules.
pub struct Admission {
    schema: CrdSchema,
}

impl Admission {
    /// The schema of the ExtendedDaemonSet CRD this program generates, compiled once per
    /// process: compiling its CEL rules takes far longer than admitting an object, and `-f` may
    /// hold many ExtendedDaemonSets.
    pub fn new() -> Self {
        static SCHEMA: OnceLock<CrdSchema> = OnceLock::new();
        Self {
            schema: SCHEMA.get_or_init(compile).clone(),
        }
    }

    /// Admits the proposed object in `namespace`: rejects unknown fields, then prunes, applies
    /// the schema defaults, checks the schema, its CEL rules and the controller's own spec
    /// rules.
    pub fn admit(
        &self,
        proposed: &Located,
        namespace: &str,
    ) -> Result<ExtendedDaemonSet, PlanError> {
        self.check_fields(proposed)?;
        let mut value = proposed.value.clone();
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(namespace.into()));
        }
        self.admit_value(proposed, value, None)
    }

    /// Rejects the fields of the file the CRD does not know, as `kubectl apply` does (strict
    /// field validation, its default): a typo such as `replica:` would otherwise be dropped
    /// without a word.
    pub fn check_fields(&self, proposed: &Located) -> Result<(), PlanError> {
        let fields = self.schema.unknown_fields(&proposed.value);
        if fields.is_empty() {
            return Ok(());
        }
        Err(PlanError::UnknownFields {
            at: proposed.at.clone(),
            name: proposed.name().to_string(),
            fields,
        })
    }

    /// Admits `value`, the object to store for `proposed` (the file, or the result of the
    /// apply's merge): prunes, defaults, checks the schema, its CEL rules (`old` for transition
    /// rules) and the controller's own spec rules.
    pub fn admit_value(
        &self,
        proposed: &Located,
        value: Value,
        old: Option<&Value>,
    ) -> Result<ExtendedDaemonSet, PlanError> {
        self.admit_value_as_written(proposed, value, old)
            .map(|(eds, _)| eds)
    }

    /// [`Admission::admit_value`], also returning the admitted JSON, whose values are as
    /// written (`5m` stays `5m`; the typed object prints `300s`).
    pub fn admit_value_as_written(
        &self,
        proposed: &Located,
        mut value: Value,
        old: Option<&Value>,
    ) -> Result<(ExtendedDaemonSet, Value), PlanError> {
        let invalid = |causes: Vec<String>| PlanError::InvalidSpec {
            at: proposed.at.clone(),
            name: proposed.name().to_string(),
            causes,
        };
        if proposed.name().is_empty() {
            return Err(invalid(vec!["metadata.name: Required value".into()]));
        }
        if let Some(o) = value.as_object_mut() {
            o.remove("status");
        }
        self.schema
            .admit(&mut value, old)
            .map_err(|causes| invalid(causes.iter().map(|c| explain(&c.to_string())).collect()))?;
        let admitted = Located {
            at: proposed.at.clone(),
            value,
        };
        let eds: ExtendedDaemonSet = admitted.parse()?;
        let errors = validate_spec(&eds.spec, ValidationMode::Auto);
        if !errors.is_empty() {
            return Err(invalid(errors.iter().map(ToString::to_string).collect()));
        }
        Ok((eds, admitted.value))
    }

    /// A stored object as written (a state file's), with the schema defaults and without
    /// status.
    pub fn normalized_value(&self, value: &Value) -> Value {
        let mut value = value.clone();
        if let Some(o) = value.as_object_mut() {
            o.remove("status");
        }
        self.schema.normalize(&mut value);
        value
    }

    /// A stored object as the JSON the API server holds (without status), for the merge of a
    /// client-side apply.
    pub fn stored_value(&self, eds: &ExtendedDaemonSet) -> Value {
        let mut value = serde_json::to_value(eds).unwrap_or(Value::Null);
        if let Some(o) = value.as_object_mut() {
            o.remove("status");
        }
        value
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

/// Compiles the schema of the ExtendedDaemonSet CRD.
fn compile() -> CrdSchema {
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
    CrdSchema::new(&schema).expect("the generated ExtendedDaemonSet CRD schema compiles")
}

#[cfg(test)]
mod tests {
    use super::*;
    use eds_plan::testing::{eds, t0};

    fn annotated(e: &mut ExtendedDaemonSet, key: &str, value: &str) {
        e.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
    }

    #[test]
    fn spec_change_bumps_generation_and_keeps_identity_and_status() {
        let mut stored = eds("foo").build();
        stored.metadata.generation = Some(4);
        stored.status = Some(Default::default());
        let proposed = eds("foo").image("app:v2").build();
        let merged = merge(
            Some(&stored),
            proposed.clone(),
            MetadataMerge::Overlay,
            t0(),
        );
        assert_eq!(merged.metadata.generation, Some(5));
        assert_eq!(merged.metadata.uid, stored.metadata.uid);
        assert_eq!(merged.status, stored.status);
        assert_eq!(merged.spec, proposed.spec);
        let same = merge(Some(&stored), stored.clone(), MetadataMerge::Overlay, t0());
        assert_eq!(
            same.metadata.generation,
            Some(4),
            "same spec, same generation"
        );
    }

    #[test]
    fn overlay_keeps_annotations_the_file_does_not_set_and_replace_does_not() {
        let mut stored = eds("foo").build();
        annotated(&mut stored, "paused-by-someone", "true");
        annotated(&mut stored, "team", "a");
        let mut proposed = eds("foo").build();
        annotated(&mut proposed, "team", "b");
        let overlay = merge(
            Some(&stored),
            proposed.clone(),
            MetadataMerge::Overlay,
            t0(),
        );
        let a = overlay.metadata.annotations.expect("annotations");
        assert_eq!(a.get("team").map(String::as_str), Some("b"));
        assert_eq!(a.get("paused-by-someone").map(String::as_str), Some("true"));
        let replace = merge(Some(&stored), proposed, MetadataMerge::Replace, t0());
        let a = replace.metadata.annotations.expect("annotations");
        assert!(!a.contains_key("paused-by-someone"));
    }

    #[test]
    fn a_new_object_starts_at_generation_one_without_status() {
        let mut proposed = eds("foo").build();
        proposed.status = Some(Default::default());
        let created = merge(None, proposed, MetadataMerge::Overlay, t0());
        assert_eq!(created.metadata.generation, Some(1));
        assert!(created.status.is_none());
        assert!(created.metadata.creation_timestamp.is_some());
    }

    #[test]
    fn admission_defaults_and_rejects_like_the_api_server() {
        let admission = Admission::new();
        let located = |value: serde_json::Value| Located {
            at: super::super::error::Location {
                path: "f.yaml".into(),
                document: 1,
                item: None,
            },
            value,
        };
        let good = located(serde_json::json!({
            "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
            "metadata": {"name": "foo"},
            "spec": {"strategy": {}, "template": {"spec": {"containers": [{"name": "app", "image": "app:v1"}]}}}
        }));
        let admitted = admission.admit(&good, "ns").expect("valid");
        assert_eq!(admitted.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(
            admitted.spec.revision_history_limit,
            Some(10),
            "schema default applied"
        );
        let mut typo = good.clone();
        typo.value["spec"]["replica"] = serde_json::json!(1);
        let err = admission
            .admit(&typo, "ns")
            .expect_err("unknown fields are rejected")
            .to_string();
        assert!(err.contains(r#"unknown field "spec.replica""#), "{err}");
        let mut bad = good.clone();
        bad.value["spec"]["strategy"]["rollingUpdate"] =
            serde_json::json!({"maxUnavailable": 0, "maxSurge": 0});
        let err = admission
            .admit(&bad, "ns")
            .expect_err("both 0 is invalid")
            .to_string();
        assert!(
            err.contains("maxSurge and maxUnavailable cannot both be 0"),
            "{err}"
        );
        let mut percent = good.clone();
        percent.value["spec"]["strategy"]["rollingUpdate"] =
            serde_json::json!({"maxUnavailable": "150%"});
        let err = admission
            .admit(&percent, "ns")
            .expect_err("150% is invalid")
            .to_string();
        assert!(
            err.contains("(a percentage from 0% to 100%, such as \"10%\")"),
            "{err}"
        );
    }
}
