//! Prometheus metrics: upstream names (`eds_*`, `ers_*`) plus reconcile health.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use eds_api::{
    ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonSetStatus,
    constants::{ers_state, state},
};

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
    eds: EdsGauges,
    ers: ErsGauges,
    pub ers_rolling_update_stuck: Family<ObjectLabels, Gauge>,
}

#[derive(Clone, Default)]
struct EdsGauges {
    desired: Family<ObjectLabels, Gauge>,
    current: Family<ObjectLabels, Gauge>,
    ready: Family<ObjectLabels, Gauge>,
    available: Family<ObjectLabels, Gauge>,
    uptodate: Family<ObjectLabels, Gauge>,
    ignored_unresponsive_nodes: Family<ObjectLabels, Gauge>,
    canary_activated: Family<ObjectLabels, Gauge>,
    canary_paused: Family<ObjectLabels, Gauge>,
    canary_node_number: Family<ObjectLabels, Gauge>,
    rolling_update_paused: Family<ObjectLabels, Gauge>,
    rollout_frozen: Family<ObjectLabels, Gauge>,
}

#[derive(Clone, Default)]
struct ErsGauges {
    desired: Family<ObjectLabels, Gauge>,
    current: Family<ObjectLabels, Gauge>,
    ready: Family<ObjectLabels, Gauge>,
    available: Family<ObjectLabels, Gauge>,
    ignored_unresponsive_nodes: Family<ObjectLabels, Gauge>,
    canary_failed: Family<ObjectLabels, Gauge>,
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
            eds: EdsGauges::default(),
            ers: ErsGauges::default(),
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
            "1 when the rolling update of the ExtendedDaemonSetReplicaSet cannot progress",
            metrics.ers_rolling_update_stuck.clone(),
        );
        let e = &metrics.eds;
        for (name, help, family) in [
            (
                "eds_status_desired",
                "Nodes that should run a pod of the ExtendedDaemonSet",
                &e.desired,
            ),
            (
                "eds_status_current",
                "Nodes running a pod of the ExtendedDaemonSet",
                &e.current,
            ),
            (
                "eds_status_ready",
                "Nodes running a ready pod of the ExtendedDaemonSet",
                &e.ready,
            ),
            (
                "eds_status_available",
                "Nodes running an available pod of the ExtendedDaemonSet",
                &e.available,
            ),
            (
                "eds_status_uptodate",
                "Nodes running a pod of the current template",
                &e.uptodate,
            ),
            (
                "eds_status_ignored_unresponsive_nodes",
                "Unresponsive nodes left out of the unavailability budget",
                &e.ignored_unresponsive_nodes,
            ),
            (
                "eds_status_canary_activated",
                "1 while a canary is in progress",
                &e.canary_activated,
            ),
            (
                "eds_status_canary_paused",
                "1 while the canary is paused",
                &e.canary_paused,
            ),
            (
                "eds_status_canary_node_number",
                "Nodes running a canary pod",
                &e.canary_node_number,
            ),
            (
                "eds_status_rolling_update_paused",
                "1 while the rolling update is paused",
                &e.rolling_update_paused,
            ),
            (
                "eds_status_rollout_frozen",
                "1 while the rollout is frozen",
                &e.rollout_frozen,
            ),
        ] {
            r.register(name, help, family.clone());
        }
        let s = &metrics.ers;
        for (name, help, family) in [
            (
                "ers_status_desired",
                "Nodes that should run a pod of the ExtendedDaemonSetReplicaSet",
                &s.desired,
            ),
            (
                "ers_status_current",
                "Pods of the ExtendedDaemonSetReplicaSet",
                &s.current,
            ),
            (
                "ers_status_ready",
                "Ready pods of the ExtendedDaemonSetReplicaSet",
                &s.ready,
            ),
            (
                "ers_status_available",
                "Available pods of the ExtendedDaemonSetReplicaSet",
                &s.available,
            ),
            (
                "ers_status_ignored_unresponsive_nodes",
                "Unresponsive nodes left out of the unavailability budget",
                &s.ignored_unresponsive_nodes,
            ),
            (
                "ers_status_canary_failed",
                "1 when the ExtendedDaemonSetReplicaSet is a failed canary",
                &s.canary_failed,
            ),
        ] {
            r.register(name, help, family.clone());
        }
        metrics
    }

    /// Publishes the status of an ExtendedDaemonSet.
    pub fn observe_eds(
        &self,
        namespace: &str,
        name: &str,
        status: &ExtendedDaemonSetStatus,
        annotations_paused: bool,
        annotations_frozen: bool,
    ) {
        let l = ObjectLabels {
            namespace: namespace.into(),
            name: name.into(),
        };
        let e = &self.eds;
        let state = status.state.as_deref().unwrap_or_default();
        let set = |f: &Family<ObjectLabels, Gauge>, v: i64| {
            f.get_or_create(&l).set(v);
        };
        set(&e.desired, status.desired.into());
        set(&e.current, status.current.into());
        set(&e.ready, status.ready.into());
        set(&e.available, status.available.into());
        set(&e.uptodate, status.up_to_date.into());
        set(
            &e.ignored_unresponsive_nodes,
            status.ignored_unresponsive_nodes.into(),
        );
        set(&e.canary_activated, i64::from(status.canary.is_some()));
        set(&e.canary_paused, i64::from(state == state::CANARY_PAUSED));
        set(
            &e.canary_node_number,
            status.canary.as_ref().map_or(0, |c| c.nodes.len() as i64),
        );
        set(&e.rolling_update_paused, i64::from(annotations_paused));
        set(&e.rollout_frozen, i64::from(annotations_frozen));
    }

    /// Publishes the status of an ExtendedDaemonSetReplicaSet.
    pub fn observe_ers(
        &self,
        namespace: &str,
        name: &str,
        status: &ExtendedDaemonSetReplicaSetStatus,
    ) {
        let l = ObjectLabels {
            namespace: namespace.into(),
            name: name.into(),
        };
        let s = &self.ers;
        s.desired.get_or_create(&l).set(status.desired.into());
        s.current.get_or_create(&l).set(status.current.into());
        s.ready.get_or_create(&l).set(status.ready.into());
        s.available.get_or_create(&l).set(status.available.into());
        s.ignored_unresponsive_nodes
            .get_or_create(&l)
            .set(status.ignored_unresponsive_nodes.into());
        s.canary_failed
            .get_or_create(&l)
            .set(i64::from(status.status == ers_state::CANARY_FAILED));
    }

    /// Drops the series of a deleted ExtendedDaemonSet.
    pub fn forget_eds(&self, namespace: &str, name: &str) {
        let l = ObjectLabels {
            namespace: namespace.into(),
            name: name.into(),
        };
        let e = &self.eds;
        for f in [
            &e.desired,
            &e.current,
            &e.ready,
            &e.available,
            &e.uptodate,
            &e.ignored_unresponsive_nodes,
            &e.canary_activated,
            &e.canary_paused,
            &e.canary_node_number,
            &e.rolling_update_paused,
            &e.rollout_frozen,
        ] {
            f.remove(&l);
        }
    }

    /// Drops the series of a deleted ExtendedDaemonSetReplicaSet.
    pub fn forget_ers(&self, namespace: &str, name: &str) {
        let l = ObjectLabels {
            namespace: namespace.into(),
            name: name.into(),
        };
        let s = &self.ers;
        for f in [
            &s.desired,
            &s.current,
            &s.ready,
            &s.available,
            &s.ignored_unresponsive_nodes,
            &s.canary_failed,
        ] {
            f.remove(&l);
        }
        self.ers_rolling_update_stuck.remove(&l);
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
mod tests {
    use super::*;

    /// The metric names of a text exposition, from its sample lines.
    fn names(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect()
    }

    #[test]
    fn exports_upstream_names() {
        let (metrics, registry) = Metrics::with_registry();
        let status = ExtendedDaemonSetStatus {
            desired: 3,
            current: 2,
            state: Some(state::CANARY_PAUSED.into()),
            ..Default::default()
        };
        metrics.observe_eds("ns", "foo", &status, false, true);
        metrics.leader.set(1);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(r#"eds_status_desired{namespace="ns",name="foo"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"eds_status_canary_paused{namespace="ns",name="foo"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"eds_status_rollout_frozen{namespace="ns",name="foo"} 1"#),
            "{text}"
        );
        assert!(text.contains("eds_controller_leader 1"), "{text}");
        // Whole names, not suffixes: a registry prefix would turn `eds_status_desired` into
        // `<prefix>_eds_status_desired`, which dashboards written for upstream do not find.
        let names = names(&text);
        assert!(names.contains(&"eds_status_desired"), "{names:?}");
        assert!(names.contains(&"eds_controller_leader"), "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("eds_") || n.starts_with("ers_")),
            "{names:?}"
        );
        metrics.forget_eds("ns", "foo");
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(!text.contains(r#"name="foo""#), "{text}");
    }
}
