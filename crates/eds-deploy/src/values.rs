//! The Helm chart's values: one Rust type gives `values.schema.json`, the documented
//! `values.yaml` (see [`doc`]) and the defaults kustomize is generated with.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        Affinity, Capabilities, EnvVar, LocalObjectReference, PodSecurityContext,
        ResourceRequirements, SeccompProfile, SecurityContext, Toleration,
    },
    apimachinery::pkg::api::resource::Quantity,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use eds_api::ValidationMode;

pub mod doc;

/// Container image published with each release.
pub const IMAGE_REPOSITORY: &str = "ghcr.io/extendeddaemonset/extendeddaemonset";

/// Settings of the ExtendedDaemonSet controller release.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Values {
    /// Application name in the `app.kubernetes.io/name` label (default: the chart name).
    pub name_override: String,
    /// Name of every object of the release (default: the release name).
    pub fullname_override: String,
    /// Controller image.
    pub image: Image,
    /// Secrets used to pull the image.
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Controller pods; one leads (leader election on a Lease), the others stand by.
    #[schemars(range(min = 1))]
    pub replicas: i32,
    /// Watch ExtendedDaemonSets in every namespace (ClusterRole) instead of only
    /// `watchNamespaces` (Roles).
    pub cluster_scope: bool,
    /// Namespaces watched when clusterScope is false; empty means the release namespace
    /// (the upstream default).
    pub watch_namespaces: Vec<String>,
    /// Canary validation mode of canaries that do not set one (EDS_VALIDATION_MODE): auto or
    /// manual.
    pub validation_mode: ValidationMode,
    /// Log level (off, error, warn, info, debug, trace) or comma-separated `target=level`
    /// directives, e.g. `info,eds_controller=debug`; the controller refuses anything else.
    #[schemars(regex(pattern = eds_api::constants::LOG_LEVEL_PATTERN))]
    pub log_level: String,
    /// Log format: json (one object per line) or text.
    pub log_format: LogFormat,
    /// Extra arguments of `eds controller`, after the chart's (e.g. `--kube-api-qps=50`).
    pub extra_args: Vec<String>,
    /// Extra environment variables of the controller container.
    pub extra_env: Vec<EnvVar>,
    /// Resources of the controller container.
    pub resources: ResourceRequirements,
    /// Node selector of the controller pods.
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations of the controller pods.
    pub tolerations: Vec<Toleration>,
    /// Affinity of the controller pods.
    pub affinity: Affinity,
    /// Pod security context (the image runs as a non-root user).
    pub pod_security_context: PodSecurityContext,
    /// Container security context (read-only root filesystem, no privilege escalation).
    pub security_context: SecurityContext,
    /// Extra annotations of the controller pods.
    pub pod_annotations: BTreeMap<String, String>,
    /// Extra labels of the controller pods.
    pub pod_labels: BTreeMap<String, String>,
    /// Priority class of the controller pods (none when empty).
    pub priority_class_name: String,
    /// The controller's ServiceAccount.
    pub service_account: ServiceAccountValues,
    /// Prometheus Operator ServiceMonitor scraping the metrics Service.
    pub service_monitor: ServiceMonitorValues,
    /// PodDisruptionBudget of the controller pods, created when replicas > 1 so that a node
    /// drain never evicts every replica at once.
    pub pod_disruption_budget: PodDisruptionBudgetValues,
    /// ClusterRoles aggregated to the default admin, edit and view roles, so that namespace
    /// users can read (view) or manage (admin, edit) ExtendedDaemonSets and use `kubectl eds`.
    pub aggregate_cluster_roles: bool,
    /// How the CRDs are installed and upgraded.
    pub crds: CrdValues,
    /// The `helm test` pod.
    pub test: TestValues,
    /// Argo CD health check and actions (promote, pause, resume, abort, rolling-update pause,
    /// freeze) for ExtendedDaemonSets, as `argocd-cm` keys (also in `argocd/argocd-cm.yaml`).
    pub argocd: ArgocdValues,
    /// Values shared by a parent chart; not used by this chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<BTreeMap<String, serde_json::Value>>,
}

/// Controller image.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// Image repository.
    pub repository: String,
    /// Image tag (default: the chart's appVersion).
    pub tag: String,
    /// Image pull policy.
    pub pull_policy: PullPolicy,
}

/// When the kubelet pulls the image.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// On every pod start.
    Always,
    /// Only when the node does not have it.
    IfNotPresent,
    /// Never (the image must be on the node).
    Never,
}

/// Log format of `eds controller --log-format`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// The controller's ServiceAccount.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountValues {
    /// Create the ServiceAccount; when false, `name` must exist (default: `default`).
    pub create: bool,
    /// Name of the ServiceAccount (default: the release's object name).
    pub name: String,
    /// Annotations of the ServiceAccount (e.g. a cloud IAM role).
    pub annotations: BTreeMap<String, String>,
}

impl Default for ServiceAccountValues {
    fn default() -> Self {
        Self {
            create: true,
            name: String::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// PodDisruptionBudget of the controller pods.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodDisruptionBudgetValues {
    /// Create it (only when replicas > 1: with one replica it would block every drain).
    pub enabled: bool,
    /// Controller pods that must stay available during a voluntary disruption.
    #[schemars(range(min = 0))]
    pub min_available: i32,
}

/// How the CRDs are installed. Helm installs the chart's `crds/` directory on the first
/// install only and never upgrades or deletes it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrdValues {
    /// Render the CRDs as templates so that `helm upgrade` updates them (install with
    /// `--skip-crds`; they are kept on uninstall). When false, upgrade them before the chart
    /// with `kubectl apply --server-side -f crds.yaml` of the release.
    pub template: bool,
}

/// The `helm test` pod, which scrapes the controller's metrics Service.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestValues {
    /// Image of the test pod (needs `wget`).
    pub image: String,
}

/// Prometheus Operator ServiceMonitor.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMonitorValues {
    /// Create a ServiceMonitor (needs the Prometheus Operator CRDs).
    pub enabled: bool,
    /// Scrape interval.
    pub interval: String,
    /// Extra labels of the ServiceMonitor (e.g. the one your Prometheus selects).
    pub labels: BTreeMap<String, String>,
}

/// Argo CD resource customizations.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArgocdValues {
    /// Render the health check and actions into a ConfigMap.
    pub enabled: bool,
    /// Name of that ConfigMap: `argocd-cm` when this release manages it, or a ConfigMap your
    /// Argo CD installation merges into it.
    #[schemars(length(min = 1))]
    pub config_map_name: String,
    /// Namespace of Argo CD.
    #[schemars(length(min = 1))]
    pub namespace: String,
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

impl Default for Values {
    fn default() -> Self {
        Self {
            name_override: String::new(),
            fullname_override: String::new(),
            image: Image {
                repository: IMAGE_REPOSITORY.to_string(),
                tag: String::new(),
                pull_policy: PullPolicy::IfNotPresent,
            },
            image_pull_secrets: Vec::new(),
            replicas: 1,
            cluster_scope: false,
            watch_namespaces: Vec::new(),
            validation_mode: ValidationMode::Auto,
            log_level: "info".to_string(),
            log_format: LogFormat::Json,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            resources: ResourceRequirements {
                requests: Some(quantities(&[("cpu", "100m"), ("memory", "128Mi")])),
                limits: Some(quantities(&[("memory", "512Mi")])),
                ..ResourceRequirements::default()
            },
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: Affinity::default(),
            pod_security_context: PodSecurityContext {
                run_as_non_root: Some(true),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_string(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            },
            security_context: SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".to_string()]),
                    ..Capabilities::default()
                }),
                ..SecurityContext::default()
            },
            pod_annotations: BTreeMap::new(),
            pod_labels: BTreeMap::new(),
            priority_class_name: String::new(),
            service_account: ServiceAccountValues::default(),
            service_monitor: ServiceMonitorValues {
                enabled: false,
                interval: "30s".to_string(),
                labels: BTreeMap::new(),
            },
            pod_disruption_budget: PodDisruptionBudgetValues {
                enabled: true,
                min_available: 1,
            },
            aggregate_cluster_roles: true,
            crds: CrdValues::default(),
            test: TestValues {
                image: "busybox:1.37".to_string(),
            },
            argocd: ArgocdValues {
                enabled: false,
                config_map_name: "argocd-cm".to_string(),
                namespace: "argocd".to_string(),
            },
            global: None,
        }
    }
}

/// The JSON schema of [`Values`] (draft-07, which every Helm version validates).
pub fn schema() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Values>()
}
