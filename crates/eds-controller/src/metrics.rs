//! Prometheus metrics: upstream's names and labels (`eds_*`, `ers_*`, from its `metrics.go`)
//! plus reconcile health. Per-object series live in [`objects`] and go with their object.

mod objects;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonSetStatus,
    condition::find,
    constants::{condition_type, ers_state},
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use objects::{Labels, ObjectSeries, k8s_labels};

/// Labels naming one object.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub namespace: String,
    pub name: String,
}

/// Label of a reconcile error.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub reason: String,
}

/// Every metric the controller exports.
#[derive(Clone)]
pub struct Metrics {
    pub leader: Gauge,
    pub reconcile_duration: Histogram,
    pub reconcile_errors: Family<ErrorLabels, Counter>,
    pub pods_created: Counter,
    pub pods_deleted: Counter,
    /// Series of each ExtendedDaemonSet ([`EDS_SERIES`]).
    pub eds: ObjectSeries,
    /// Series of each ExtendedDaemonSetReplicaSet ([`ERS_SERIES`]).
    pub ers: ObjectSeries,
    pub ers_rolling_update_stuck: Family<ObjectLabels, Gauge>,
}

/// ExtendedDaemonSet series, upstream's names, in the order of the `EDS_*` indexes.
pub const EDS_SERIES: [(&str, &str); 13] = [
    (
        "eds_labels",
        "Kubernetes labels converted to Prometheus labels (value 1)",
    ),
    ("eds_created", "Unix creation timestamp"),
    (
        "eds_status_desired",
        "Nodes that should run a pod of the ExtendedDaemonSet",
    ),
    (
        "eds_status_current",
        "Nodes running a pod of the ExtendedDaemonSet",
    ),
    (
        "eds_status_ready",
        "Nodes running a ready pod of the ExtendedDaemonSet",
    ),
    (
        "eds_status_available",
        "Nodes running an available pod of the ExtendedDaemonSet",
    ),
    (
        "eds_status_uptodate",
        "Nodes running a pod of the current template",
    ),
    (
        "eds_status_ignored_unresponsive_nodes",
        "Unresponsive nodes left out of the unavailability budget",
    ),
    (
        "eds_status_canary_activated",
        "1 while a canary is in progress (label replicaset: the canary ERS)",
    ),
    (
        "eds_status_canary_paused",
        "1 while the canary is paused (labels replicaset and paused_reason)",
    ),
    (
        "eds_status_canary_node_number",
        "Nodes running a canary pod",
    ),
    (
        "eds_status_rolling_update_paused",
        "1 while the rolling update is paused",
    ),
    ("eds_status_rollout_frozen", "1 while the rollout is frozen"),
];

/// ExtendedDaemonSetReplicaSet series, upstream's names.
pub const ERS_SERIES: [(&str, &str); 8] = [
    (
        "ers_labels",
        "Kubernetes labels converted to Prometheus labels (value 1)",
    ),
    ("ers_created", "Unix creation timestamp"),
    (
        "ers_status_desired",
        "Nodes that should run a pod of the ExtendedDaemonSetReplicaSet",
    ),
    (
        "ers_status_current",
        "Pods of the ExtendedDaemonSetReplicaSet (label status: active, canary, canary-failed, unknown)",
    ),
    (
        "ers_status_ready",
        "Ready pods of the ExtendedDaemonSetReplicaSet",
    ),
    (
        "ers_status_available",
        "Available pods of the ExtendedDaemonSetReplicaSet",
    ),
    (
        "ers_status_ignored_unresponsive_nodes",
        "Unresponsive nodes left out of the unavailability budget",
    ),
    (
        "ers_status_canary_failed",
        "1 when the ExtendedDaemonSetReplicaSet is a failed canary",
    ),
];

fn created(meta: &ObjectMeta) -> Option<i64> {
    meta.creation_timestamp.as_ref().map(|t| t.0.as_second())
}

impl Metrics {
    /// The registry the controller serves on `/metrics`, with every metric registered under
    /// its own name (no prefix).
    pub fn with_registry() -> (Self, Registry) {
        let mut registry = Registry::default();
        let metrics = Self::register(&mut registry);
        (metrics, registry)
    }

    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            leader: Gauge::default(),
            reconcile_duration: Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
            reconcile_errors: Family::default(),
            pods_created: Counter::default(),
            pods_deleted: Counter::default(),
            eds: ObjectSeries::register(registry, &EDS_SERIES),
            ers: ObjectSeries::register(registry, &ERS_SERIES),
            ers_rolling_update_stuck: Family::default(),
        };
        let r = registry;
        r.register(
            "eds_controller_leader",
            "1 when this replica holds the leader lease",
            metrics.leader.clone(),
        );
        r.register(
            "eds_reconcile_duration_seconds",
            "Time spent reconciling one ExtendedDaemonSet",
            metrics.reconcile_duration.clone(),
        );
        r.register(
            "eds_reconcile_errors",
            "Reconciles that failed, by reason",
            metrics.reconcile_errors.clone(),
        );
        r.register(
            "eds_pods_created",
            "Pods created by the controller",
            metrics.pods_created.clone(),
        );
        r.register(
            "eds_pods_deleted",
            "Pods deleted by the controller",
            metrics.pods_deleted.clone(),
        );
        r.register(
            "ers_rolling_update_stuck",
            "1 when the rolling update of the active ExtendedDaemonSetReplicaSet cannot progress (nodes that cannot run the pod hold the budget)",
            metrics.ers_rolling_update_stuck.clone(),
        );
        metrics
    }

    /// Publishes the series of an ExtendedDaemonSet with status `status`; `paused` and `frozen`
    /// are the rolling-update pause and the freeze the plan read.
    pub fn observe_eds(
        &self,
        eds: &ExtendedDaemonSet,
        status: &ExtendedDaemonSetStatus,
        paused: bool,
        frozen: bool,
    ) {
        let meta = &eds.metadata;
        let (ns, name) = (
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default(),
        );
        let canary = status.canary.as_ref().map(|c| c.replica_set.clone());
        let canary_paused =
            find(&status.conditions, condition_type::CANARY_PAUSED).filter(|c| c.is_true());
        let mut paused_labels: Labels = Vec::new();
        if let Some(rs) = &canary {
            paused_labels.push(("replicaset".into(), rs.clone()));
            if let Some(c) = canary_paused {
                paused_labels.push(("paused_reason".into(), c.reason.clone().unwrap_or_default()));
            }
        }
        let mut samples = vec![
            (0, k8s_labels(meta.labels.as_ref()), 1),
            (2, vec![], status.desired.into()),
            (3, vec![], status.current.into()),
            (4, vec![], status.ready.into()),
            (5, vec![], status.available.into()),
            (6, vec![], status.up_to_date.into()),
            (7, vec![], status.ignored_unresponsive_nodes.into()),
            (
                8,
                vec![("replicaset".into(), canary.clone().unwrap_or_default())],
                i64::from(canary.is_some()),
            ),
            (9, paused_labels, i64::from(canary_paused.is_some())),
            (
                10,
                vec![],
                status.canary.as_ref().map_or(0, |c| c.nodes.len() as i64),
            ),
            (11, vec![], i64::from(paused)),
            (12, vec![], i64::from(frozen)),
        ];
        samples.extend(created(meta).map(|t| (1, vec![], t)));
        self.eds.publish(ns, name, samples);
        let blocked = find(&status.conditions, condition_type::STALLED).is_some_and(|c| {
            c.is_true() && c.reason.as_deref() == Some(eds_api::constants::reason::ROLLOUT_BLOCKED)
        });
        if !status.active_replica_set.is_empty() {
            self.ers_rolling_update_stuck
                .get_or_create(&ObjectLabels {
                    namespace: ns.into(),
                    name: status.active_replica_set.clone(),
                })
                .set(i64::from(blocked));
        }
    }

    /// Publishes the series of an ExtendedDaemonSetReplicaSet (`meta`: the object as last
    /// seen, for its labels and creation time; absent for one created by this reconcile).
    pub fn observe_ers(
        &self,
        namespace: &str,
        name: &str,
        meta: Option<&ObjectMeta>,
        status: &ExtendedDaemonSetReplicaSetStatus,
    ) {
        let mut samples = vec![
            (2, vec![], status.desired.into()),
            (
                3,
                vec![("status".into(), status.status.to_lowercase())],
                status.current.into(),
            ),
            (4, vec![], status.ready.into()),
            (5, vec![], status.available.into()),
            (6, vec![], status.ignored_unresponsive_nodes.into()),
            (
                7,
                vec![],
                i64::from(status.status == ers_state::CANARY_FAILED),
            ),
        ];
        if let Some(meta) = meta {
            samples.push((0, k8s_labels(meta.labels.as_ref()), 1));
            samples.extend(created(meta).map(|t| (1, vec![], t)));
        }
        self.ers.publish(namespace, name, samples);
    }

    /// Drops the series of a deleted ExtendedDaemonSet.
    pub fn forget_eds(&self, namespace: &str, name: &str) {
        self.eds.forget(namespace, name);
    }

    /// Drops the series of a deleted ExtendedDaemonSetReplicaSet.
    pub fn forget_ers(&self, namespace: &str, name: &str) {
        self.ers.forget(namespace, name);
        self.ers_rolling_update_stuck.remove(&ObjectLabels {
            namespace: namespace.into(),
            name: name.into(),
        });
    }

    /// Counts a failed reconcile.
    pub fn reconcile_failed(&self, reason: &str) {
        self.reconcile_errors
            .get_or_create(&ErrorLabels {
                reason: reason.into(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests;
