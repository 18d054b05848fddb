//! Argo CD resource customizations for `datadoghq.com/ExtendedDaemonSet`: the health check and
//! the actions kept in `argocd/datadoghq.com/ExtendedDaemonSet/` (Argo CD's own layout, tested
//! there in Argo CD's format), as `argocd-cm` keys. `cargo xtask gen` writes them into
//! `argocd/argocd-cm.yaml` (a patch for users who manage `argocd-cm` by hand) and the chart
//! renders them into a ConfigMap when `argocd.resourceCustomizations.enabled` is set.

use std::{collections::BTreeMap, path::PathBuf};

use serde_json::json;

use super::{Error, yaml};

/// Directory of the Argo CD files, relative to the repository root.
pub const DIR: &str = "argocd";

/// Path of the generated `argocd-cm` patch, relative to the repository root.
pub const CONFIG_MAP_PATH: &str = "argocd/argocd-cm.yaml";

/// `argocd-cm` key of the health check.
pub const HEALTH_KEY: &str = "resource.customizations.health.datadoghq.com_ExtendedDaemonSet";
/// `argocd-cm` key of the actions.
pub const ACTIONS_KEY: &str = "resource.customizations.actions.datadoghq.com_ExtendedDaemonSet";

const HEALTH: &str = include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/health.lua");
const DISCOVERY: &str =
    include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/discovery.lua");

/// The actions, in the order Argo CD lists them, with their scripts.
pub const ACTIONS: [(&str, &str); 8] = [
    (
        "promote",
        include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/promote/action.lua"),
    ),
    (
        "pause",
        include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/pause/action.lua"),
    ),
    (
        "resume",
        include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/resume/action.lua"),
    ),
    (
        "abort",
        include_str!("../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/abort/action.lua"),
    ),
    (
        "pause-rolling-update",
        include_str!(
            "../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/pause-rolling-update/action.lua"
        ),
    ),
    (
        "resume-rolling-update",
        include_str!(
            "../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/resume-rolling-update/action.lua"
        ),
    ),
    (
        "freeze-rollout",
        include_str!(
            "../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/freeze-rollout/action.lua"
        ),
    ),
    (
        "unfreeze-rollout",
        include_str!(
            "../../../argocd/datadoghq.com/ExtendedDaemonSet/actions/unfreeze-rollout/action.lua"
        ),
    ),
];

/// The `argocd-cm` data: the health check, and the actions in Argo CD's format (`discovery.lua`
/// and `definitions` with each `action.lua`).
pub fn data() -> Result<BTreeMap<String, String>, Error> {
    let definitions: Vec<_> = ACTIONS
        .iter()
        .map(|(name, script)| json!({"name": name, "action.lua": script}))
        .collect();
    let actions = json!({"discovery.lua": DISCOVERY, "definitions": definitions});
    Ok(BTreeMap::from([
        (HEALTH_KEY.to_string(), HEALTH.to_string()),
        (ACTIONS_KEY.to_string(), yaml::to_yaml(&actions)?),
    ]))
}

/// The generated files: `argocd/argocd-cm.yaml`.
pub fn files() -> Result<Vec<(PathBuf, String)>, Error> {
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "argocd-cm",
            "namespace": "argocd",
            "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
        },
        "data": data()?,
    });
    let comment = "# Argo CD health check and actions for ExtendedDaemonSets. Merge into argocd-cm:\n\
# kubectl -n argocd patch configmap argocd-cm --type merge --patch-file argocd/argocd-cm.yaml";
    Ok(vec![(
        PathBuf::from(CONFIG_MAP_PATH),
        format!(
            "{}\n{comment}\n{}",
            yaml::HEADER,
            yaml::to_yaml(&config_map)?
        ),
    )])
}
