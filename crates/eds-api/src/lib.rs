//! API types of `datadoghq.com/v1alpha1`: ExtendedDaemonSet, ExtendedDaemonSetReplicaSet and
//! ExtendedDaemonsetSetting.
//!
//! Every upstream field keeps its name, type and meaning so existing manifests apply unchanged;
//! additions (`revisionHistoryLimit`, `minReadySeconds`, `rollingUpdate.maxSurge`,
//! `strategy.type`, `status.observedGeneration`, kstatus conditions, `status.rejectedRevision`)
//! are optional. Optional spec fields stay `Option` so a manifest round-trips exactly; the CRD
//! schema carries the defaults (the API server applies them) and [`defaults`] applies the same
//! defaults in memory for the planner.

pub mod condition;
pub mod constants;
pub mod defaults;
pub mod duration;
pub mod eds;
pub mod ers;
pub mod schema;
pub mod setting;
pub mod validate;

pub use condition::Condition;
pub use duration::Duration;
pub use eds::{
    AutoFail, AutoPause, Canary, CanaryStatus, ExtendedDaemonSet, ExtendedDaemonSetSpec,
    ExtendedDaemonSetStatus, RejectedRevision, RollingUpdate, SteeringRecord, Strategy,
    UpdateStrategyType, ValidationMode,
};
pub use ers::{
    ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetSpec, ExtendedDaemonSetReplicaSetStatus,
};
pub use setting::{
    ExtendedDaemonsetSetting, ExtendedDaemonsetSettingContainerSpec, ExtendedDaemonsetSettingSpec,
    ExtendedDaemonsetSettingStatus,
};

/// API group of every kind in this crate.
pub const GROUP: &str = "datadoghq.com";
/// API version of every kind in this crate.
pub const VERSION: &str = "v1alpha1";

/// The three CustomResourceDefinitions, in a stable order.
pub fn crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    use kube::CustomResourceExt;
    vec![
        ExtendedDaemonSet::crd(),
        ExtendedDaemonSetReplicaSet::crd(),
        ExtendedDaemonsetSetting::crd(),
    ]
}

/// The CRDs as one multi-document YAML stream.
pub fn crds_yaml() -> Result<String, serde_saphyr::SerializeError> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}
