//! Setup of the kubelet simulator tests on top of the shared [`crate::support::Cluster`]
//! (embedded API server, or the real cluster of `EDS_TEST_KUBECONFIG`, a namespace per test):
//! fake nodes with unique names, pinned pod specs, and waits on pod state through watches
//! (bounded only so that a broken build fails instead of hanging).

#![allow(dead_code)]

use std::{collections::BTreeMap, time::Duration};

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use kube::{
    Api, Client,
    api::PostParams,
    runtime::wait::{Condition, await_condition},
};
use kube_sim::kubelet::{FakeNode, KubeletConfig, SimKubelet};
use serde_json::{Value, json};

/// Upper bound of every wait: far above any expected duration, only there to end a test
/// that would otherwise hang.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Start delay used by the tests (jitter off, so pods admitted later become ready later).
pub const START_DELAY: Duration = Duration::from_millis(200);

/// The shared test cluster (embedded API server or `EDS_TEST_KUBECONFIG`, own namespace) with
/// a kubelet simulator owning some fake nodes.
pub struct Cluster {
    pub base: crate::support::Cluster,
    pub client: Client,
    pub namespace: String,
    pub kubelet: Option<SimKubelet>,
    pub nodes: Vec<String>,
}

impl Cluster {
    /// Starts a cluster with a kubelet simulator owning `nodes` (names get the namespace's
    /// unique suffix, so runs on a real cluster do not collide; `self.nodes[i]` is the real
    /// name of `nodes[i]`).
    pub async fn start(nodes: Vec<FakeNode>) -> Cluster {
        let base = crate::support::Cluster::new().await;
        let client = base.client.clone();
        let namespace = base.namespace.clone();
        let suffix = namespace.trim_start_matches("eds-test-").to_string();
        let nodes: Vec<FakeNode> = nodes
            .into_iter()
            .map(|mut n| {
                n.name = format!("{}-{suffix}", n.name);
                n.labels
                    .insert("kubernetes.io/hostname".into(), n.name.clone());
                n
            })
            .collect();
        let names = nodes.iter().map(|n| n.name.clone()).collect();
        let config = KubeletConfig {
            nodes,
            jitter: 0.0,
            seed: 42,
            ..KubeletConfig::default().start_delay(START_DELAY)
        };
        let kubelet = SimKubelet::start(client.clone(), config)
            .await
            .expect("start kubelet");
        Cluster {
            base,
            client,
            namespace,
            kubelet: Some(kubelet),
            nodes: names,
        }
    }

    pub fn kubelet(&self) -> &SimKubelet {
        self.kubelet.as_ref().expect("running kubelet")
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates a pod from a JSON spec (`metadata.name` is `name`).
    pub async fn create_pod(&self, name: &str, spec: Value) -> Pod {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": spec,
        }))
        .expect("pod");
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .expect("create pod")
    }

    /// Waits until the pod satisfies `condition`; panics naming `what` if it never does.
    pub async fn wait_pod(&self, name: &str, what: &str, condition: impl Condition<Pod>) -> Pod {
        let wait = await_condition(self.pods(), name, condition);
        match tokio::time::timeout(WAIT_LIMIT, wait).await {
            Ok(Ok(Some(pod))) => pod,
            Ok(Ok(None)) => panic!("pod {name} is gone while waiting for: {what}"),
            Ok(Err(e)) => panic!("watching pod {name}: {e}"),
            Err(_) => {
                let pod = self.pods().get_opt(name).await.ok().flatten();
                panic!(
                    "pod {name} never got to: {what}; last status: {:#?}",
                    pod.and_then(|p| p.status)
                )
            }
        }
    }

    /// Waits until the pod is gone.
    pub async fn wait_pod_deleted(&self, name: &str, uid: &str) {
        let wait = await_condition(
            self.pods(),
            name,
            kube::runtime::conditions::is_deleted(uid),
        );
        match tokio::time::timeout(WAIT_LIMIT, wait).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("watching pod {name}: {e}"),
            Err(_) => panic!("pod {name} was never deleted"),
        }
    }

    /// Stops the kubelet (deleting its nodes), then cleans the namespace up.
    pub async fn stop(mut self) {
        if let Some(kubelet) = self.kubelet.take() {
            kubelet.stop().await.expect("stop kubelet");
        }
        self.base.cleanup().await;
    }
}

/// A pod spec pinned to `node` as the (Extended)DaemonSet controllers pin pods, running
/// `containers` (`(name, image, SIM_BEHAVIOUR)`; empty behaviour for none).
pub fn pinned_spec(node: &str, containers: &[(&str, &str, &str)]) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|(name, image, behaviour)| {
            let env: Vec<Value> = if behaviour.is_empty() {
                Vec::new()
            } else {
                vec![json!({"name": "SIM_BEHAVIOUR", "value": behaviour})]
            };
            json!({"name": name, "image": image, "env": env})
        })
        .collect();
    json!({
        "containers": containers,
        "terminationGracePeriodSeconds": 1,
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
    })
}

/// The pod's condition of type `type_`.
pub fn condition(pod: &Pod, type_: &str) -> Option<PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

/// Whether the pod's condition `type_` has `status`.
pub fn has_condition(type_: &'static str, status: &'static str) -> impl Condition<Pod> {
    move |pod: Option<&Pod>| {
        pod.and_then(|p| condition(p, type_))
            .is_some_and(|c| c.status == status)
    }
}

/// The first container's waiting reason.
pub fn waiting_reason(pod: &Pod) -> Option<String> {
    let c = pod.status.as_ref()?.container_statuses.as_ref()?.first()?;
    c.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

/// The first container's `lastState.terminated` `(reason, exitCode)`.
pub fn last_terminated(pod: &Pod) -> Option<(String, i32)> {
    let c = pod.status.as_ref()?.container_statuses.as_ref()?.first()?;
    let t = c.last_state.as_ref()?.terminated.as_ref()?;
    Some((t.reason.clone().unwrap_or_default(), t.exit_code))
}

/// The first container's restart count.
pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map_or(0, |c| c.restart_count)
}

/// Labels as a map.
pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
