//! The objects a plan writes: pods, pod labels, ERSs and statuses.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::Ctx;
use crate::{
    EventType, ObjectRef, PodDelete, PodLabelUpdate,
    canary::{CanaryOutcome, Phase},
    cluster::{Cluster, FastSet},
    events::Events,
    history::{Revisions, desired_ers, history_cleanup},
    pod::{PodSpecInputs, build_pod},
    revision::pod_name,
    rolling::{NodeIntent, RollingOutcome},
    settings::Settings,
    status::{ErsStatusInputs, ers_status, rev_counts},
};
use eds_api::{
    ExtendedDaemonSetReplicaSet, ExtendedDaemonSetReplicaSetStatus, ExtendedDaemonsetSettingStatus,
    constants::{keys, reason},
};

/// Objects to write.
pub struct Objects {
    pub ers_applies: Vec<ExtendedDaemonSetReplicaSet>,
    pub ers_deletes: Vec<ObjectRef>,
    pub pod_creates: Vec<Pod>,
    pub pod_deletes: Vec<PodDelete>,
    pub pod_label_updates: Vec<PodLabelUpdate>,
}

/// What the object builders read.
pub struct Parts<'p, 'a> {
    /// Plan context.
    pub ctx: &'p Ctx<'a>,
    /// Nodes and pods.
    pub cluster: &'p Cluster<'a>,
    /// Revisions.
    pub revisions: &'p Revisions<'a>,
    /// Per-node intents.
    pub intents: &'p [NodeIntent],
}

/// Builds pods, pod deletions, label updates and ERS objects; `keep` are the revisions that
/// must not be deleted (active before and after the plan).
pub fn build(
    parts: &Parts<'_, '_>,
    settings: &Settings<'_>,
    rolling: &RollingOutcome<'_>,
    keep: &[usize],
    events: &mut Events,
) -> Objects {
    let Parts {
        ctx,
        cluster,
        revisions,
        intents,
    } = *parts;
    let mut pod_creates = Vec::new();
    let mut pod_deletes = Vec::new();
    let mut created: FastSet<String> = FastSet::default();
    let mut deleted: FastSet<&str> = FastSet::default();
    let mut pod_names: Option<FastSet<&str>> = None;
    let tolerations = cluster_tolerations(ctx);
    for (i, d) in rolling.decisions.iter().enumerate() {
        let node = &cluster.nodes[i];
        for (pod, why) in &d.deletes {
            let meta = &pod.metadata;
            let name = meta.name.as_deref().unwrap_or_default();
            if !deleted.insert(name) {
                continue;
            }
            pod_deletes.push(PodDelete {
                namespace: meta.namespace.clone().unwrap_or_else(|| ctx.ns.to_string()),
                name: name.to_string(),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                node: Some(node.name.to_string()),
                reason: why.clone(),
            });
        }
        if d.create.is_none() {
            continue;
        }
        let rev = &revisions.revs[intents[i].desired];
        let Some(ers) = rev.ers else { continue };
        let mut extra = 0;
        let name = loop {
            let name = pod_name(&rev.name, node.name, extra);
            // Built on the first create only: most plans create nothing.
            let names = pod_names.get_or_insert_with(|| {
                cluster
                    .nodes
                    .iter()
                    .flat_map(|n| n.pods.iter().map(|p| p.name))
                    .collect::<FastSet<&str>>()
            });
            let taken = names.contains(name.as_str()) && !node.pods.iter().any(|p| p.name == name);
            if !taken && !created.contains(&name) {
                break name;
            }
            extra += 1;
        };
        created.insert(name.clone());
        for (key, error) in &node.overrides().errors {
            events.push(
                EventType::Warning,
                reason::INVALID_NODE_ANNOTATION,
                format!(
                    "node {}: annotation {key} ignored, not a JSON ResourceRequirements: {error}",
                    node.name
                ),
            );
        }
        let setting = node.setting.map(|k| {
            (
                settings.candidates[k].setting,
                settings.candidates[k].hash.as_str(),
            )
        });
        pod_creates.push(build_pod(&PodSpecInputs {
            name,
            namespace: ctx.ns,
            eds: ctx.name,
            ers,
            template_hash: &rev.hash,
            node: node.name,
            canary: intents[i].canary,
            setting,
            overrides: node.overrides(),
            tolerations: &tolerations,
        }));
    }
    // Node order, like every other choice, so `eds plan` reads top to bottom.
    let node = |p: &Pod| crate::placement::pod_node(p).map(str::to_string);
    pod_creates.sort_by_cached_key(|p| (node(p), p.metadata.name.clone()));
    pod_deletes.sort_by(|a, b| (&a.node, &a.name).cmp(&(&b.node, &b.name)));
    let pod_label_updates = label_updates(parts, &deleted);
    let numbers = revisions.numbers();
    let ers_deletes = history_cleanup(
        revisions,
        keep,
        &cluster.pods_per_rev,
        &numbers,
        ctx.resolved.revision_history_limit,
    );
    let ers_applies = revisions
        .revs
        .iter()
        .enumerate()
        .filter(|(_, r)| !ers_deletes.iter().any(|d| d.name == r.name))
        .filter(|(_, r)| {
            r.ers
                .is_none_or(|e| e.metadata.deletion_timestamp.is_none())
        })
        .filter_map(|(i, r)| desired_ers(&ctx.s.eds, r, numbers[i], i == revisions.target))
        .collect();
    Objects {
        ers_applies,
        ers_deletes,
        pod_creates,
        pod_deletes,
        pod_label_updates,
    }
}

fn cluster_tolerations(ctx: &Ctx<'_>) -> Vec<k8s_openapi::api::core::v1::Toleration> {
    let empty = Default::default();
    let spec = ctx.s.eds.spec.template.spec.as_ref().unwrap_or(&empty);
    crate::placement::Placement::without_selector(spec)
        .tolerations()
        .to_vec()
}

/// The canary label: on the canary pods of a running (or paused) canary, nowhere else. Only
/// the current and previous canary nodes can hold labelled pods, so only their pods are read.
fn label_updates(parts: &Parts<'_, '_>, deleted: &FastSet<&str>) -> Vec<PodLabelUpdate> {
    let Parts {
        ctx,
        cluster,
        revisions,
        intents,
    } = *parts;
    let previous: FastSet<&str> = ctx
        .s
        .eds
        .status
        .iter()
        .flat_map(|s| {
            s.canary
                .iter()
                .flat_map(|c| c.nodes.iter().map(String::as_str))
        })
        .collect();
    let mut updates = Vec::new();
    for (node, intent) in cluster.nodes.iter().zip(intents) {
        if !intent.canary && !previous.contains(node.name) {
            continue;
        }
        for p in node
            .live()
            .filter(|p| !p.old_daemonset && !deleted.contains(p.name))
        {
            let has = p
                .pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(keys::CANARY_LABEL))
                .is_some_and(|v| v == keys::CANARY_LABEL_VALUE);
            let want = intent.canary && p.rev == Some(revisions.target);
            if has == want {
                continue;
            }
            let value = want.then(|| keys::CANARY_LABEL_VALUE.to_string());
            updates.push(PodLabelUpdate {
                namespace: p.pod.metadata.namespace.clone().unwrap_or_default(),
                name: p.name.to_string(),
                uid: p.pod.metadata.uid.clone(),
                labels: BTreeMap::from([(keys::CANARY_LABEL.to_string(), value)]),
            });
        }
    }
    updates.sort_by(|a, b| a.name.cmp(&b.name));
    updates
}

/// ERS statuses that differ from the stored ones.
pub fn ers_statuses(
    parts: &Parts<'_, '_>,
    outcome: Option<&CanaryOutcome>,
    active: usize,
    ignored: i32,
    deletes: &[ObjectRef],
) -> Vec<(String, ExtendedDaemonSetReplicaSetStatus)> {
    let Parts {
        ctx,
        cluster,
        revisions,
        intents,
    } = *parts;
    let counts = rev_counts(cluster, intents, revisions.revs.len());
    let frozen = ctx.annotation_true(keys::ROLLOUT_FROZEN_ANNOTATION);
    let paused = ctx.annotation_true(keys::ROLLING_UPDATE_PAUSED_ANNOTATION);
    let mut out = Vec::new();
    for (i, rev) in revisions.revs.iter().enumerate() {
        if deletes.iter().any(|d| d.name == rev.name)
            || rev
                .ers
                .is_some_and(|e| e.metadata.deletion_timestamp.is_some())
        {
            continue;
        }
        let canary = outcome
            .filter(|_| i == revisions.target)
            .map(|o| &o.phase)
            .filter(|p| !matches!(p, Phase::Promoted { .. }));
        let prev = rev.ers.and_then(|e| e.status.as_ref());
        let status = ers_status(&ErsStatusInputs {
            prev,
            counts: counts[i],
            active: i == active,
            canary,
            restarting: canary.and(outcome).and_then(|o| o.restarting.as_ref()),
            cannot_start: canary.and(outcome).and_then(|o| o.cannot_start.as_ref()),
            paused,
            frozen,
            ignored: if i == active { ignored } else { 0 },
            generation: ctx.s.eds.metadata.generation,
            stamp: &ctx.stamp,
        });
        if prev != Some(&status) {
            out.push((rev.name.clone(), status));
        }
    }
    out
}

/// Setting statuses that differ from the stored ones; a new error is also a Warning event.
pub fn setting_statuses(
    ctx: &Ctx<'_>,
    settings: &Settings<'_>,
    events: &mut Events,
) -> Vec<(String, ExtendedDaemonsetSettingStatus)> {
    let mut out = Vec::new();
    for (name, status) in &settings.statuses {
        let stored = ctx
            .s
            .settings
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name.as_str()))
            .and_then(|s| s.status.as_ref());
        if stored == Some(status) {
            continue;
        }
        if let Some(error) = &status.error {
            events.push(
                EventType::Warning,
                reason::SETTING_CONFLICT,
                format!("ExtendedDaemonsetSetting {name}: {error}"),
            );
        }
        out.push((name.clone(), status.clone()));
    }
    out
}
