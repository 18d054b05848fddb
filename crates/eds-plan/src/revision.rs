//! Revision identity: the template hash, ERS and pod names.
//!
//! A revision is identified by the SHA-256 of the pod template's canonical JSON (object keys
//! sorted, nulls and empty objects/arrays dropped, so `labels: {}` and no labels hash alike).
//! The hash must never change between releases of this program, or an upgrade would roll every
//! pod: `tests::pinned_hashes` fails if it does.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Hex characters of the template hash kept in names.
const TEMPLATE_HASH_LEN: usize = 10;
/// Hex characters of the node-name hash in pod names (40 bits: a collision among 10,000 nodes
/// has a probability near 5e-5, and [`pod_name`] lengthens the hash when one happens).
pub const NODE_HASH_LEN: usize = 10;
/// Longest ERS name: it is also a label value (63 characters).
const MAX_ERS_NAME: usize = 63;

/// The template hash of a pod template (10 hex characters).
pub fn template_hash(template: &PodTemplateSpec) -> String {
    let value = serde_json::to_value(template).unwrap_or(Value::Null);
    let mut hex = sha256_hex(canonical_json(&value).as_bytes());
    hex.truncate(TEMPLATE_HASH_LEN);
    hex
}

/// Canonical JSON of a value: keys sorted, nulls and empty containers dropped, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().all(is_empty),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| !is_empty(&map[*k])).collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(DIGITS[usize::from(byte >> 4)] as char);
        hex.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    hex
}

/// Name of the ERS of `hash` for ExtendedDaemonSet `eds`: `<eds>-<hash>`, the ExtendedDaemonSet
/// part shortened so the name fits in a label value.
pub fn ers_name(eds: &str, hash: &str) -> String {
    let keep = MAX_ERS_NAME.saturating_sub(hash.len() + 1);
    let prefix = eds[..floor_char_boundary(eds, keep)].trim_end_matches(['-', '.']);
    format!("{prefix}-{hash}")
}

/// Name of the pod of ERS `ers` on node `node`: `<ers>-<hash of node name>`, with `extra` more
/// hash characters when the short hash collides with another node's.
pub fn pod_name(ers: &str, node: &str, extra: usize) -> String {
    let hex = sha256_hex(node.as_bytes());
    format!("{ers}-{}", &hex[..(NODE_HASH_LEN + extra).min(hex.len())])
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(Default::default()),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "app".into(),
                    image: Some(image.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_empty_values() {
        let v = serde_json::json!({"b": 1, "a": {"z": null, "y": [], "x": {}}, "c": [{"k": "v"}]});
        assert_eq!(canonical_json(&v), r#"{"b":1,"c":[{"k":"v"}]}"#);
    }

    #[test]
    fn pinned_hashes() {
        // Checked against `printf %s <canonical json> | sha256sum`. These values must never
        // change: an upgrade of the controller would otherwise see every ERS as outdated and
        // roll every pod.
        assert_eq!(
            canonical_json(&serde_json::to_value(template("nginx:1.25")).unwrap()),
            r#"{"spec":{"containers":[{"image":"nginx:1.25","name":"app"}]}}"#
        );
        assert_eq!(template_hash(&template("nginx:1.25")), "c8ea2cc073");
        assert_eq!(template_hash(&template("nginx:1.26")), "d7664514ef");
        assert_eq!(
            pod_name("foo-c8ea2cc073", "node-1", 0),
            "foo-c8ea2cc073-35971be6e9"
        );
    }

    #[test]
    fn hash_ignores_empty_metadata() {
        let mut with_labels = template("nginx:1.25");
        with_labels.metadata.as_mut().unwrap().labels = Some(Default::default());
        assert_eq!(
            template_hash(&with_labels),
            template_hash(&template("nginx:1.25"))
        );
    }

    #[test]
    fn ers_names_fit_in_a_label() {
        let long = "a".repeat(80);
        let name = ers_name(&long, "0123456789");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("-0123456789"));
        assert_eq!(ers_name("foo", "0123456789"), "foo-0123456789");
    }
}
