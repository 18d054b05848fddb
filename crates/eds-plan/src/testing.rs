//! Scenario builders for tests and benchmarks, so a test reads like the scenario it checks:
//!
//! ```
//! use eds_plan::testing::eds;
//! let mut sc = eds("foo").canary(1).nodes(3);
//! sc.converge();
//! sc.set_image("app:v2");
//! sc.step(); // the first plan creates the ERS of the new revision
//! let plan = sc.plan();
//! assert_eq!(plan.pod_deletes.len(), 1); // the old pod on the canary node goes first
//! ```
//!
//! Everything is deterministic: fixed names, uids and times (the clock starts at [`t0`]).

pub mod contract;
mod nodes;
mod pods;
mod scale;
mod scenario;

use k8s_openapi::{
    api::core::v1::{Container, PodSpec, PodTemplateSpec},
    apimachinery::pkg::{apis::meta::v1::ObjectMeta, util::intstr::IntOrString},
};

use eds_api::{
    Canary, Duration, ExtendedDaemonSet, ExtendedDaemonSetSpec, ExtendedDaemonsetSetting,
    ExtendedDaemonsetSettingContainerSpec, ExtendedDaemonsetSettingSpec, RollingUpdate, Strategy,
    UpdateStrategyType, ValidationMode,
};

pub use self::set_image as set_template_image;
pub use nodes::{NodeBuilder, node};
pub use pods::{crash, daemonset_pod, fail, node_of, set_ready, set_unready, wait_with};
pub use scale::{bench_now, mid_rollout};
pub use scenario::{Scenario, t0};

/// Namespace of every fixture.
pub const NAMESPACE: &str = "default";
/// Name of the container of the fixture template.
pub const CONTAINER: &str = "app";

/// Builder of an ExtendedDaemonSet.
#[derive(Clone, Debug)]
pub struct EdsBuilder {
    eds: ExtendedDaemonSet,
}

/// An ExtendedDaemonSet named `name` running `app:v1`, without canary, with upstream defaults.
pub fn eds(name: &str) -> EdsBuilder {
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some([("app".to_string(), name.to_string())].into()),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: CONTAINER.into(),
                image: Some("app:v1".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
    };
    let mut eds = ExtendedDaemonSet::new(
        name,
        ExtendedDaemonSetSpec {
            selector: None,
            template,
            strategy: Strategy::default(),
            revision_history_limit: None,
            min_ready_seconds: None,
        },
    );
    eds.metadata.namespace = Some(NAMESPACE.into());
    eds.metadata.uid = Some(format!("uid-eds-{name}"));
    eds.metadata.generation = Some(1);
    EdsBuilder { eds }
}

impl EdsBuilder {
    /// Sets the container image.
    pub fn image(mut self, image: &str) -> Self {
        set_image(&mut self.eds, image);
        self
    }

    /// Adds a canary phase of `replicas` nodes (auto validation, upstream defaults).
    pub fn canary(self, replicas: i32) -> Self {
        self.canary_with(|c| c.replicas = Some(IntOrString::Int(replicas)))
    }

    /// Adds (or edits) the canary phase.
    pub fn canary_with(mut self, f: impl FnOnce(&mut Canary)) -> Self {
        let canary = self
            .eds
            .spec
            .strategy
            .canary
            .get_or_insert_with(Canary::default);
        f(canary);
        self
    }

    /// Canary validated by hand only.
    pub fn manual(self) -> Self {
        self.canary_with(|c| c.validation_mode = Some(ValidationMode::Manual))
    }

    /// Canary duration and no-restarts duration, e.g. `("10m", "5m")`.
    pub fn canary_durations(self, duration: &str, no_restarts: &str) -> Self {
        let parse = |s: &str| s.parse::<Duration>().expect("fixture duration");
        self.canary_with(|c| {
            c.duration = Some(parse(duration));
            c.no_restarts_duration = Some(parse(no_restarts));
        })
    }

    /// Edits the rolling-update parameters.
    pub fn rolling(mut self, f: impl FnOnce(&mut RollingUpdate)) -> Self {
        f(self
            .eds
            .spec
            .strategy
            .rolling_update
            .get_or_insert_with(Default::default));
        self
    }

    /// `rollingUpdate.maxUnavailable` as a number.
    pub fn max_unavailable(self, n: i32) -> Self {
        self.rolling(|r| r.max_unavailable = Some(IntOrString::Int(n)))
    }

    /// `rollingUpdate.maxSurge` as a number.
    pub fn max_surge(self, n: i32) -> Self {
        self.rolling(|r| r.max_surge = Some(IntOrString::Int(n)))
    }

    /// Makes slow start irrelevant: up to `n` pods start at once from the first step.
    pub fn fast_start(self, n: i32) -> Self {
        self.rolling(|r| {
            r.slow_start_additive_increase = Some(IntOrString::Int(n));
            r.max_parallel_pod_creation = Some(n);
        })
    }

    /// `minReadySeconds`.
    pub fn min_ready_seconds(mut self, n: i32) -> Self {
        self.eds.spec.min_ready_seconds = Some(n);
        self
    }

    /// `revisionHistoryLimit`.
    pub fn history(mut self, n: i32) -> Self {
        self.eds.spec.revision_history_limit = Some(n);
        self
    }

    /// `strategy.type: OnDelete`.
    pub fn on_delete(mut self) -> Self {
        self.eds.spec.strategy.type_ = Some(UpdateStrategyType::OnDelete);
        self
    }

    /// Adds an annotation.
    pub fn annotate(mut self, key: &str, value: &str) -> Self {
        let annotations = self
            .eds
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        annotations.insert(key.into(), value.into());
        self
    }

    /// Adds a pod `nodeSelector` entry.
    pub fn node_selector(mut self, key: &str, value: &str) -> Self {
        let spec = self
            .eds
            .spec
            .template
            .spec
            .get_or_insert_with(Default::default);
        spec.node_selector
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
        self
    }

    /// Edits the pod spec of the template.
    pub fn pod_spec(mut self, f: impl FnOnce(&mut PodSpec)) -> Self {
        f(self
            .eds
            .spec
            .template
            .spec
            .get_or_insert_with(Default::default));
        self
    }

    /// Edits the whole ExtendedDaemonSet.
    pub fn with(mut self, f: impl FnOnce(&mut ExtendedDaemonSet)) -> Self {
        f(&mut self.eds);
        self
    }

    /// The ExtendedDaemonSet.
    pub fn build(self) -> ExtendedDaemonSet {
        self.eds
    }

    /// A scenario with `n` plain nodes `node-1` ... `node-n`.
    pub fn nodes(self, n: usize) -> Scenario {
        self.on((1..=n).map(|i| node(&format!("node-{i}"))).collect())
    }

    /// A scenario on the given nodes.
    pub fn on(self, nodes: Vec<NodeBuilder>) -> Scenario {
        Scenario::new(
            self.eds,
            nodes.into_iter().map(NodeBuilder::build).collect(),
        )
    }
}

/// An ExtendedDaemonsetSetting `name` for ExtendedDaemonSet `eds`, on nodes labelled
/// `label=value`, giving the fixture container `cpu` as request and limit, created at
/// `t0 + created_secs`.
pub fn setting(
    name: &str,
    eds: &str,
    label: (&str, &str),
    cpu: &str,
    created_secs: i64,
) -> ExtendedDaemonsetSetting {
    use k8s_openapi::{
        api::{autoscaling::v1::CrossVersionObjectReference, core::v1::ResourceRequirements},
        apimachinery::pkg::{
            api::resource::Quantity,
            apis::meta::v1::{LabelSelector, Time},
        },
    };
    let quantity = || [("cpu".to_string(), Quantity(cpu.into()))].into();
    let mut s = ExtendedDaemonsetSetting::new(
        name,
        ExtendedDaemonsetSettingSpec {
            reference: CrossVersionObjectReference {
                api_version: Some("datadoghq.com/v1alpha1".into()),
                kind: "ExtendedDaemonSet".into(),
                name: eds.into(),
            },
            node_selector: LabelSelector {
                match_labels: Some([(label.0.to_string(), label.1.to_string())].into()),
                match_expressions: None,
            },
            containers: vec![ExtendedDaemonsetSettingContainerSpec {
                name: CONTAINER.into(),
                resources: ResourceRequirements {
                    requests: Some(quantity()),
                    limits: Some(quantity()),
                    ..ResourceRequirements::default()
                },
            }],
        },
    );
    s.metadata.namespace = Some(NAMESPACE.into());
    s.metadata.uid = Some(format!("uid-setting-{name}"));
    s.metadata.creation_timestamp =
        Some(Time(t0() + jiff::SignedDuration::from_secs(created_secs)));
    s
}

/// Sets the image of the fixture container.
pub fn set_image(eds: &mut ExtendedDaemonSet, image: &str) {
    let spec = eds.spec.template.spec.get_or_insert_with(Default::default);
    if let Some(c) = spec.containers.iter_mut().find(|c| c.name == CONTAINER) {
        c.image = Some(image.into());
    }
}

/// The nodes of the canary in progress, as the plan's status lists them (none when no canary
/// is in progress or paused).
pub fn canary_nodes(plan: &crate::Plan) -> std::collections::BTreeSet<String> {
    let in_canary = matches!(
        plan.eds_status.state.as_deref(),
        Some(eds_api::constants::state::CANARY | eds_api::constants::state::CANARY_PAUSED)
    );
    plan.eds_status
        .canary
        .iter()
        .filter(|_| in_canary)
        .flat_map(|c| c.nodes.iter().cloned())
        .collect()
}
