//! Pod state changes a scenario applies: crashes, waiting reasons, failures, readiness.

use jiff::Timestamp;
use k8s_openapi::{
    api::core::v1::{
        ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, Pod,
        PodCondition, PodStatus,
    },
    apimachinery::pkg::apis::meta::v1::Time,
};

use super::CONTAINER;

fn container_status(pod: &mut Pod) -> &mut ContainerStatus {
    let status = pod.status.get_or_insert_with(PodStatus::default);
    let list = status.container_statuses.get_or_insert_with(Vec::new);
    if !list.iter().any(|c| c.name == CONTAINER) {
        list.push(ContainerStatus {
            name: CONTAINER.into(),
            image: String::new(),
            image_id: String::new(),
            ready: false,
            restart_count: 0,
            ..ContainerStatus::default()
        });
    }
    list.iter_mut()
        .find(|c| c.name == CONTAINER)
        .expect("just inserted")
}

/// The container restarted `restarts` times, the last one at `at` with `reason` (e.g.
/// `Error`, `OOMKilled`, `StartError`).
pub fn crash(pod: &mut Pod, restarts: i32, reason: &str, at: Timestamp) {
    let c = container_status(pod);
    c.restart_count = restarts;
    c.last_state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: 1,
            reason: Some(reason.into()),
            finished_at: Some(Time(at)),
            ..ContainerStateTerminated::default()
        }),
        ..ContainerState::default()
    });
}

/// The container waits with `reason` (e.g. `ImagePullBackOff`, `ContainerCreating`); the pod
/// is not ready.
pub fn wait_with(pod: &mut Pod, reason: &str) {
    let c = container_status(pod);
    c.state = Some(ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message: None,
        }),
        ..ContainerState::default()
    });
    set_unready(pod);
}

/// The pod failed for good (phase Failed).
pub fn fail(pod: &mut Pod) {
    set_unready(pod);
    pod.status.get_or_insert_with(PodStatus::default).phase = Some("Failed".into());
}

/// The pod is not ready.
pub fn set_unready(pod: &mut Pod) {
    let status = pod.status.get_or_insert_with(PodStatus::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|c| c.type_ != "Ready");
    conditions.push(PodCondition {
        type_: "Ready".into(),
        status: "False".into(),
        ..PodCondition::default()
    });
}

/// The pod is running and ready since `since`.
pub fn set_ready(pod: &mut Pod, since: Timestamp) {
    let status = pod.status.get_or_insert_with(PodStatus::default);
    status.phase = Some("Running".into());
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|c| c.type_ != "Ready");
    conditions.push(PodCondition {
        type_: "Ready".into(),
        status: "True".into(),
        last_transition_time: Some(Time(since)),
        ..PodCondition::default()
    });
}

/// A ready pod of DaemonSet `ds` on `node` (for migrations with the `old-daemonset`
/// annotation), created and ready since `since`.
pub fn daemonset_pod(ds: &str, node: &str, since: Timestamp) -> Pod {
    use k8s_openapi::{
        api::core::v1::{Container, PodSpec},
        apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
    };
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(format!("{ds}-{node}")),
            namespace: Some(super::NAMESPACE.into()),
            uid: Some(format!("uid-{ds}-{node}")),
            resource_version: Some("1".into()),
            creation_timestamp: Some(Time(since)),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "DaemonSet".into(),
                name: ds.into(),
                uid: format!("uid-{ds}"),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some(node.into()),
            containers: vec![Container {
                name: CONTAINER.into(),
                image: Some("app:v0".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: None,
    };
    set_ready(&mut pod, since);
    pod
}

/// The node a pod runs on or is pinned to.
pub fn node_of(pod: &Pod) -> Option<String> {
    crate::placement::pod_node(pod).map(str::to_string)
}
