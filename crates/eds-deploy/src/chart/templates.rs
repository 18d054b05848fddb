//! The chart templates of the controller: Deployment, ServiceAccount, metrics Service and
//! ServiceMonitor. Each is the object kustomize gets (built by [`manager`]) with the
//! value-dependent fields turned into Helm expressions.

use serde_json::json;

use super::{FULLNAME, LABELS, NAMESPACE, SELECTOR_LABELS, SERVICE_ACCOUNT};
use crate::{
    Error,
    helm::{Insert, template},
    manager::{self, Identity, METRICS_PORT_NAME, WatchNamespace},
    values::Values,
    yaml,
};

/// Inserts of the metadata every namespaced object of the release has.
fn metadata(name: &str, labels: &str) -> Vec<Insert> {
    vec![
        Insert::expr("/metadata/name", name),
        Insert::expr("/metadata/namespace", NAMESPACE),
        Insert::text("/metadata/labels", labels),
    ]
}

/// Pod template labels: the selector labels plus `podLabels`.
const POD_LABELS: &str = "{{- include \"extendeddaemonset.selectorLabels\" $ | nindent {n} }}\n{{- with $.Values.podLabels }}{{ toYaml . | nindent {n} }}{{- end }}";

/// ServiceMonitor labels: the labels plus `serviceMonitor.labels`.
const MONITOR_LABELS: &str = "{{- include \"extendeddaemonset.labels\" $ | nindent {n} }}\n{{- with $.Values.serviceMonitor.labels }}{{ toYaml . | nindent {n} }}{{- end }}";

fn deployment() -> Result<String, Error> {
    let values = Values::default();
    let object = manager::deployment(&values, &Identity::kustomize());
    let pod = "/spec/template/spec";
    let container = "/spec/template/spec/containers/0";
    let at = |base: &str, path: &str| format!("{base}/{path}");
    let watch_list =
        WatchNamespace::List(vec!["{{ join `,` $.Values.watchNamespaces }}".to_string()]);
    let mut inserts = metadata(FULLNAME, LABELS);
    inserts.extend([
        Insert::expr("/spec/replicas", "{{ $.Values.replicas }}"),
        Insert::text("/spec/selector/matchLabels", SELECTOR_LABELS),
        Insert::text("/spec/template/metadata/labels", POD_LABELS),
        Insert::yaml(
            "/spec/template/metadata/annotations",
            "$.Values.podAnnotations",
            true,
        ),
        Insert::expr(&at(pod, "serviceAccountName"), SERVICE_ACCOUNT),
        Insert::yaml(
            &at(pod, "imagePullSecrets"),
            "$.Values.imagePullSecrets",
            true,
        ),
        Insert::yaml(
            &at(pod, "securityContext"),
            "$.Values.podSecurityContext",
            true,
        ),
        Insert::yaml(&at(pod, "nodeSelector"), "$.Values.nodeSelector", true),
        Insert::yaml(&at(pod, "tolerations"), "$.Values.tolerations", true),
        Insert::yaml(&at(pod, "affinity"), "$.Values.affinity", true),
        Insert::yaml(
            &at(pod, "priorityClassName"),
            "$.Values.priorityClassName",
            true,
        ),
        Insert::expr(
            &at(container, "image"),
            "{{ printf \"%s:%s\" $.Values.image.repository ($.Values.image.tag | default $.Chart.AppVersion) | quote }}",
        ),
        Insert::expr(
            &at(container, "imagePullPolicy"),
            "{{ $.Values.image.pullPolicy }}",
        ),
        Insert::expr(
            &at(container, "args/4"),
            "{{ printf \"--log-format=%s\" $.Values.logFormat | quote }}",
        ),
        Insert::expr(
            &at(container, "args/5"),
            "{{ printf \"--log-level=%s\" $.Values.logLevel | quote }}",
        ),
        Insert::text(
            &at(container, "args/6"),
            "{{- with $.Values.extraArgs }}\n{{- toYaml . | nindent {n} }}\n{{- end }}",
        ),
        Insert::text(
            &at(container, "env/4"),
            "{{- with $.Values.extraEnv }}\n{{- toYaml . | nindent {n} }}\n{{- end }}",
        ),
        Insert::Choice {
            pointer: at(container, "env/0"),
            branches: vec![
                (
                    "$.Values.clusterScope".to_string(),
                    json!(WatchNamespace::All.env()),
                ),
                (
                    "$.Values.watchNamespaces".to_string(),
                    json!(watch_list.env()),
                ),
                (String::new(), json!(WatchNamespace::Own.env())),
            ],
        },
        Insert::expr(
            &at(container, "env/1/value"),
            "{{ $.Values.validationMode | quote }}",
        ),
        Insert::yaml(&at(container, "resources"), "$.Values.resources", true),
        Insert::yaml(
            &at(container, "securityContext"),
            "$.Values.securityContext",
            true,
        ),
    ]);
    template(&object, &inserts)
}

fn service_account() -> Result<String, Error> {
    let object = manager::service_account(&Values::default(), &Identity::kustomize());
    let mut inserts = metadata(SERVICE_ACCOUNT, LABELS);
    inserts.push(Insert::yaml(
        "/metadata/annotations",
        "$.Values.serviceAccount.annotations",
        true,
    ));
    Ok(format!(
        "{{{{- if $.Values.serviceAccount.create }}}}\n---\n{}{{{{- end }}}}\n",
        template(&object, &inserts)?
    ))
}

fn metrics_service() -> Result<String, Error> {
    let object = manager::metrics_service(&Identity::kustomize());
    let mut inserts = metadata(&format!("{FULLNAME}-metrics"), LABELS);
    inserts.push(Insert::text("/spec/selector", SELECTOR_LABELS));
    template(&object, &inserts)
}

/// The Prometheus Operator ServiceMonitor (not a k8s-openapi type), only when enabled.
fn service_monitor() -> Result<String, Error> {
    let object = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {},
        "spec": {
            "selector": {},
            "endpoints": [{"port": METRICS_PORT_NAME, "path": "/metrics"}],
        },
    });
    let mut inserts = metadata(FULLNAME, MONITOR_LABELS);
    inserts.extend([
        Insert::text("/spec/selector/matchLabels", SELECTOR_LABELS),
        Insert::expr(
            "/spec/endpoints/0/interval",
            "{{ $.Values.serviceMonitor.interval | quote }}",
        ),
    ]);
    Ok(format!(
        "{{{{- if $.Values.serviceMonitor.enabled }}}}\n---\n{}{{{{- end }}}}\n",
        template(&object, &inserts)?
    ))
}

/// The Argo CD health check and actions for ExtendedDaemonSets as a ConfigMap Argo CD reads
/// (`argocd-cm` keys), only when `argocd.enabled`.
fn argocd_config_map() -> Result<String, Error> {
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {},
        "data": crate::argocd::data()?,
    });
    let inserts = vec![
        Insert::expr("/metadata/name", "{{ $.Values.argocd.configMapName }}"),
        Insert::expr("/metadata/namespace", "{{ $.Values.argocd.namespace }}"),
        Insert::text("/metadata/labels", LABELS),
    ];
    Ok(format!(
        "{{{{- if $.Values.argocd.enabled }}}}\n---\n{}{{{{- end }}}}\n",
        template(&object, &inserts)?
    ))
}

/// The template files, named.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    let single = |text: String| yaml::file(&[text]);
    Ok(vec![
        ("deployment.yaml".to_string(), single(deployment()?)),
        (
            "serviceaccount.yaml".to_string(),
            format!("{}\n{}", yaml::HEADER, service_account()?),
        ),
        ("service.yaml".to_string(), single(metrics_service()?)),
        (
            "servicemonitor.yaml".to_string(),
            format!("{}\n{}", yaml::HEADER, service_monitor()?),
        ),
        (
            "argocd-cm.yaml".to_string(),
            format!("{}\n{}", yaml::HEADER, argocd_config_map()?),
        ),
    ])
}
