//! Chart-only templates, which kustomize has no counterpart for: the PodDisruptionBudget of a
//! replicated controller, the `helm test` pod, and the CRDs as templates for users who want
//! `helm upgrade` to update them.

use k8s_openapi::api::{
    core::v1::{Capabilities, Container, Pod, PodSecurityContext, PodSpec, SecurityContext},
    policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec},
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::json;

use super::{FULLNAME, LABELS, NAMESPACE, SELECTOR_LABELS};
use crate::{
    Error, crds,
    helm::{Insert, template},
    manager::METRICS_PORT,
    yaml,
};

fn metadata(name: &str) -> Vec<Insert> {
    vec![
        Insert::expr("/metadata/name", name),
        Insert::expr("/metadata/namespace", NAMESPACE),
        Insert::text("/metadata/labels", LABELS),
    ]
}

fn guarded(condition: &str, documents: &[String]) -> String {
    let mut out = format!("{}\n{{{{- if {condition} }}}}\n", yaml::HEADER);
    for document in documents {
        out.push_str("---\n");
        out.push_str(document);
    }
    out.push_str("{{- end }}\n");
    out
}

/// `poddisruptionbudget.yaml`: one replica may be evicted at a time, so a drain never leaves
/// the cluster without a controller; with a single replica it would block every drain.
fn pod_disruption_budget() -> Result<String, Error> {
    let object = PodDisruptionBudget {
        metadata: ObjectMeta::default(),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: None,
            selector: Some(LabelSelector::default()),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    };
    let mut inserts = metadata(FULLNAME);
    inserts.extend([
        Insert::expr(
            "/spec/minAvailable",
            "{{ $.Values.podDisruptionBudget.minAvailable }}",
        ),
        Insert::text("/spec/selector/matchLabels", SELECTOR_LABELS),
    ]);
    Ok(guarded(
        "and $.Values.podDisruptionBudget.enabled (gt (int $.Values.replicas) 1)",
        &[template(&object, &inserts)?],
    ))
}

/// `tests/test-metrics.yaml`: `helm test` passes when the metrics Service answers with the
/// controller's metrics, i.e. a controller pod is ready behind it.
fn test_pod() -> Result<String, Error> {
    let script = format!(
        "wget -q -T 10 -O - http://$SERVICE:{METRICS_PORT}/metrics | grep -q '^# TYPE eds_'"
    );
    let object = Pod {
        metadata: ObjectMeta {
            annotations: Some(
                [
                    ("helm.sh/hook", "test"),
                    (
                        "helm.sh/hook-delete-policy",
                        "before-hook-creation,hook-succeeded",
                    ),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".to_string()),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(65534),
                seccomp_profile: Some(k8s_openapi::api::core::v1::SeccompProfile {
                    type_: "RuntimeDefault".to_string(),
                    ..Default::default()
                }),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: "metrics".to_string(),
                command: Some(vec!["sh".to_string(), "-c".to_string(), script]),
                env: Some(vec![k8s_openapi::api::core::v1::EnvVar {
                    name: "SERVICE".to_string(),
                    value: Some("x".to_string()),
                    value_from: None,
                }]),
                security_context: Some(SecurityContext {
                    allow_privilege_escalation: Some(false),
                    read_only_root_filesystem: Some(true),
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".to_string()]),
                        ..Capabilities::default()
                    }),
                    ..SecurityContext::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: None,
    };
    let mut inserts = metadata(&format!("{FULLNAME}-test-metrics"));
    inserts.extend([
        Insert::expr(
            "/spec/containers/0/image",
            "{{ $.Values.test.image | quote }}",
        ),
        Insert::expr(
            "/spec/containers/0/env/0/value",
            format!("{FULLNAME}-metrics"),
        ),
    ]);
    Ok(yaml::file(&[template(&object, &inserts)?]))
}

/// `crds.yaml`: the CRDs of `crds/` as templates, when `crds.template` is set; kept on
/// uninstall, since deleting a CRD deletes every object of its kind.
fn crd_templates() -> Result<String, Error> {
    let mut documents = Vec::new();
    for crd in crds::all() {
        let mut value = json!(crd);
        value["metadata"]["annotations"] = json!({"helm.sh/resource-policy": "keep"});
        documents.push(template(
            &value,
            &[Insert::text("/metadata/labels", LABELS)],
        )?);
    }
    Ok(guarded("$.Values.crds.template", &documents))
}

/// The files, named relative to `templates/`.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    Ok(vec![
        (
            "poddisruptionbudget.yaml".to_string(),
            pod_disruption_budget()?,
        ),
        ("tests/test-metrics.yaml".to_string(), test_pod()?),
        ("crds.yaml".to_string(), crd_templates()?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::NAME;

    #[test]
    fn the_test_pod_is_a_helm_test_hook() {
        let text = test_pod().unwrap();
        assert!(text.contains("helm.sh/hook: test"), "{text}");
        assert!(text.contains(&format!("{NAME}.fullname")), "{text}");
    }
}
