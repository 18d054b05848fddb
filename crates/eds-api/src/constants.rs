//! Wire strings: label and annotation keys, condition types, reasons and states.
//!
//! Tools and users depend on these exact values (they are upstream's), so they live here once
//! and are never repeated as literals elsewhere.

/// Field manager used for every server-side apply the controller makes.
pub const FIELD_MANAGER: &str = "extendeddaemonset-controller";
/// Field manager of the writes `kubectl eds` makes (annotations, `rollout undo`).
pub const PLUGIN_FIELD_MANAGER: &str = "kubectl-eds";

/// Pattern of the controller's `--log-level` (a level, or comma-separated `target=level`
/// directives); the chart's values schema uses it, and the controller accepts the same strings.
pub const LOG_LEVEL_PATTERN: &str = "^(([A-Za-z0-9_:.-]+=)?(off|error|warn|info|debug|trace))(,([A-Za-z0-9_:.-]+=)?(off|error|warn|info|debug|trace))*$";

/// Label and annotation keys.
pub mod keys {
    /// Pod label: name of the owning ExtendedDaemonSet.
    pub const EDS_NAME_LABEL: &str = "extendeddaemonset.datadoghq.com/name";
    /// Pod label: name of the owning ExtendedDaemonSetReplicaSet.
    pub const ERS_NAME_LABEL: &str = "extendeddaemonsetreplicaset.datadoghq.com/name";
    /// Pod label set to `"true"` on canary pods.
    pub const CANARY_LABEL: &str = "extendeddaemonsetreplicaset.datadoghq.com/canary";
    /// Value of [`CANARY_LABEL`] on canary pods.
    pub const CANARY_LABEL_VALUE: &str = "true";
    /// Pod label: name of the ExtendedDaemonsetSetting whose resources the pod uses.
    pub const SETTING_NAME_LABEL: &str = "extendeddaemonsetsetting.datadoghq.com/name";
    /// Pod label: namespace of the ExtendedDaemonsetSetting whose resources the pod uses.
    pub const SETTING_NAMESPACE_LABEL: &str = "extendeddaemonsetsetting.datadoghq.com/namespace";

    /// Pod and ERS annotation: hash of the pod template the pod was built from.
    pub const TEMPLATE_HASH_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/templatehash";
    /// Pod annotation: hash of the node's resource-override annotations for this EDS.
    pub const NODE_HASH_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/nodehash";
    /// Pod annotation telling the cluster autoscaler that the pod is a daemon pod.
    pub const AUTOSCALER_DAEMONSET_POD_ANNOTATION: &str =
        "cluster-autoscaler.kubernetes.io/daemonset-pod";
    /// Pod annotation: hash of the ExtendedDaemonsetSetting resources the pod was built with
    /// (a Setting edited in place replaces the pods it applies to).
    pub const SETTING_HASH_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/settinghash";
    /// ERS annotation: revision number (1, 2, ...) used by `rollout history` and `rollout undo`.
    pub const REVISION_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/revision";

    /// EDS annotation: the canary ERS named by the value is validated (promote it).
    pub const CANARY_VALID_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/canary-valid";
    /// EDS annotation: `"true"` pauses the canary.
    pub const CANARY_PAUSED_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/canary-paused";
    /// EDS annotation: why the canary was paused by hand.
    pub const CANARY_PAUSED_REASON_ANNOTATION: &str =
        "extendeddaemonset.datadoghq.com/canary-paused-reason";
    /// EDS annotation: `"true"` forces the canary not paused, overriding auto-pause.
    pub const CANARY_UNPAUSED_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/canary-unpaused";
    /// EDS annotation: `"true"` fails the canary by hand.
    pub const CANARY_FAILED_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/canary-failed";
    /// EDS annotation: name of a DaemonSet whose pods this EDS replaces (migration).
    pub const OLD_DAEMONSET_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/old-daemonset";
    /// EDS annotation: `"true"` pauses deletions of the rolling update.
    pub const ROLLING_UPDATE_PAUSED_ANNOTATION: &str =
        "extendeddaemonset.datadoghq.com/rolling-update-paused";
    /// EDS annotation: `"true"` freezes the rollout: no creation, no deletion.
    pub const ROLLOUT_FROZEN_ANNOTATION: &str = "extendeddaemonset.datadoghq.com/rollout-frozen";

    /// Node annotation prefix; the full key is `<prefix><ns>.<eds>.<container>` and the value a
    /// JSON ResourceRequirements that replaces that container's resources on that node.
    pub const NODE_RESOURCES_ANNOTATION_PREFIX: &str = "resources.extendeddaemonset.datadoghq.com/";
    /// Node label used in examples to exclude a node from an EDS through node affinity.
    pub const EXCLUDE_LABEL: &str = "extendeddaemonset.datadoghq.com/exclude";

    /// Builds the node annotation key overriding `container` of EDS `ns/eds`.
    pub fn node_resources_annotation(ns: &str, eds: &str, container: &str) -> String {
        format!("{NODE_RESOURCES_ANNOTATION_PREFIX}{ns}.{eds}.{container}")
    }
}

/// `status.state` of an ExtendedDaemonSet, exactly as upstream prints them.
pub mod state {
    pub const RUNNING: &str = "Running";
    pub const ROLLING_UPDATE_PAUSED: &str = "RollingUpdate Paused";
    pub const ROLLOUT_FROZEN: &str = "Rollout frozen";
    pub const CANARY: &str = "Canary";
    pub const CANARY_PAUSED: &str = "Canary Paused";
    pub const CANARY_FAILED: &str = "Canary Failed";
}

/// `status.status` of an ExtendedDaemonSetReplicaSet.
pub mod ers_state {
    pub const ACTIVE: &str = "active";
    pub const CANARY: &str = "canary";
    pub const CANARY_FAILED: &str = "canary-failed";
    pub const UNKNOWN: &str = "unknown";
}

/// `status.status` of an ExtendedDaemonsetSetting.
pub mod setting_state {
    pub const VALID: &str = "valid";
    pub const ERROR: &str = "error";
}

/// Condition types. Upstream types are kept beside the kstatus ones.
pub mod condition_type {
    // kstatus (https://github.com/kubernetes-sigs/cli-utils/tree/master/pkg/kstatus)
    pub const READY: &str = "Ready";
    pub const RECONCILING: &str = "Reconciling";
    pub const STALLED: &str = "Stalled";
    // upstream EDS
    pub const CANARY_PAUSED: &str = "Canary-Paused";
    pub const CANARY_FAILED: &str = "Canary-Failed";
    // upstream ERS
    pub const ACTIVE: &str = "Active";
    pub const ROLLING_UPDATE_PAUSED: &str = "RollingUpdatePaused";
    pub const ROLLOUT_FROZEN: &str = "RolloutFrozen";
    pub const CANARY: &str = "Canary";
    pub const RECONCILE_ERROR: &str = "ReconcileError";
    pub const UNSCHEDULE: &str = "Unschedule";
    pub const PODS_CLEANUP_DONE: &str = "PodsCleanupDone";
    pub const POD_CREATION: &str = "PodCreation";
    pub const POD_DELETION: &str = "PodDeletion";
    pub const POD_RESTARTING: &str = "PodRestarting";
    pub const POD_CANNOT_START: &str = "PodCannotStart";
    pub const LAST_FULL_SYNC: &str = "LastFullSync";
    // ours
    /// The migration from the DaemonSet named by `old-daemonset` (present only with that
    /// annotation): `True` while the DaemonSet is being deleted and its pods are replaced,
    /// `False` (reason `OldDaemonSetLive` or `OldDaemonSetNotFound`) when they cannot be.
    pub const MIGRATION: &str = "Migration";
}

/// Condition reasons, status reasons and event reasons.
pub mod reason {
    // canary pause / failure reasons (status.reason, conditions, events)
    pub const SLOW_START_TIMEOUT_EXCEEDED: &str = "SlowStartTimeoutExceeded";
    pub const MAX_RESTARTS_EXCEEDED: &str = "MaxRestartsExceeded";
    pub const MAX_RESTARTS_DURATION_EXCEEDED: &str = "MaxRestartsDurationExceeded";
    pub const TIMEOUT_EXCEEDED: &str = "TimeoutExceeded";
    pub const MANUAL: &str = "Manual";
    pub const CANARY_RESTARTS: &str = "CanaryRestarts";
    /// `canary.replicas` asks for more nodes than the canary can use: the canary is refused
    /// (upstream: "unable to select enough node for canary").
    pub const NOT_ENOUGH_CANARY_NODES: &str = "NotEnoughCanaryNodes";
    /// Upstream's reason when canary pods kept restarting longer than maxRestartsDuration.
    pub const RESTARTS_TIMEOUT_EXCEEDED: &str = "RestartsTimeoutExceeded";
    /// Upstream's reason when no better one is known (e.g. a restart without a termination
    /// reason, or a manual pause without `canary-paused-reason`).
    pub const UNKNOWN: &str = "Unknown";

    // kstatus reasons
    pub const ROLLOUT_IN_PROGRESS: &str = "RolloutInProgress";
    pub const CANARY_IN_PROGRESS: &str = "CanaryInProgress";
    pub const ROLLOUT_COMPLETE: &str = "RolloutComplete";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const ROLLING_UPDATE_PAUSED: &str = "RollingUpdatePaused";
    pub const ROLLOUT_FROZEN: &str = "RolloutFrozen";
    /// The canary was auto-paused (its pods cannot start or keep restarting): `Stalled`.
    pub const CANARY_PAUSED: &str = "CanaryPaused";
    /// A user paused the canary (`canary-paused`): `Reconciling`, not a failure.
    pub const CANARY_PAUSED_BY_USER: &str = "CanaryPausedByUser";
    pub const CANARY_FAILED: &str = "CanaryFailed";
    pub const ROLLOUT_BLOCKED: &str = "RolloutBlocked";
    /// The API server refused to create a pod of the template (an invalid resource quantity,
    /// a quota, an admission policy): `Stalled`, and a Warning event of the same reason
    /// (the DaemonSet controller's).
    pub const FAILED_CREATE: &str = "FailedCreate";
    /// The DaemonSet named by `old-daemonset` is not being deleted: its controller would
    /// re-create every pod replaced, so none is (`Stalled`, `Migration` `False`, and a Warning
    /// event of the same reason).
    pub const OLD_DAEMONSET_LIVE: &str = "OldDaemonSetLive";
    /// The DaemonSet named by `old-daemonset` does not exist: no pod is replaced for it
    /// (`Migration` `False`, and a Warning event of the same reason).
    pub const OLD_DAEMONSET_NOT_FOUND: &str = "OldDaemonSetNotFound";
    /// The DaemonSet named by `old-daemonset` is being deleted: its pods are replaced within
    /// maxUnavailable (`Migration` `True`; a Normal event when it follows `OldDaemonSetLive`).
    pub const OLD_DAEMONSET_DELETING: &str = "OldDaemonSetDeleting";
    /// The DaemonSet named by `old-daemonset` was being deleted and is now gone: the migration
    /// is over (`Migration` `True`; no warning, the annotation may be removed).
    pub const OLD_DAEMONSET_DELETED: &str = "OldDaemonSetDeleted";

    // event reasons
    pub const CREATE_ERS: &str = "Create ExtendedDaemonSetReplicaSet";
    pub const CANARY_STARTED: &str = "CanaryStarted";
    pub const CANARY_PROMOTED: &str = "CanaryPromoted";
    pub const ROLLOUT_DONE: &str = "RolloutDone";
    /// The canary runs again after a pause.
    pub const CANARY_UNPAUSED: &str = "CanaryUnpaused";
    /// `rolling-update-paused` was removed: deletions resume.
    pub const ROLLING_UPDATE_RESUMED: &str = "RollingUpdateResumed";
    /// `rollout-frozen` was removed: creations and deletions resume.
    pub const ROLLOUT_UNFROZEN: &str = "RolloutUnfrozen";
    pub const INVALID_NODE_ANNOTATION: &str = "InvalidNodeResourcesAnnotation";
    pub const SETTING_CONFLICT: &str = "SettingConflict";
    pub const SETTING_WITHOUT_EDS: &str = "ExtendedDaemonSetNotFound";

    /// Container waiting reasons that mean "this pod cannot start" (canary auto-pause).
    pub const CANNOT_START_WAITING_REASONS: &[&str] = &[
        "ErrImagePull",
        "ImagePullBackOff",
        "ImageInspectError",
        "ErrImageNeverPull",
        "RegistryUnavailable",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "PreStartHookError",
        "PostStartHookError",
        "PreCreateHookError",
    ];
    /// Waiting reason of a container still being created.
    pub const CONTAINER_CREATING: &str = "ContainerCreating";
}

/// Node taints the pods of an ExtendedDaemonSet tolerate by default, as DaemonSet pods do.
pub mod taints {
    pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
    pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
    pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
    pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
    pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
    pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
    pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
    pub const NO_SCHEDULE: &str = "NoSchedule";
    pub const NO_EXECUTE: &str = "NoExecute";
    pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
}

/// Environment variables read by the controller (upstream names).
pub mod env {
    pub const WATCH_NAMESPACE: &str = "WATCH_NAMESPACE";
    pub const VALIDATION_MODE: &str = "EDS_VALIDATION_MODE";
    /// Name of the controller's pod (downward API): its leader-election identity.
    pub const POD_NAME: &str = "POD_NAME";
    /// Namespace of the controller's pod (downward API): where its leader-election Lease lives.
    pub const POD_NAMESPACE: &str = "POD_NAMESPACE";
}
