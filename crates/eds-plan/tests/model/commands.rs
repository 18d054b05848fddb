//! What users and clusters do, as commands on the model: the templates they apply, the
//! steering commands as `kubectl eds` (or upstream's plugin, or a hand edit) writes them, node
//! and pod events, controller restarts, time passing.

use std::sync::Arc;

use eds_api::{
    Condition,
    constants::{condition_type, keys, taints},
};
use eds_plan::{
    PlannerState,
    testing::{crash, node, node_of, set_unready},
};
use k8s_openapi::api::core::v1::{Pod, Taint};
use proptest::prelude::*;

use super::{Model, PAUSE_REASON, image_of, restarts};

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
    /// An untolerated NoSchedule taint: the pod there stays, no new one is created.
    Taint(usize),
    Untaint(usize),
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
            (0..8usize).prop_map(Cmd::Uncordon),
            (0..8usize).prop_map(Cmd::Taint),
            (0..8usize).prop_map(Cmd::Untaint)
        ],
        1 => (0..8usize).prop_map(Cmd::CrashPod),
        1 => Just(Cmd::Restart),
        3 => (5..120u64).prop_map(Cmd::Wait),
    ]
}

impl Model {
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
            Cmd::Taint(i) | Cmd::Untaint(i) => {
                let names = self.node_names();
                let name = names[i % names.len()].clone();
                let spec = self
                    .sc
                    .node_mut(&name)
                    .spec
                    .get_or_insert_with(Default::default);
                let list = spec.taints.get_or_insert_with(Vec::new);
                list.retain(|t| t.key != super::OUT_OF_ROLLOUT_TAINT);
                if matches!(cmd, Cmd::Taint(_)) {
                    list.push(Taint {
                        key: super::OUT_OF_ROLLOUT_TAINT.into(),
                        value: Some("other".into()),
                        effect: taints::NO_SCHEDULE.into(),
                        ..Taint::default()
                    });
                }
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
}
