//! The controller ("manager") objects: Deployment, ServiceAccount and metrics Service, built
//! from the chart [`Values`] so the chart and kustomize run the same container.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec},
        core::v1::{
            Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, ObjectFieldSelector,
            PodSpec, PodTemplateSpec, Probe, Service, ServiceAccount, ServicePort, ServiceSpec,
        },
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use super::values::Values;
use eds_api::constants::env;

/// Name of the objects in kustomize and of the chart (the seed README's pod is
/// `extendeddaemonset-<hash>`).
pub const NAME: &str = "extendeddaemonset";
/// Name of the controller container.
pub const CONTAINER: &str = "manager";
/// Port of `/metrics` (`--metrics-addr`).
pub const METRICS_PORT: i32 = 8080;
/// Port of `/healthz` and `/readyz` (`--health-addr`).
pub const HEALTH_PORT: i32 = 8081;
/// Name of the metrics port, on the container and the Service.
pub const METRICS_PORT_NAME: &str = "metrics";
/// Name of the health port.
pub const HEALTH_PORT_NAME: &str = "health";
/// Label key naming the application.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Label key naming the instance (the Helm release).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Which namespaces the controller watches (`WATCH_NAMESPACE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchNamespace {
    /// Its own namespace, read from the pod (`fieldRef: metadata.namespace`), as upstream.
    Own,
    /// Every namespace (`WATCH_NAMESPACE=""`).
    All,
    /// The listed namespaces (`WATCH_NAMESPACE=a,b`).
    List(Vec<String>),
}

impl WatchNamespace {
    /// The scope the chart values ask for.
    pub fn from_values(values: &Values) -> Self {
        if values.cluster_scope {
            Self::All
        } else if values.watch_namespaces.is_empty() {
            Self::Own
        } else {
            Self::List(values.watch_namespaces.clone())
        }
    }

    /// The `WATCH_NAMESPACE` environment variable of the controller.
    pub fn env(&self) -> EnvVar {
        let (value, value_from) = match self {
            Self::Own => return field_env(env::WATCH_NAMESPACE, "metadata.namespace"),
            Self::All => (Some(String::new()), None),
            Self::List(namespaces) => (Some(namespaces.join(",")), None),
        };
        EnvVar {
            name: env::WATCH_NAMESPACE.to_string(),
            value,
            value_from,
        }
    }
}

/// An environment variable set from a field of the pod (downward API).
fn field_env(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_string(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// Name, namespace and labels of the manager objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// Name of every object (Deployment, ServiceAccount, Service).
    pub name: String,
    /// Namespace; `None` leaves it to kubectl or kustomize.
    pub namespace: Option<String>,
    /// Labels of every object; the selector of the Deployment and the Service.
    pub labels: BTreeMap<String, String>,
}

impl Identity {
    /// The identity of the kustomize objects: named [`NAME`], no namespace.
    pub fn kustomize() -> Self {
        Self {
            name: NAME.to_string(),
            namespace: None,
            labels: [(NAME_LABEL, NAME), (INSTANCE_LABEL, NAME)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn meta(&self) -> ObjectMeta {
        ObjectMeta {
            name: Some(self.name.clone()),
            namespace: self.namespace.clone(),
            labels: Some(self.labels.clone()),
            ..ObjectMeta::default()
        }
    }
}

/// Arguments of the controller container (`eds controller ...`; the image's entrypoint is
/// `eds`).
pub fn args(values: &Values) -> Vec<String> {
    let mut args = vec![
        "controller".to_string(),
        format!("--metrics-addr=:{METRICS_PORT}"),
        format!("--health-addr=:{HEALTH_PORT}"),
        "--leader-elect".to_string(),
        format!("--log-format={}", wire_name(&values.log_format)),
        format!("--log-level={}", values.log_level),
    ];
    args.extend(values.extra_args.iter().cloned());
    args
}

/// The image reference; an empty tag means this crate's version (the chart's appVersion).
pub fn image(values: &Values) -> String {
    let tag = match values.image.tag.as_str() {
        "" => env!("CARGO_PKG_VERSION"),
        tag => tag,
    };
    format!("{}:{tag}", values.image.repository)
}

fn http_probe(path: &str, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(HEALTH_PORT_NAME.to_string()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        ..Probe::default()
    }
}

fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_string()),
        container_port: number,
        protocol: Some("TCP".to_string()),
        ..ContainerPort::default()
    }
}

/// The string a unit enum variant serializes to (`auto`, `IfNotPresent`, `json`...).
pub(crate) fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("a unit enum serializes to a string, not {other:?}"),
    }
}

fn non_empty<T: Default + PartialEq + Clone>(value: &T) -> Option<T> {
    (*value != T::default()).then(|| value.clone())
}

/// The controller container.
pub fn container(values: &Values) -> Container {
    Container {
        name: CONTAINER.to_string(),
        image: Some(image(values)),
        image_pull_policy: Some(wire_name(&values.image.pull_policy)),
        args: Some(args(values)),
        env: Some(
            vec![
                WatchNamespace::from_values(values).env(),
                EnvVar {
                    name: env::VALIDATION_MODE.to_string(),
                    value: Some(wire_name(&values.validation_mode)),
                    value_from: None,
                },
                field_env(env::POD_NAME, "metadata.name"),
                field_env(env::POD_NAMESPACE, "metadata.namespace"),
            ]
            .into_iter()
            .chain(values.extra_env.iter().cloned())
            .collect(),
        ),
        ports: Some(vec![
            port(METRICS_PORT_NAME, METRICS_PORT),
            port(HEALTH_PORT_NAME, HEALTH_PORT),
        ]),
        liveness_probe: Some(http_probe("/healthz", 10)),
        readiness_probe: Some(http_probe("/readyz", 5)),
        resources: Some(values.resources.clone()),
        security_context: Some(values.security_context.clone()),
        ..Container::default()
    }
}

/// The controller Deployment.
pub fn deployment(values: &Values, id: &Identity) -> Deployment {
    let mut pod_labels = id.labels.clone();
    pod_labels.extend(values.pod_labels.clone());
    let pod = PodSpec {
        service_account_name: Some(match values.service_account.name.as_str() {
            "" => id.name.clone(),
            name => name.to_string(),
        }),
        containers: vec![container(values)],
        image_pull_secrets: non_empty(&values.image_pull_secrets),
        security_context: Some(values.pod_security_context.clone()),
        node_selector: non_empty(&values.node_selector),
        tolerations: non_empty(&values.tolerations),
        affinity: non_empty(&values.affinity),
        priority_class_name: non_empty(&values.priority_class_name),
        termination_grace_period_seconds: Some(10),
        ..PodSpec::default()
    };
    Deployment {
        metadata: id.meta(),
        spec: Some(DeploymentSpec {
            replicas: Some(values.replicas),
            selector: LabelSelector {
                match_labels: Some(id.labels.clone()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: non_empty(&values.pod_annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

/// The controller's ServiceAccount.
pub fn service_account(values: &Values, id: &Identity) -> ServiceAccount {
    let mut metadata = id.meta();
    metadata.annotations = non_empty(&values.service_account.annotations);
    ServiceAccount {
        metadata,
        ..ServiceAccount::default()
    }
}

/// The Service in front of the metrics port.
pub fn metrics_service(id: &Identity) -> Service {
    let mut metadata = id.meta();
    metadata.name = Some(format!("{}-metrics", id.name));
    Service {
        metadata,
        spec: Some(ServiceSpec {
            selector: Some(id.labels.clone()),
            ports: Some(vec![ServicePort {
                name: Some(METRICS_PORT_NAME.to_string()),
                port: METRICS_PORT,
                target_port: Some(IntOrString::String(METRICS_PORT_NAME.to_string())),
                protocol: Some("TCP".to_string()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}
