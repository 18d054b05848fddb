//! Fixtures of the plugin's unit tests: the upstream README's `foo` ExtendedDaemonSet and its
//! replica sets, at fixed times so golden outputs do not move.

use jiff::Timestamp;
use serde_json::json;

use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, constants::keys};

/// "Now" of every golden table: 10 minutes after [`CREATED`].
pub const NOW: &str = "2026-01-01T00:10:00Z";
/// Creation time of the fixture ExtendedDaemonSets.
pub const CREATED: &str = "2026-01-01T00:00:00Z";

/// [`NOW`] as a timestamp.
pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// A pod template running `image`.
pub fn template(image: &str) -> serde_json::Value {
    json!({
        "metadata": {"labels": {"app": "foo"}},
        "spec": {"containers": [{"name": "daemon", "image": image}]}
    })
}

/// A running ExtendedDaemonSet `default/<name>` on 3 nodes, with a canary strategy.
pub fn eds(name: &str) -> ExtendedDaemonSet {
    serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSet",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-{name}"),
            "generation": 1, "creationTimestamp": CREATED,
        },
        "spec": {
            "template": template("registry.k8s.io/pause:3.0"),
            "strategy": {"canary": {"replicas": 1, "duration": "5m"}},
        },
        "status": {
            "desired": 3, "current": 3, "ready": 3, "available": 3, "upToDate": 3,
            "ignoredUnresponsiveNodes": 0, "state": "Running",
            "activeReplicaSet": format!("{name}-8z7lr"), "observedGeneration": 1,
        }
    }))
    .unwrap()
}

/// The same ExtendedDaemonSet running a canary of `ers`.
pub fn canary(mut eds: ExtendedDaemonSet, ers: &str) -> ExtendedDaemonSet {
    let status = eds.status.get_or_insert_with(Default::default);
    status.state = Some("Canary".into());
    status.canary = Some(eds_api::CanaryStatus {
        replica_set: ers.into(),
        nodes: vec!["node-1".into()],
    });
    eds
}

/// An ERS of `eds` named `name`, running `image`, created `minutes` after [`CREATED`], with an
/// optional revision annotation.
pub fn ers(
    eds: &ExtendedDaemonSet,
    name: &str,
    image: &str,
    state: &str,
    minutes: i64,
    revision: Option<u64>,
) -> ExtendedDaemonSetReplicaSet {
    let created = CREATED.parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_mins(minutes);
    let mut annotations = serde_json::Map::new();
    if let Some(r) = revision {
        annotations.insert(keys::REVISION_ANNOTATION.into(), json!(r.to_string()));
    }
    let eds_name = eds.metadata.name.clone().unwrap();
    serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSetReplicaSet",
        "metadata": {
            "name": name, "namespace": "default", "creationTimestamp": created.to_string(),
            "annotations": annotations,
            "labels": {keys::EDS_NAME_LABEL: eds_name},
            "ownerReferences": [{
                "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
                "name": eds_name, "uid": eds.metadata.uid.clone().unwrap(), "controller": true,
            }],
        },
        "spec": {"template": template(image), "templateGeneration": name},
        "status": {"status": state, "desired": 3, "current": 3, "ready": 3, "available": 3},
    }))
    .unwrap()
}
