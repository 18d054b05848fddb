//! Node objects of the fake nodes, as a kubelet registers and reports them (pure builders;
//! the handle writes them).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{
        DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec,
        NodeStatus, NodeSystemInfo, Taint,
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{FAKE_NODE_LABEL, FakeNode};

/// Taint of a NotReady node (added by the node lifecycle controller on a real cluster).
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";

/// The node object to create (metadata and spec; the status is written through `/status`).
pub fn node_object(fake: &FakeNode, now: Timestamp) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(fake.name.clone()),
            labels: Some(labels(fake)),
            annotations: Some(fake.annotations.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints: Some(taints(fake, now)),
            provider_id: Some(format!("sim://{}", fake.name)),
            ..NodeSpec::default()
        }),
        status: None,
    }
}

/// A merge patch taking the node's metadata and taints from `before` to `after` (labels and
/// annotations `before` had and `after` lacks are removed).
pub fn metadata_patch(before: &FakeNode, after: &FakeNode, now: Timestamp) -> Value {
    let map_patch = |old: &BTreeMap<String, String>, new: &BTreeMap<String, String>| {
        let mut patch = serde_json::Map::new();
        for key in old.keys().filter(|k| !new.contains_key(*k)) {
            patch.insert(key.clone(), Value::Null);
        }
        for (k, v) in new {
            patch.insert(k.clone(), Value::String(v.clone()));
        }
        Value::Object(patch)
    };
    json!({
        "metadata": {
            "labels": map_patch(&labels(before), &labels(after)),
            "annotations": map_patch(&before.annotations, &after.annotations),
        },
        "spec": {"taints": taints(after, now)},
    })
}

/// The node status the kubelet reports: conditions, capacity, addresses and system info.
/// Transition times are kept from `old` while a condition's status is unchanged.
pub fn node_status(fake: &FakeNode, old: Option<&NodeStatus>, now: Timestamp) -> NodeStatus {
    let condition = |type_: &str, status: bool, reason: &str, message: &str| {
        let status = if status { "True" } else { "False" }.to_string();
        let previous = old
            .and_then(|o| o.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_));
        let transition = match previous {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => None,
        };
        NodeCondition {
            type_: type_.to_string(),
            status,
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            last_heartbeat_time: Some(Time(now)),
            last_transition_time: transition.or(Some(Time(now))),
        }
    };
    let ready = if fake.ready {
        condition(
            "Ready",
            true,
            "KubeletReady",
            "kubelet is posting ready status",
        )
    } else {
        condition(
            "Ready",
            false,
            "KubeletNotReady",
            "simulated node is NotReady",
        )
    };
    NodeStatus {
        conditions: Some(vec![
            condition(
                "MemoryPressure",
                false,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            condition(
                "DiskPressure",
                false,
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            condition(
                "PIDPressure",
                false,
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            ready,
        ]),
        capacity: Some(fake.capacity.clone()),
        allocatable: Some(fake.capacity.clone()),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: node_ip(&fake.name),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: fake.name.clone(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint { port: 10250 }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: fake
                .labels
                .get("kubernetes.io/arch")
                .cloned()
                .unwrap_or("amd64".into()),
            operating_system: fake
                .labels
                .get("kubernetes.io/os")
                .cloned()
                .unwrap_or("linux".into()),
            boot_id: hex_id(&fake.name, "boot"),
            machine_id: hex_id(&fake.name, "machine"),
            system_uuid: hex_id(&fake.name, "system"),
            container_runtime_version: "containerd://1.7.0-sim".into(),
            kernel_version: "6.1.0-sim".into(),
            kubelet_version: "v1.33.0-sim".into(),
            kube_proxy_version: "v1.33.0-sim".into(),
            os_image: "Simulated Linux".into(),
            swap: None,
        }),
        ..NodeStatus::default()
    }
}

/// The node's labels: the configured ones and the simulator's marker.
pub fn labels(fake: &FakeNode) -> BTreeMap<String, String> {
    let mut labels = fake.labels.clone();
    labels.insert(FAKE_NODE_LABEL.to_string(), "true".to_string());
    labels
}

/// The node's taints: the configured ones, plus `not-ready` (NoSchedule and NoExecute) while
/// the node is NotReady.
pub fn taints(fake: &FakeNode, now: Timestamp) -> Vec<Taint> {
    let mut taints = fake.taints.clone();
    if !fake.ready {
        for effect in ["NoSchedule", "NoExecute"] {
            taints.push(Taint {
                key: NOT_READY_TAINT.into(),
                value: None,
                effect: effect.into(),
                time_added: (effect == "NoExecute").then_some(Time(now)),
            });
        }
    }
    taints
}

/// A stable private IP for a node name.
pub fn node_ip(name: &str) -> String {
    let d = Sha256::digest(name.as_bytes());
    format!("10.{}.{}.{}", 64 + d[0] % 64, d[1], 1 + d[2] % 254)
}

/// A stable pod IP within the node's range, for a pod uid.
pub fn pod_ip(node: &str, pod_uid: &str) -> String {
    let n = Sha256::digest(node.as_bytes());
    let p = Sha256::digest(pod_uid.as_bytes());
    format!("10.{}.{}.{}", 128 + n[0] % 64, p[0], 1 + p[1] % 254)
}

fn hex_id(name: &str, what: &str) -> String {
    let d = Sha256::digest(format!("{what}/{name}").as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ready_nodes_are_tainted_and_report_ready_false() {
        let now = Timestamp::UNIX_EPOCH;
        let fake = FakeNode::new("n1")
            .taint("dedicated", "x", "NoSchedule")
            .not_ready();
        let keys: Vec<(String, String)> = taints(&fake, now)
            .into_iter()
            .map(|t| (t.key, t.effect))
            .collect();
        assert_eq!(
            keys,
            [
                ("dedicated".into(), "NoSchedule".into()),
                (NOT_READY_TAINT.into(), "NoSchedule".into()),
                (NOT_READY_TAINT.into(), "NoExecute".into())
            ]
        );
        let status = node_status(&fake, None, now);
        let ready = status
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "False");
    }

    #[test]
    fn transition_times_survive_heartbeats() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let t1 = Timestamp::from_second(2_000).unwrap();
        let fake = FakeNode::new("n1");
        let first = node_status(&fake, None, t0);
        let second = node_status(&fake, Some(&first), t1);
        let ready = second
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.last_transition_time, Some(Time(t0)));
        assert_eq!(ready.last_heartbeat_time, Some(Time(t1)));
    }

    #[test]
    fn label_patch_removes_dropped_labels_and_keeps_the_marker() {
        let before = FakeNode::new("n").label("a", "1");
        let after = FakeNode::new("n").label("b", "2");
        let patch = metadata_patch(&before, &after, Timestamp::UNIX_EPOCH);
        assert_eq!(patch["metadata"]["labels"]["a"], Value::Null);
        assert_eq!(patch["metadata"]["labels"]["b"], json!("2"));
        assert_eq!(patch["metadata"]["labels"][FAKE_NODE_LABEL], json!("true"));
    }
}
