//! A scenario: a snapshot and a simulated clock, driven step by step or to convergence.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};

use super::set_image;
use crate::{
    Plan, Snapshot,
    placement::pod_node,
    plan,
    simulate::{Simulation, SimulationOptions, apply, mark_ready, simulate},
};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonsetSetting};

/// Start of every scenario's clock: 2024-01-01T00:00:00Z.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_704_067_200).expect("valid timestamp")
}

/// A snapshot and a clock.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The cluster.
    pub snapshot: Snapshot,
    /// The simulated time.
    pub now: Timestamp,
    /// How pods behave in [`Scenario::converge`].
    pub options: SimulationOptions,
}

impl Scenario {
    /// A scenario of `eds` on `nodes`, at [`t0`].
    pub fn new(eds: ExtendedDaemonSet, nodes: Vec<Node>) -> Self {
        let mut snapshot = Snapshot::new(eds);
        snapshot.nodes = nodes.into_iter().map(Arc::new).collect();
        Self {
            snapshot,
            now: t0(),
            options: SimulationOptions::default(),
        }
    }

    /// Plans at the current time.
    pub fn plan(&self) -> Plan {
        plan(&self.snapshot, self.now)
    }

    /// Plans, applies the plan, and advances the clock by one second.
    pub fn step(&mut self) -> Plan {
        let plan = self.plan();
        apply(&mut self.snapshot, &plan, self.now);
        self.advance(1);
        plan
    }

    /// Advances the clock by `secs` seconds.
    pub fn advance(&mut self, secs: u64) {
        self.now = crate::observe::after(self.now, Duration::from_secs(secs));
    }

    /// Marks ready every starting pod that is old enough (`options.ready_after`).
    pub fn settle_pods(&mut self) {
        mark_ready(&mut self.snapshot, self.now, self.options.ready_after);
    }

    /// Runs plans until the rollout settles; returns the simulation (the scenario continues
    /// from its end).
    pub fn run(&mut self) -> Simulation {
        let sim = simulate(self.snapshot.clone(), self.now, &self.options);
        self.snapshot = sim.snapshot.clone();
        self.now = sim.finished_at;
        sim
    }

    /// Runs plans until every node runs the current revision; panics otherwise.
    pub fn converge(&mut self) -> Simulation {
        let sim = self.run();
        assert!(
            sim.converged(),
            "scenario did not converge: {:?} after {} steps",
            sim.end,
            sim.steps
        );
        sim
    }

    /// Changes the template image (a new revision) and bumps the generation.
    pub fn set_image(&mut self, image: &str) {
        set_image(&mut self.snapshot.eds, image);
        self.bump();
    }

    /// Edits the ExtendedDaemonSet (and bumps the generation).
    pub fn edit(&mut self, f: impl FnOnce(&mut ExtendedDaemonSet)) {
        f(&mut self.snapshot.eds);
        self.bump();
    }

    fn bump(&mut self) {
        let g = &mut self.snapshot.eds.metadata.generation;
        *g = Some(g.unwrap_or(1) + 1);
    }

    /// Sets an annotation on the ExtendedDaemonSet (`None` removes it).
    pub fn annotate(&mut self, key: &str, value: Option<&str>) {
        let annotations = self
            .snapshot
            .eds
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        match value {
            Some(v) => annotations.insert(key.into(), v.into()),
            None => annotations.remove(key),
        };
    }

    /// Adds a node.
    pub fn add_node(&mut self, node: impl Into<Node>) {
        self.snapshot.nodes.push(Arc::new(node.into()));
    }

    /// Adds a Setting.
    pub fn add_setting(&mut self, setting: ExtendedDaemonsetSetting) {
        self.snapshot.settings.push(setting);
    }

    /// Pods on `node`.
    pub fn pods_on(&self, node: &str) -> Vec<&Pod> {
        let mut pods: Vec<&Pod> = self
            .snapshot
            .pods
            .iter()
            .chain(&self.snapshot.old_daemonset_pods)
            .map(|p| &**p)
            .filter(|p| pod_node(p) == Some(node))
            .collect();
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        pods
    }

    /// The only pod on `node`; panics if there is not exactly one.
    pub fn pod_on(&self, node: &str) -> &Pod {
        let pods = self.pods_on(node);
        assert_eq!(pods.len(), 1, "expected one pod on {node}");
        pods[0]
    }

    /// The node named `name`, to change it; panics if there is none.
    pub fn node_mut(&mut self, name: &str) -> &mut Node {
        self.snapshot
            .nodes
            .iter_mut()
            .find(|n| n.metadata.name.as_deref() == Some(name))
            .map(Arc::make_mut)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// The first pod (by name) on `node`, to change its state.
    pub fn pod_mut(&mut self, node: &str) -> &mut Pod {
        self.snapshot
            .pods
            .iter_mut()
            .filter(|p| pod_node(p) == Some(node))
            .min_by(|a, b| a.metadata.name.cmp(&b.metadata.name))
            .map(Arc::make_mut)
            .unwrap_or_else(|| panic!("no pod on {node}"))
    }

    /// Name of the ERS whose pods run on `node` (`None` without pod).
    pub fn revision_on(&self, node: &str) -> Option<String> {
        self.pods_on(node).first().and_then(|p| {
            p.metadata
                .labels
                .as_ref()?
                .get(eds_api::constants::keys::ERS_NAME_LABEL)
                .cloned()
        })
    }

    /// `status.state` of the ExtendedDaemonSet.
    pub fn state(&self) -> Option<String> {
        self.snapshot.eds.status.as_ref()?.state.clone()
    }

    /// `status.activeReplicaSet` of the ExtendedDaemonSet.
    pub fn active(&self) -> String {
        self.snapshot
            .eds
            .status
            .as_ref()
            .map(|s| s.active_replica_set.clone())
            .unwrap_or_default()
    }
}
