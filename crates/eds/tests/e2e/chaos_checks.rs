//! End-of-run checks of the chaos soak: the rollout converged (or stalled as it must on a bad
//! template), nothing is orphaned. Each returns what is wrong, so a run that never gets there
//! reports the last difference instead of a bare timeout.

use std::collections::{BTreeMap, BTreeSet};

use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet,
    constants::{keys, state},
};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, ResourceExt, api::ListParams};

use super::harness::{is_ready, pod_ers};

/// What the run must end with.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Every node runs one ready pod of the active revision, with this image.
    Converged { image: String },
    /// The canary of this (crashing) image failed: every node runs one ready pod of the
    /// active revision, which is not that image.
    CanaryFailed { bad_image: String },
}

fn image(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// `Ok` once the EDS `name` reached `expect` on exactly `nodes`.
pub async fn settled(
    client: &Client,
    namespace: &str,
    name: &str,
    nodes: &BTreeSet<String>,
    expect: &Expect,
) -> Result<(), String> {
    let eds = Api::<ExtendedDaemonSet>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .map_err(|e| format!("getting the EDS: {e}"))?;
    let status = eds.status.clone().ok_or("no status yet")?;
    let pods = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&ListParams::default().labels(&format!("{}={name}", keys::EDS_NAME_LABEL)))
        .await
        .map_err(|e| format!("listing pods: {e}"))?
        .items;
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for pod in &pods {
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        by_node
            .entry(node.unwrap_or_default())
            .or_default()
            .push(pod);
    }
    for (node, pods) in &by_node {
        if !nodes.contains(node) {
            let names: Vec<String> = pods
                .iter()
                .map(|p| {
                    let pinned = eds_plan::pod_node(p).unwrap_or_default();
                    let phase = p.status.as_ref().and_then(|s| s.phase.clone());
                    format!("{} (pinned to {pinned:?}, phase {phase:?})", p.name_any())
                })
                .collect();
            return Err(format!(
                "{} pods on {node:?}, not an eligible node: {names:?}",
                pods.len()
            ));
        }
    }
    let active = &status.active_replica_set;
    // Every node that differs, so a run that never settles tells which nodes it waited for
    // and in what state (no pod, a pod that does not start, the wrong revision).
    let mut waiting = Vec::new();
    for node in nodes {
        if let Err(why) = node_settled(node, by_node.get(node), active, expect) {
            waiting.push(why);
        }
    }
    if !waiting.is_empty() {
        let shown = waiting.len().min(MAX_NODES_SHOWN);
        let more = waiting.len() - shown;
        let mut message = waiting[..shown].join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more nodes"));
        }
        return Err(format!("{} nodes not settled: {message}", waiting.len()));
    }
    let n = nodes.len() as i32;
    let want_state = match expect {
        Expect::Converged { .. } => state::RUNNING,
        Expect::CanaryFailed { .. } => state::CANARY_FAILED,
    };
    if status.state.as_deref() != Some(want_state) {
        return Err(format!("state {:?}, want {want_state:?}", status.state));
    }
    if matches!(expect, Expect::Converged { .. })
        && (status.desired, status.available, status.up_to_date) != (n, n, n)
    {
        return Err(format!(
            "status desired/available/upToDate {}/{}/{}, want {n}",
            status.desired, status.available, status.up_to_date
        ));
    }
    Ok(())
}

/// Most unsettled nodes a failed check names.
const MAX_NODES_SHOWN: usize = 10;

/// `Ok` if `node` runs exactly one ready pod of the `active` revision as `expect` wants;
/// otherwise what is on the node.
fn node_settled(
    node: &str,
    pods: Option<&Vec<&Pod>>,
    active: &str,
    expect: &Expect,
) -> Result<(), String> {
    let Some(pods) = pods else {
        return Err(format!("no pod on {node}"));
    };
    let [pod] = pods.as_slice() else {
        let all: Vec<String> = pods.iter().map(|p| describe(p)).collect();
        return Err(format!(
            "{} pods on {node} (terminating included): {}",
            pods.len(),
            all.join(", ")
        ));
    };
    if pod.metadata.deletion_timestamp.is_some() || !is_ready(pod) {
        return Err(format!(
            "the pod on {node} is not ready yet: {}",
            describe(pod)
        ));
    }
    if pod_ers(pod) != active {
        return Err(format!(
            "the pod on {node} is of {}, not of the active {active}",
            pod_ers(pod)
        ));
    }
    match expect {
        Expect::Converged { image: want } if &image(pod) != want => {
            Err(format!("the pod on {node} runs {}", image(pod)))
        }
        Expect::CanaryFailed { bad_image } if &image(pod) == bad_image => {
            Err(format!("the pod on {node} runs the bad image"))
        }
        _ => Ok(()),
    }
}

/// A pod's name, revision, phase, readiness and whether it is terminating.
fn describe(pod: &Pod) -> String {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    format!(
        "{} ({}, phase {}, ready {}{})",
        pod.name_any(),
        pod_ers(pod),
        phase.unwrap_or("none"),
        is_ready(pod),
        if pod.metadata.deletion_timestamp.is_some() {
            ", terminating"
        } else {
            ""
        }
    )
}

/// ERSs not owned by the EDS `name`, and pods whose owning ERS does not exist.
pub async fn orphans(client: &Client, namespace: &str, name: &str) -> Result<Vec<String>, String> {
    let eds = Api::<ExtendedDaemonSet>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .map_err(|e| e.to_string())?;
    let eds_uid = eds.uid().unwrap_or_default();
    let ers = Api::<ExtendedDaemonSetReplicaSet>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items;
    let mut found = Vec::new();
    let owner = |refs: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference]| {
        refs.iter()
            .find(|r| r.controller == Some(true))
            .map(|r| r.uid.clone())
    };
    let mut ers_uids = BTreeSet::new();
    for rs in &ers {
        ers_uids.insert(rs.uid().unwrap_or_default());
        if owner(rs.owner_references()) != Some(eds_uid.clone()) {
            found.push(format!("ERS {} is not owned by EDS {name}", rs.name_any()));
        }
    }
    let pods = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&ListParams::default().labels(keys::EDS_NAME_LABEL))
        .await
        .map_err(|e| e.to_string())?
        .items;
    for pod in &pods {
        if !owner(pod.owner_references()).is_some_and(|uid| ers_uids.contains(&uid)) {
            found.push(format!("pod {} has no existing ERS owner", pod.name_any()));
        }
    }
    Ok(found)
}
