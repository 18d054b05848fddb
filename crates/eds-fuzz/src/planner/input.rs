//! The structured input of the planner target.

use arbitrary::Arbitrary;

/// A spec and a script.
#[derive(Arbitrary, Debug, Clone)]
pub struct Input {
    /// Nodes at the start (`1 + nodes % MAX_NODES`).
    pub nodes: u8,
    /// The ExtendedDaemonSet's strategy.
    pub spec: Spec,
    /// What happens, in order.
    pub actions: Vec<Action>,
}

/// An amount as the API takes it: a number, a percentage, or any text.
#[derive(Arbitrary, Debug, Clone)]
pub enum Amount {
    /// A number (negative ones included).
    Int(i8),
    /// `N%`.
    Percent(u8),
    /// Any text.
    Text(String),
}

/// The strategy fields of the ExtendedDaemonSet.
#[derive(Arbitrary, Debug, Clone)]
pub struct Spec {
    /// `rollingUpdate.maxUnavailable`.
    pub max_unavailable: Option<Amount>,
    /// `rollingUpdate.maxSurge`.
    pub max_surge: Option<Amount>,
    /// `rollingUpdate.slowStartAdditiveIncrease`.
    pub slow_start: Option<Amount>,
    /// `rollingUpdate.maxParallelPodCreation`.
    pub max_parallel: Option<i8>,
    /// `rollingUpdate.maxPodSchedulerFailure`.
    pub max_scheduler_failure: Option<Amount>,
    /// `strategy.canary`.
    pub canary: Option<CanaryIn>,
    /// `minReadySeconds`.
    pub min_ready: Option<u8>,
    /// `strategy.type: OnDelete`.
    pub on_delete: bool,
    /// `revisionHistoryLimit`.
    pub history: Option<i8>,
    /// A pod nodeSelector `zone=z<n % 3>`.
    pub zone_selector: Option<u8>,
}

/// The canary fields.
#[derive(Arbitrary, Debug, Clone)]
pub struct CanaryIn {
    /// `replicas`.
    pub replicas: Option<Amount>,
    /// `duration`, seconds.
    pub duration: Option<u16>,
    /// `noRestartsDuration`, seconds.
    pub no_restarts: Option<u16>,
    /// `validationMode: manual`.
    pub manual: bool,
    /// `nodeAntiAffinityKeys: [zone]`.
    pub anti_affinity: bool,
    /// `nodeSelector` `zone=z<n % 3>`.
    pub zone_selector: Option<u8>,
    /// `autoPause.maxRestarts`.
    pub pause_restarts: Option<i8>,
    /// `autoFail.maxRestarts`.
    pub fail_restarts: Option<i8>,
    /// `autoFail.canaryTimeout`, seconds.
    pub timeout: Option<u16>,
}

/// A steering annotation of the ExtendedDaemonSet.
#[derive(Arbitrary, Debug, Clone)]
pub enum EdsAnnotation {
    /// `canary-valid`, naming the target revision when the value is `None`.
    CanaryValid,
    /// `canary-paused`.
    CanaryPaused,
    /// `canary-unpaused`.
    CanaryUnpaused,
    /// `canary-failed`.
    CanaryFailed,
    /// `rolling-update-paused`.
    RollingUpdatePaused,
    /// `rollout-frozen`.
    RolloutFrozen,
    /// `old-daemonset`.
    OldDaemonset,
    /// Any key.
    Other(String),
}

/// One event of the script. Node and pod indices wrap around the current lists.
#[derive(Arbitrary, Debug, Clone)]
pub enum Action {
    /// Plan, check, apply, advance one second.
    Step,
    /// `1 + n % 8` steps, letting pods become ready in between.
    Steps(u8),
    /// Advance the clock.
    Advance(u16),
    /// Pods old enough become ready.
    Settle,
    /// A new image (a new revision).
    SetImage(u8),
    /// New strategy fields.
    EditSpec(Spec),
    /// Set (`Some`) or remove (`None`) a steering annotation.
    Annotate(EdsAnnotation, Option<String>),
    /// A node joins, in zone `n % 3`.
    AddNode(u8),
    /// A node goes away (its pods stay, as after a node deletion).
    RemoveNode(u8),
    /// A node is cordoned.
    Cordon(u8),
    /// A node is tainted (NoExecute when `true`, else NoSchedule).
    Taint(u8, bool),
    /// A node moves to zone `n % 3`.
    Relabel(u8, u8),
    /// A node gets the `exclude` label.
    Exclude(u8),
    /// A node's resource override of the `app` container.
    NodeOverride(u8, String),
    /// A pod's container restarted `n` times.
    Crash(u8, u8),
    /// A pod failed.
    Fail(u8),
    /// A pod is no longer ready.
    Unready(u8),
    /// A pod is gone.
    DeletePod(u8),
    /// A pod is doubled on its node.
    DuplicatePod(u8),
    /// A pod is terminating.
    Terminate(u8),
    /// A Setting for nodes of zone `n % 3` with a cpu quantity.
    AddSetting(u8, String),
    /// An ERS is gone.
    DeleteErs(u8),
}
