//! Node resource-override annotations:
//! `resources.extendeddaemonset.datadoghq.com/<ns>.<eds>.<container>` holds the JSON
//! ResourceRequirements of that container on that node.
//!
//! An annotation is applied only if the API server would take the pod it makes: a JSON object
//! of `limits`, `requests` and `claims` only (a misspelt `limit` would otherwise be dropped
//! without a word), quantities in Kubernetes form and not negative, for a container of the
//! template, requests no larger than their limits. Anything else is reported, with what is
//! allowed, and ignored.

use k8s_openapi::api::core::v1::ResourceRequirements;
use serde_json::Value;

use resource_quantity::Quantity;

use super::HASH_LEN;
use crate::{digest::NodeDigest, revision::sha256_hex};
use eds_api::constants::keys;

/// Fields of ResourceRequirements.
const FIELDS: [&str; 3] = ["limits", "requests", "claims"];

/// The resource overrides a node's annotations set for the containers of one EDS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeOverrides {
    /// Valid overrides, by container name.
    pub resources: Vec<(String, ResourceRequirements)>,
    /// Annotations ignored: `(annotation key, what is wrong and what is allowed)`.
    pub errors: Vec<(String, String)>,
    /// Hash of the override annotations (pod annotation `nodehash`); `None` without any.
    pub hash: Option<String>,
}

/// Prefix of the override annotations of ExtendedDaemonSet `ns/eds` (the container name
/// follows).
pub fn overrides_prefix(ns: &str, eds: &str) -> String {
    keys::node_resources_annotation(ns, eds, "")
}

/// Whether `node` has an annotation starting with `prefix` (see [`overrides_prefix`]): most
/// nodes have none, and the check spares them building and dropping a [`NodeOverrides`].
pub fn has_overrides(node: &NodeDigest, prefix: &str) -> bool {
    node.override_annotations()
        .any(|(key, _)| key.starts_with(prefix))
}

/// Reads the override annotations of `node` with `prefix` (see [`overrides_prefix`]) for a
/// template with `containers`.
pub fn node_overrides(node: &NodeDigest, prefix: &str, containers: &[&str]) -> NodeOverrides {
    let mut out = NodeOverrides::default();
    let mut hashed = String::new();
    // In key order, so the hash does not depend on the order they were written in.
    for (key, value) in node.override_annotations() {
        let Some(container) = key.strip_prefix(prefix) else {
            continue;
        };
        hashed.push_str(key);
        hashed.push('=');
        hashed.push_str(value);
        hashed.push('\n');
        match parse(container, value, containers) {
            Ok(resources) => out.resources.push((container.to_string(), resources)),
            Err(e) => out.errors.push((key.to_string(), e)),
        }
    }
    if !hashed.is_empty() {
        let mut hash = sha256_hex(hashed.as_bytes());
        hash.truncate(HASH_LEN);
        out.hash = Some(hash);
    }
    out
}

/// Parses and checks one annotation value.
fn parse(
    container: &str,
    value: &str,
    containers: &[&str],
) -> Result<ResourceRequirements, String> {
    if !containers.contains(&container) {
        return Err(format!(
            "container {container:?} is not in the ExtendedDaemonSet template (containers: {})",
            containers.join(", ")
        ));
    }
    let example = r#"e.g. {"requests":{"cpu":"100m"},"limits":{"memory":"256Mi"}}"#;
    let json: Value = serde_json::from_str(value)
        .map_err(|e| format!("not JSON ({e}); expected ResourceRequirements, {example}"))?;
    let Value::Object(fields) = &json else {
        return Err(format!(
            "not a JSON object; expected ResourceRequirements, {example}"
        ));
    };
    if let Some(field) = fields.keys().find(|f| !FIELDS.contains(&f.as_str())) {
        return Err(format!(
            "unknown field {field:?}; allowed: {}",
            FIELDS.join(", ")
        ));
    }
    let resources: ResourceRequirements = serde_json::from_value(json)
        .map_err(|e| format!("not a ResourceRequirements ({e}); expected {example}"))?;
    let mut parsed = [Vec::new(), Vec::new()];
    for ((field, list), out) in [
        ("limits", &resources.limits),
        ("requests", &resources.requests),
    ]
    .into_iter()
    .zip(&mut parsed)
    {
        for (name, q) in list.iter().flatten() {
            let value = Quantity::parse(&q.0).map_err(|_| {
                format!(
                    "{field}.{name}: {:?} is not a quantity; expected a number with an \
                     optional suffix (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an \
                     exponent), e.g. 100m, 0.5, 256Mi, 1e3",
                    q.0
                )
            })?;
            if value.is_negative() {
                return Err(format!(
                    "{field}.{name}: {:?} must be greater than or equal to 0",
                    q.0
                ));
            }
            out.push((name, q, value));
        }
    }
    let [limits, requests] = parsed;
    for (name, request, value) in &requests {
        if let Some((_, limit, _)) = limits
            .iter()
            .find(|(l, _, v)| l == name && value.cmp_value(v).is_gt())
        {
            return Err(format!(
                "requests.{name}: {:?} must be less than or equal to the {name} limit of {:?}",
                request.0, limit.0
            ));
        }
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str, container: &str) -> Result<ResourceRequirements, String> {
        parse(container, value, &["app", "sidecar"])
    }

    #[test]
    fn valid_overrides_are_applied() {
        let r = one(
            r#"{"requests":{"cpu":"100m","memory":"1.5Gi"},"limits":{"cpu":"1e3","memory":"1536Mi"}}"#,
            "app",
        )
        .unwrap();
        assert_eq!(r.requests.unwrap()["memory"].0, "1.5Gi");
        assert!(one("{}", "sidecar").is_ok());
        // Every suffix of the grammar, micro and nano included.
        assert!(
            one(
                r#"{"requests":{"cpu":"500u"},"limits":{"cpu":"500000n"}}"#,
                "app"
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_overrides_say_what_is_allowed() {
        let cases = [
            ("cpu=1", "app", "not JSON"),
            ("[1]", "app", "not a JSON object"),
            (
                r#"{"limit":{"cpu":"1"}}"#,
                "app",
                r#"unknown field "limit"; allowed: limits, requests, claims"#,
            ),
            (r#"{"limits":"1"}"#, "app", "not a ResourceRequirements"),
            (
                r#"{"limits":{"cpu":"lots"}}"#,
                "app",
                r#"limits.cpu: "lots" is not a quantity"#,
            ),
            (
                r#"{"requests":{"memory":"-1Gi"}}"#,
                "app",
                "must be greater than or equal to 0",
            ),
            (
                r#"{"requests":{"cpu":"2"},"limits":{"cpu":"1500m"}}"#,
                "app",
                r#"requests.cpu: "2" must be less than or equal to the cpu limit of "1500m""#,
            ),
            (
                "{}",
                "nosuch",
                r#"container "nosuch" is not in the ExtendedDaemonSet template (containers: app, sidecar)"#,
            ),
        ];
        for (value, container, expect) in cases {
            let err = one(value, container).unwrap_err();
            assert!(err.contains(expect), "{value}: {err}");
        }
    }
}
