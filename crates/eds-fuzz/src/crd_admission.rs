//! Arbitrary JSON through the admission of the three generated CRDs.
//!
//! The bytes are decoded as JSON (anything else is the API server's decoding error, not
//! admission's) and admitted as they are, then as an object of each kind (with `apiVersion`,
//! `kind` and a name set when missing). An object admitted once must be admitted again,
//! unchanged, as an update of itself: defaulting and pruning are idempotent and a transition
//! rule holds when nothing changed.

use std::sync::OnceLock;

use crd_schema::CrdSchema;
use serde_json::{Value, json};

/// The CRDs as `cargo xtask gen` writes them.
const CRDS: [(&str, &str); 3] = [
    (
        "ExtendedDaemonSet",
        include_str!("../../../crds/datadoghq.com_extendeddaemonsets.yaml"),
    ),
    (
        "ExtendedDaemonSetReplicaSet",
        include_str!("../../../crds/datadoghq.com_extendeddaemonsetreplicasets.yaml"),
    ),
    (
        "ExtendedDaemonsetSetting",
        include_str!("../../../crds/datadoghq.com_extendeddaemonsetsettings.yaml"),
    ),
];

/// The compiled schema of every CRD, by kind.
pub fn schemas() -> &'static [(&'static str, CrdSchema)] {
    static SCHEMAS: OnceLock<Vec<(&'static str, CrdSchema)>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        CRDS.iter()
            .map(|(kind, text)| {
                let crd: Value = serde_saphyr::from_str(text).expect("generated CRD is YAML");
                let schema = crd
                    .pointer("/spec/versions/0/schema/openAPIV3Schema")
                    .expect("generated CRD has a schema");
                let schema = CrdSchema::new(schema).expect("generated CRD schema compiles");
                (*kind, schema)
            })
            .collect()
    })
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for (kind, schema) in schemas() {
        let mut raw = value.clone();
        let _ = schema.admit(&mut raw, None);
        let _ = schema.unknown_fields(&value);
        let Value::Object(map) = &value else { continue };
        let mut object = map.clone();
        object
            .entry("apiVersion")
            .or_insert_with(|| json!("datadoghq.com/v1alpha1"));
        object.entry("kind").or_insert_with(|| json!(kind));
        let meta = object.entry("metadata").or_insert_with(|| json!({}));
        if let Value::Object(meta) = meta {
            meta.entry("name").or_insert_with(|| json!("fuzz"));
        }
        let mut first = Value::Object(object);
        if schema.admit(&mut first, None).is_ok() {
            let mut again = first.clone();
            let result = schema.admit(&mut again, Some(&first));
            assert!(
                result.is_ok(),
                "{kind}: an admitted object is refused as an update of itself: {result:?}\n{first}"
            );
            assert_eq!(
                again, first,
                "{kind}: admitting an admitted object changed it"
            );
        }
    }
}
