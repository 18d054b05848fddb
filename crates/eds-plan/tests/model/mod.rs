//! The model cluster of the state-machine test: what users type and what clusters do, applied
//! to a snapshot between plans. Pods behave by template (good ones become ready, crash-looping
//! ones restart, bad images never pull), deletions leave a terminating pod for a few steps, and
//! the steering commands write what `kubectl eds` (or upstream's plugin, or a hand edit) writes.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use eds_api::{
    Condition,
    constants::{condition_type, keys, taints},
};
use eds_plan::{
    Plan, PlannerState,
    simulate::{apply, mark_ready},
    testing::{Scenario, crash, node, node_of, set_unready, wait_with},
};
use k8s_openapi::{
    api::core::v1::{Pod, Taint},
    apimachinery::pkg::apis::meta::v1::Time,
};
use proptest::prelude::*;

/// Templates a user applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tpl {
    /// Pods become ready.
    Good,
    /// Pods restart over and over.
    Crash,
    /// The image cannot be pulled.
    Bad,
}

/// One thing a user or the cluster does.
#[derive(Clone, Debug)]
pub enum Cmd {
    Apply(Tpl),
    /// `kubectl eds rollout undo`: the template applied before the current one.
    Undo,
    /// `kubectl eds canary validate|pause|unpause|fail` (the canary ERS name as value).
    Validate,
    Pause,
    Unpause,
    Fail,
    /// Upstream-style `"true"` values, by hand or by upstream's plugin.
    PauseTrue,
    UnpauseTrue,
    FailTrue,
    /// Upstream's plugin: `Canary-Failed` / `Canary-Paused` conditions on the canary ERS.
    ErsFailed,
    ErsPaused,
    /// The user removes every canary steering annotation.
    ClearSteering,
    Freeze,
    Unfreeze,
    PauseRolling,
    UnpauseRolling,
    AddNode,
    RemoveNode(usize),
    Cordon(usize),
    Uncordon(usize),
    CrashPod(usize),
    /// The controller restarts: planner state (failed-pod backoff) lost.
    Restart,
    Wait(u64),
}

pub fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        4 => prop_oneof![Just(Tpl::Good), Just(Tpl::Crash), Just(Tpl::Bad)].prop_map(Cmd::Apply),
        1 => Just(Cmd::Undo),
        2 => prop_oneof![
            Just(Cmd::Validate),
            Just(Cmd::Pause),
            Just(Cmd::Unpause),
            Just(Cmd::Fail)
        ],
        2 => prop_oneof![
            Just(Cmd::PauseTrue),
            Just(Cmd::UnpauseTrue),
            Just(Cmd::FailTrue),
            Just(Cmd::ErsFailed),
            Just(Cmd::ErsPaused),
            Just(Cmd::ClearSteering)
        ],
        1 => prop_oneof![
            Just(Cmd::Freeze),
            Just(Cmd::Unfreeze),
            Just(Cmd::PauseRolling),
            Just(Cmd::UnpauseRolling)
        ],
        2 => prop_oneof![
            Just(Cmd::AddNode),
            (0..8usize).prop_map(Cmd::RemoveNode),
            (0..8usize).prop_map(Cmd::Cordon),
            (0..8usize).prop_map(Cmd::Uncordon)
        ],
        1 => (0..8usize).prop_map(Cmd::CrashPod),
        1 => Just(Cmd::Restart),
        3 => (5..120u64).prop_map(Cmd::Wait),
    ]
}

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

    /// Applies one command (plans are run by the caller).
    pub fn run(&mut self, cmd: &Cmd) {
        let canary = self.canary_ers();
        let in_canary = canary.is_some();
        match cmd {
            Cmd::Apply(tpl) => {
                self.version += 1;
                let prefix = match tpl {
                    Tpl::Good => "good",
                    Tpl::Crash => "crash",
                    Tpl::Bad => "bad",
                };
                self.apply_image(format!("app:{prefix}-{}", self.version));
            }
            Cmd::Undo => {
                if self.history.len() >= 2 {
                    let previous = self.history[self.history.len() - 2].clone();
                    self.apply_image(previous);
                }
            }
            // The plugin refuses without a canary in progress.
            Cmd::Validate | Cmd::Pause | Cmd::Unpause | Cmd::Fail if !in_canary => {}
            Cmd::Validate => {
                self.annotate(keys::CANARY_VALID_ANNOTATION, canary.as_deref());
                self.app.validated = true;
            }
            Cmd::Pause => {
                self.annotate(keys::CANARY_PAUSED_ANNOTATION, canary.as_deref());
                self.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, Some(PAUSE_REASON));
                self.annotate(keys::CANARY_UNPAUSED_ANNOTATION, None);
                self.app.paused = true;
            }
            Cmd::Unpause => {
                self.annotate(keys::CANARY_UNPAUSED_ANNOTATION, canary.as_deref());
                self.annotate(keys::CANARY_PAUSED_ANNOTATION, None);
                self.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, None);
                self.app.unpaused = true;
            }
            Cmd::Fail => {
                self.annotate(keys::CANARY_FAILED_ANNOTATION, canary.as_deref());
                self.app.failed = true;
            }
            Cmd::PauseTrue => {
                self.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("true"));
                self.annotate(keys::CANARY_PAUSED_REASON_ANNOTATION, Some(PAUSE_REASON));
                self.app.paused |= in_canary;
            }
            Cmd::UnpauseTrue => {
                self.annotate(keys::CANARY_UNPAUSED_ANNOTATION, Some("true"));
                self.app.unpaused |= in_canary;
            }
            Cmd::FailTrue => {
                self.annotate(keys::CANARY_FAILED_ANNOTATION, Some("true"));
                self.app.failed |= in_canary;
            }
            Cmd::ErsFailed => {
                self.ers_condition(Condition::new(
                    condition_type::CANARY_FAILED,
                    true,
                    "Manual",
                    "failed by upstream's plugin",
                ));
                self.app.failed |= in_canary;
            }
            Cmd::ErsPaused => {
                self.ers_condition(Condition::new(
                    condition_type::CANARY_PAUSED,
                    true,
                    PAUSE_REASON,
                    "paused by upstream's plugin",
                ));
                self.app.paused |= in_canary;
            }
            Cmd::ClearSteering => {
                for key in [
                    keys::CANARY_VALID_ANNOTATION,
                    keys::CANARY_FAILED_ANNOTATION,
                    keys::CANARY_PAUSED_ANNOTATION,
                    keys::CANARY_PAUSED_REASON_ANNOTATION,
                    keys::CANARY_UNPAUSED_ANNOTATION,
                ] {
                    self.annotate(key, None);
                }
            }
            Cmd::Freeze => self.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, Some("true")),
            Cmd::Unfreeze => self.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, None),
            Cmd::PauseRolling => {
                self.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"))
            }
            Cmd::UnpauseRolling => self.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, None),
            Cmd::AddNode => {
                self.next_node += 1;
                self.sc.add_node(node(&format!("n{:02}", self.next_node)));
            }
            Cmd::RemoveNode(i) => {
                let names = self.node_names();
                // Keep one node: a fleet of none has nothing to check.
                if names.len() > 1 {
                    let gone = names[i % names.len()].clone();
                    self.sc
                        .snapshot
                        .nodes
                        .retain(|n| n.metadata.name.as_deref() != Some(gone.as_str()));
                    // The pod garbage collector removes the pods bound to it.
                    self.sc
                        .snapshot
                        .pods
                        .retain(|p| node_of(p).as_deref() != Some(gone.as_str()));
                }
            }
            Cmd::Cordon(i) | Cmd::Uncordon(i) => {
                let names = self.node_names();
                let name = names[i % names.len()].clone();
                let n = self.sc.node_mut(&name);
                let spec = n.spec.get_or_insert_with(Default::default);
                let on = matches!(cmd, Cmd::Cordon(_));
                spec.unschedulable = Some(on);
                spec.taints = on.then(|| {
                    vec![Taint {
                        key: taints::UNSCHEDULABLE.into(),
                        effect: taints::NO_SCHEDULE.into(),
                        ..Taint::default()
                    }]
                });
            }
            Cmd::CrashPod(i) => {
                let now = self.sc.now;
                let current = self.history.last().cloned().unwrap_or_default();
                let mut live: Vec<&mut Arc<Pod>> = self
                    .sc
                    .snapshot
                    .pods
                    .iter_mut()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .collect();
                if !live.is_empty() {
                    let n = live.len();
                    let pod = Arc::make_mut(live.swap_remove(i % n));
                    let restarts = restarts(pod);
                    crash(pod, restarts + 1, "Error", now);
                    set_unready(pod);
                    self.app.crashed |= image_of(pod) == current;
                }
            }
            Cmd::Restart => self.sc.snapshot.state = PlannerState::default(),
            Cmd::Wait(secs) => self.sc.advance(*secs),
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
