//! The model cluster of the state-machine test: what users type and what clusters do, applied
//! to a snapshot between plans. Pods behave by template (good ones become ready, crash-looping
//! ones restart, bad images never pull), deletions leave a terminating pod for a few steps, and
//! the steering commands write what `kubectl eds` (or upstream's plugin, or a hand edit) writes.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use eds_api::Condition;
use eds_plan::{
    Plan,
    simulate::{apply, mark_ready},
    testing::{Scenario, crash, set_unready, wait_with},
};
use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::apis::meta::v1::Time};

mod commands;
pub mod invariants;

pub use commands::{Cmd, Tpl, cmd};

/// What the user did to the template applied last: the invariants allow a manual outcome
/// only when the matching command was given.
#[derive(Clone, Debug, Default)]
pub struct Application {
    pub tpl: Option<Tpl>,
    pub validated: bool,
    pub failed: bool,
    pub paused: bool,
    pub unpaused: bool,
    /// A pod of this template was crashed by the test.
    pub crashed: bool,
}

/// The reason the model's pause commands give.
pub const PAUSE_REASON: &str = "ModelPause";
/// The taint key of `Cmd::Taint`: an untolerated NoSchedule taint.
pub const OUT_OF_ROLLOUT_TAINT: &str = "dedicated";
const TERMINATION_STEPS: u32 = 2;

pub struct Model {
    pub sc: Scenario,
    /// Images applied, in order.
    pub history: Vec<String>,
    pub app: Application,
    /// Terminating pods and the kubelet steps they have left.
    pub terminating: BTreeMap<String, u32>,
    next_node: usize,
    version: usize,
}

pub fn tpl_of(image: &str) -> Tpl {
    match image.split('-').next() {
        Some("app:crash") => Tpl::Crash,
        Some("app:bad") => Tpl::Bad,
        _ => Tpl::Good,
    }
}

fn image_of(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

impl Model {
    pub fn new(sc: Scenario, nodes: usize) -> Self {
        Self {
            sc,
            history: vec!["app:v1".into()],
            app: Application {
                tpl: Some(Tpl::Good),
                ..Application::default()
            },
            terminating: BTreeMap::new(),
            next_node: nodes,
            version: 0,
        }
    }

    fn annotate(&mut self, key: &str, value: Option<&str>) {
        self.sc.annotate(key, value);
    }

    /// The canary ERS as `kubectl eds` finds it (`status.canary`), if a canary is in progress.
    pub fn canary_ers(&self) -> Option<String> {
        let status = self.sc.snapshot.eds.status.as_ref()?;
        status
            .canary
            .as_ref()
            .map(|c| c.replica_set.clone())
            .filter(|n| !n.is_empty())
    }

    fn apply_image(&mut self, image: String) {
        self.sc.set_image(&image);
        self.history.push(image.clone());
        self.app = Application {
            tpl: Some(tpl_of(&image)),
            ..Application::default()
        };
    }

    fn node_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .sc
            .snapshot
            .nodes
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        names.sort();
        names
    }

    fn ers_condition(&mut self, cond: Condition) {
        let Some(name) = self.canary_ers() else {
            return;
        };
        let now = self.sc.now;
        if let Some(ers) = self
            .sc
            .snapshot
            .replica_sets
            .iter_mut()
            .find(|e| e.metadata.name.as_deref() == Some(name.as_str()))
        {
            let status = ers.status.get_or_insert_with(Default::default);
            status.conditions.retain(|c| c.type_ != cond.type_);
            status.conditions.push(Condition {
                last_transition_time: Some(Time(now)),
                ..cond
            });
        }
    }

    /// Applies `plan` as the API server would: deleted pods stay terminating for a few steps.
    pub fn apply(&mut self, plan: &Plan) {
        let deleted: Vec<Arc<Pod>> = self
            .sc
            .snapshot
            .pods
            .iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && plan
                        .pod_deletes
                        .iter()
                        .any(|d| Some(d.name.as_str()) == p.metadata.name.as_deref())
            })
            .cloned()
            .collect();
        apply(&mut self.sc.snapshot, plan, self.sc.now);
        for mut p in deleted {
            let pod = Arc::make_mut(&mut p);
            pod.metadata.deletion_timestamp = Some(Time(self.sc.now));
            pod.metadata.deletion_grace_period_seconds = Some(30);
            set_unready(pod);
            self.terminating.insert(
                pod.metadata.name.clone().unwrap_or_default(),
                TERMINATION_STEPS,
            );
            self.sc.snapshot.pods.push(p);
        }
    }

    /// The kubelets, `secs` later: terminations progress, pods behave by template.
    pub fn kubelet(&mut self, secs: u64) {
        self.sc.advance(secs);
        let now = self.sc.now;
        let mut gone = Vec::new();
        for (name, left) in &mut self.terminating {
            *left = left.saturating_sub(1);
            if *left == 0 {
                gone.push(name.clone());
            }
        }
        for name in &gone {
            self.terminating.remove(name);
        }
        self.sc.snapshot.pods.retain(|p| {
            let name = p.metadata.name.as_deref().unwrap_or_default();
            p.metadata.deletion_timestamp.is_none() || self.terminating.contains_key(name)
        });
        for p in &mut self.sc.snapshot.pods {
            if p.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match tpl_of(&image_of(p)) {
                Tpl::Good => {}
                Tpl::Crash => {
                    let pod = Arc::make_mut(p);
                    let r = restarts(pod);
                    crash(pod, r + 1, "Error", now);
                    wait_with(pod, "CrashLoopBackOff");
                }
                Tpl::Bad => wait_with(Arc::make_mut(p), "ErrImagePull"),
            }
        }
        mark_ready(&mut self.sc.snapshot, now, Duration::from_secs(10));
    }
}

pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map_or(0, |c| c.restart_count)
}
