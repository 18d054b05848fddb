//! Large snapshots for benchmarks, built directly (simulating 10,000 nodes step by step
//! would take longer than the benchmark itself).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::{
    api::core::v1::Pod, apimachinery::pkg::apis::meta::v1::Time,
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{eds, node, set_ready, t0};
use crate::{
    Snapshot,
    history::{Rev, desired_ers},
    placement::Placement,
    pod::{PodSpecInputs, build_pod},
    revision::{ers_name, pod_name, template_hash},
    settings::NodeOverrides,
};
use eds_api::{
    Condition, ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetSpec,
    ExtendedDaemonSetStatus, condition::set_condition, constants::condition_type,
};

/// A rollout half done on `n` nodes: `maxUnavailable: 10%`, the first half of the nodes run
/// the new revision (one in a hundred not ready yet), the second half the old one. Planning it
/// exercises the budget, the per-node classification and pod construction.
pub fn mid_rollout(n: usize) -> Snapshot {
    let mut builder = eds("bench").rolling(|r| {
        r.max_unavailable = Some(IntOrString::String("10%".into()));
    });
    let old_template = builder.clone().build().spec.template;
    builder = builder.image("app:v2");
    let mut eds_obj = builder.build();
    let new_template = eds_obj.spec.template.clone();
    let long_ago = t0() - SignedDuration::from_hours(1);
    let mut revs = Vec::new();
    for (number, template) in [(1, old_template), (2, new_template)] {
        let hash = template_hash(&template);
        let name = ers_name("bench", &hash);
        let rev = Rev {
            name: name.clone(),
            hash: hash.clone(),
            ers: None,
            number: None,
            created: None,
        };
        let mut ers = desired_ers(&eds_obj, &rev, number, false).unwrap_or_else(|| {
            ExtendedDaemonSetReplicaSet::new(
                &name,
                ExtendedDaemonSetReplicaSetSpec {
                    selector: None,
                    template: template.clone(),
                    template_generation: Some(hash.clone()),
                },
            )
        });
        ers.spec.template = template;
        ers.metadata.uid = Some(format!("uid-{name}"));
        ers.metadata.creation_timestamp = Some(Time(long_ago));
        let mut status = ers.status.take().unwrap_or_default();
        set_condition(
            &mut status.conditions,
            Condition::new(
                condition_type::ACTIVE,
                number == 2,
                condition_type::ACTIVE,
                "",
            ),
            &Time(long_ago),
        );
        ers.status = Some(status);
        revs.push((ers, hash));
    }
    eds_obj.status = Some(ExtendedDaemonSetStatus {
        active_replica_set: revs[1].0.metadata.name.clone().unwrap_or_default(),
        ..ExtendedDaemonSetStatus::default()
    });
    let spec = eds_obj.spec.template.spec.clone().unwrap_or_default();
    let placement = Placement::without_selector(&spec);
    let overrides = NodeOverrides::default();
    let mut snapshot = Snapshot::new(eds_obj);
    for i in 0..n {
        let name = format!("node-{i:05}");
        snapshot.nodes.push(Arc::new(
            node(&name).label("zone", &format!("z{}", i % 3)).build(),
        ));
        let (ers, hash) = if i < n / 2 { &revs[1] } else { &revs[0] };
        let ers_name = ers.metadata.name.clone().unwrap_or_default();
        let mut pod: Pod = build_pod(&PodSpecInputs {
            name: pod_name(&ers_name, &name, 0),
            namespace: super::NAMESPACE,
            eds: "bench",
            ers,
            template_hash: hash,
            node: &name,
            canary: false,
            setting: None,
            overrides: &overrides,
            tolerations: placement.tolerations(),
        });
        pod.metadata.uid = Some(format!("uid-pod-{i}"));
        pod.metadata.resource_version = Some("1".into());
        pod.metadata.creation_timestamp = Some(Time(long_ago));
        if let Some(s) = pod.spec.as_mut() {
            s.node_name = Some(name.clone());
        }
        if i >= n / 2 || i % 100 != 0 {
            set_ready(&mut pod, long_ago);
        }
        snapshot.pods.push(Arc::new(pod));
    }
    snapshot.replica_sets = revs.into_iter().map(|(e, _)| e).collect();
    snapshot
}

/// The time at which [`mid_rollout`] snapshots are planned.
pub fn bench_now() -> Timestamp {
    t0()
}
