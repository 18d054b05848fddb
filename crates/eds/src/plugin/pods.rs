//! `pods --select canary|not-ready` and `canary pods`: the pods of an ExtendedDaemonSet with
//! their readiness, restarts and node.
//!
//! Columns are upstream's (POD READY PHASE REASON NOT READY CONTAINERS RESTARTS NODE NODE READY)
//! plus AGE, which upstream filled in without a header. Unlike upstream, only the pods of the
//! ExtendedDaemonSet's namespace are listed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{Api, Client, ResourceExt};

use super::{
    cli::{OutputFormat, PodSelection},
    client::{get_eds, list_pods},
    error::{Error, ObjectRef, Result},
    output,
    table::{Table, age},
};
use eds_api::{ExtendedDaemonSet, constants::keys};

/// Why a pod is not ready, or `None` when it is running and ready.
pub fn not_ready_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.clone().unwrap_or_default();
    let container_reason = || {
        status.container_statuses.iter().flatten().find_map(|c| {
            let state = c.state.as_ref()?;
            state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .or_else(|| state.terminated.as_ref().and_then(|t| t.reason.clone()))
        })
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return Some("Terminating".into());
    }
    if status.phase.as_deref() != Some("Running") {
        return Some(
            status
                .reason
                .clone()
                .or_else(container_reason)
                .unwrap_or_default(),
        );
    }
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready");
    match ready {
        Some(c) if c.status == "True" => None,
        Some(c) => Some(container_reason().or(c.reason.clone()).unwrap_or_default()),
        None => Some(container_reason().unwrap_or_default()),
    }
}

/// `ready/total` containers, the names of the containers not ready, and the restart total.
fn containers_info(pod: &Pod) -> (String, String, i32) {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let not_ready: Vec<&str> = statuses
        .iter()
        .filter(|c| !c.ready)
        .map(|c| c.name.as_str())
        .collect();
    let restarts = statuses.iter().map(|c| c.restart_count).sum();
    let total = statuses.len();
    (
        format!("{}/{total}", total - not_ready.len()),
        not_ready.join(", "),
        restarts,
    )
}

/// Node readiness as printed: `true`, `false`, or `Unknown` when the node could not be read.
pub fn node_ready(node: Option<&Node>) -> String {
    let Some(node) = node else {
        return "Unknown".into();
    };
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    ready.to_string()
}

/// Renders pods as upstream's pod table; `nodes` maps a node name to its readiness column.
/// `wide` adds the pod's replica set and IP.
pub fn pods_table(
    pods: &[Pod],
    nodes: &BTreeMap<String, String>,
    wide: bool,
    now: Timestamp,
) -> String {
    let mut header = vec![
        "Pod",
        "Ready",
        "Phase",
        "Reason",
        "Not Ready Containers",
        "Restarts",
        "Node",
        "Node Ready",
        "Age",
    ];
    if wide {
        header.extend(["ERS", "IP"]);
    }
    let mut table = Table::new(header);
    for pod in pods {
        let (ready, not_ready, restarts) = containers_info(pod);
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let node_ready = if node.is_empty() {
            String::new()
        } else {
            nodes
                .get(&node)
                .cloned()
                .unwrap_or_else(|| "Unknown".into())
        };
        let mut row = vec![
            pod.name_any(),
            ready,
            pod.status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default(),
            not_ready_reason(pod).unwrap_or_default(),
            not_ready,
            restarts.to_string(),
            node,
            node_ready,
            age(pod.metadata.creation_timestamp.as_ref(), now),
        ];
        if wide {
            row.push(
                pod.labels()
                    .get(keys::ERS_NAME_LABEL)
                    .cloned()
                    .unwrap_or_default(),
            );
            row.push(
                pod.status
                    .as_ref()
                    .and_then(|s| s.pod_ip.clone())
                    .unwrap_or_default(),
            );
        }
        table.row(row);
    }
    table.render()
}

/// The label selector of the pods `selection` picks, or the no-canary error.
pub fn pod_selector(eds: &ExtendedDaemonSet, selection: PodSelection) -> Result<String> {
    match selection {
        PodSelection::NotReady => Ok(format!("{}={}", keys::EDS_NAME_LABEL, eds.name_any())),
        PodSelection::Canary => {
            let canary = canary_ers(eds)?;
            Ok(format!("{}={canary}", keys::ERS_NAME_LABEL))
        }
    }
}

/// Name of the canary ERS of a canary in progress, or [`Error::NoCanary`].
pub fn canary_ers(eds: &ExtendedDaemonSet) -> Result<String> {
    let status = eds.status.clone().unwrap_or_default();
    match status.canary {
        Some(c) if !c.replica_set.is_empty() => Ok(c.replica_set),
        _ => Err(Error::NoCanary {
            eds: ObjectRef::new(eds.namespace().unwrap_or_default(), eds.name_any()),
            state: status.state.unwrap_or_else(|| "unknown".into()),
        }),
    }
}

/// Runs `pods --select` (and `canary pods`, which is `--select canary`).
pub async fn pods(
    client: &Client,
    namespace: &str,
    name: &str,
    selection: PodSelection,
    format: Option<OutputFormat>,
) -> Result<String> {
    let eds = get_eds(client, namespace, name).await?;
    let selector = pod_selector(&eds, selection)?;
    let mut pods = list_pods(client, namespace, &selector).await?;
    if selection == PodSelection::NotReady {
        pods.retain(|p| not_ready_reason(p).is_some());
    }
    pods.sort_by_key(|p| p.name_any());
    if let Some(text) = output::print_objects(&pods, false, format)? {
        return Ok(text);
    }
    if pods.is_empty() {
        let what = match selection {
            PodSelection::Canary => "canary pods",
            PodSelection::NotReady => "pods not ready",
        };
        return Ok(format!(
            "No {what} for ExtendedDaemonSet {namespace}/{name}.\n"
        ));
    }
    let names: std::collections::BTreeSet<String> = pods
        .iter()
        .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone()))
        .collect();
    let api: Api<Node> = Api::all(client.clone());
    let mut nodes = BTreeMap::new();
    for node in names {
        // Node reads may be forbidden to the user: the column then says Unknown.
        let state = node_ready(api.get_opt(&node).await.ok().flatten().as_ref());
        nodes.insert(node, state);
    }
    let wide = format == Some(OutputFormat::Wide);
    Ok(pods_table(&pods, &nodes, wide, Timestamp::now()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plugin::testing;

    fn pod(name: &str, node: &str, status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "creationTimestamp": testing::CREATED},
            "spec": {"nodeName": node, "containers": [{"name": "daemon"}]},
            "status": status,
        }))
        .unwrap()
    }

    fn running(restarts: i32) -> serde_json::Value {
        json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "daemon", "ready": true, "restartCount": restarts,
                "image": "i", "imageID": "", "state": {"running": {}}}],
        })
    }

    fn crashing() -> serde_json::Value {
        json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "containerStatuses": [{"name": "daemon", "ready": false, "restartCount": 4,
                "image": "i", "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
        })
    }

    fn pulling() -> serde_json::Value {
        json!({
            "phase": "Pending",
            "containerStatuses": [{"name": "daemon", "ready": false, "restartCount": 0,
                "image": "i", "imageID": "", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
        })
    }

    #[test]
    fn not_ready_reasons() {
        assert_eq!(not_ready_reason(&pod("a", "n", running(0))), None);
        assert_eq!(
            not_ready_reason(&pod("b", "n", crashing())).as_deref(),
            Some("CrashLoopBackOff")
        );
        assert_eq!(
            not_ready_reason(&pod("c", "n", pulling())).as_deref(),
            Some("ImagePullBackOff")
        );
        let mut deleting = pod("d", "n", running(0));
        deleting.metadata.deletion_timestamp = deleting.metadata.creation_timestamp.clone();
        assert_eq!(not_ready_reason(&deleting).as_deref(), Some("Terminating"));
    }

    #[test]
    fn pod_table() {
        let pods = [
            pod("foo-8z7lr-bp9w8", "node-1", running(0)),
            pod("foo-xdj4b-zvss2", "node-2", crashing()),
            pod("foo-xdj4b-q2w3e", "node-3", pulling()),
        ];
        let nodes = BTreeMap::from([
            ("node-1".to_string(), "true".to_string()),
            ("node-2".to_string(), "false".to_string()),
        ]);
        insta::assert_snapshot!(pods_table(&pods, &nodes, false, testing::now()));
        let mut labelled = pods[0].clone();
        labelled
            .labels_mut()
            .insert(keys::ERS_NAME_LABEL.into(), "foo-8z7lr".into());
        labelled.status.as_mut().unwrap().pod_ip = Some("10.0.0.7".into());
        let wide = pods_table(&[labelled], &nodes, true, testing::now());
        assert!(
            wide.lines()
                .next()
                .unwrap()
                .ends_with("AGE   ERS         IP"),
            "{wide}"
        );
        assert!(wide.ends_with("10m   foo-8z7lr   10.0.0.7\n"), "{wide}");
    }

    #[test]
    fn selectors_pick_canary_or_all_pods() {
        let eds = testing::eds("foo");
        assert_eq!(
            pod_selector(&eds, PodSelection::NotReady).unwrap(),
            "extendeddaemonset.datadoghq.com/name=foo"
        );
        assert!(matches!(
            pod_selector(&eds, PodSelection::Canary),
            Err(Error::NoCanary { .. })
        ));
        let eds = testing::canary(eds, "foo-xdj4b");
        assert_eq!(
            pod_selector(&eds, PodSelection::Canary).unwrap(),
            "extendeddaemonsetreplicaset.datadoghq.com/name=foo-xdj4b"
        );
    }

    #[test]
    fn node_readiness() {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        assert_eq!(node_ready(Some(&node)), "true");
        assert_eq!(node_ready(Some(&Node::default())), "false");
        assert_eq!(node_ready(None), "Unknown");
    }
}
