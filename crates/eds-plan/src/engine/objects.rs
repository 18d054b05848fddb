//! Stage 3: the objects a plan writes: pods to create and delete, pod labels, ERSs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::{Ctx, World, decide::Decision};
use crate::{
    EventType, ObjectRef, PodDelete, PodLabelUpdate,
    cluster::FastSet,
    events::Events,
    history::{desired_ers, history_cleanup},
    pod::{PodSpecInputs, build_pod, build_unpinned, pin},
    revision::pod_name,
};
use eds_api::{
    ExtendedDaemonSetReplicaSet,
    constants::{keys, reason},
};

/// What the pods of nodes without resource overrides differ by, besides their name and node:
/// revision, canary flag, Setting.
type PrototypeKey = (usize, bool, Option<usize>);

/// Objects to write.
pub struct Objects {
    pub ers_applies: Vec<ExtendedDaemonSetReplicaSet>,
    pub ers_deletes: Vec<ObjectRef>,
    pub pod_creates: Vec<Pod>,
    pub pod_deletes: Vec<PodDelete>,
    pub pod_label_updates: Vec<PodLabelUpdate>,
}

/// Builds pods, pod deletions, label updates and ERS objects. The revisions active before and
/// after the plan are never deleted.
pub fn build(w: &World<'_>, decision: &Decision<'_>, events: &mut Events) -> Objects {
    let World {
        ctx,
        cluster,
        revisions,
        settings,
        ..
    } = w;
    let (intents, rolling) = (&decision.intents, &decision.rolling);
    let keep: Vec<usize> = w
        .active_before
        .into_iter()
        .chain([decision.active_after])
        .collect();
    // Sized once: a pod is large, and growing the list copies every pod built so far.
    let mut pod_creates = Vec::with_capacity(
        rolling
            .decisions
            .iter()
            .filter(|d| d.create.is_some())
            .count(),
    );
    let mut pod_deletes = Vec::new();
    let mut created: FastSet<String> = FastSet::default();
    let mut deleted: FastSet<&str> = FastSet::default();
    let mut pod_names: Option<FastSet<&str>> = None;
    // Made on the first create only (it copies the template's pod spec).
    let mut tolerations = None;
    let mut prototypes: Vec<(PrototypeKey, Pod)> = Vec::new();
    for (i, d) in rolling.decisions.iter().enumerate() {
        let node = &cluster.nodes[i];
        for (pod, why) in &d.deletes {
            let name = pod.name();
            if !deleted.insert(name) {
                continue;
            }
            pod_deletes.push(PodDelete {
                namespace: pod.namespace().unwrap_or(ctx.ns).to_string(),
                name: name.to_string(),
                uid: pod.uid().map(str::to_string),
                resource_version: pod.resource_version().map(str::to_string),
                node: Some(node.name.to_string()),
                reason: why.clone(),
            });
        }
        let Some(base) = &d.create else {
            continue;
        };
        let rev = &revisions.revs[intents[i].desired];
        let Some(ers) = rev.ers else { continue };
        let mut extra = 0;
        let name = loop {
            // The rolling update named the pod already (`pod_name(.., 0)`): hashed once.
            let name = match extra {
                0 => base.clone(),
                _ => pod_name(&rev.name, node.name, extra),
            };
            // Built on the first create only: most plans create nothing.
            let names = pod_names.get_or_insert_with(|| {
                let mut names = FastSet::default();
                names.reserve(cluster.nodes.len());
                names.extend(
                    cluster
                        .nodes
                        .iter()
                        .flat_map(|n| n.pods.iter().map(|p| p.name)),
                );
                names
            });
            let taken = names.contains(name.as_str()) && !node.pods.iter().any(|p| p.name == name);
            if !taken && !created.contains(&name) {
                break name;
            }
            extra += 1;
        };
        created.insert(name.clone());
        // One event per node: the recorder keeps the first message of a series.
        let errors = &node.overrides().errors;
        if !errors.is_empty() {
            let ignored: Vec<String> = errors
                .iter()
                .map(|(key, error)| format!("annotation {key} ignored: {error}"))
                .collect();
            events.about_node(
                node.name,
                EventType::Warning,
                reason::INVALID_NODE_ANNOTATION,
                format!("node {}: {}", node.name, ignored.join("; ")),
            );
        }
        let setting = node.setting.map(|k| {
            (
                settings.candidates[k].setting,
                settings.candidates[k].hash.as_str(),
            )
        });
        let inputs = PodSpecInputs {
            name,
            namespace: ctx.ns,
            eds: ctx.name,
            ers,
            template_hash: &rev.hash,
            node: node.name,
            canary: intents[i].canary,
            setting,
            overrides: node.overrides(),
            tolerations: tolerations.get_or_insert_with(|| cluster_tolerations(ctx)),
        };
        // A node with resource overrides gets a pod of its own; the others share the pod of
        // their revision, canary flag and Setting, named and pinned for each node.
        let pod = if node.overrides().hash.is_some() {
            build_pod(&inputs)
        } else {
            let key = (intents[i].desired, intents[i].canary, node.setting);
            let at = match prototypes.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    prototypes.push((key, build_unpinned(&inputs)));
                    prototypes.len() - 1
                }
            };
            let mut pod = prototypes[at].1.clone();
            pin(&mut pod, &inputs.name, node.name);
            pod
        };
        pod_creates.push(pod);
    }
    if !ctx.steering.rollout_frozen {
        for pod in &cluster.vanished {
            let meta = &pod.metadata;
            let node = crate::placement::pod_node(pod).map(str::to_string);
            pod_deletes.push(PodDelete {
                namespace: meta.namespace.clone().unwrap_or_else(|| ctx.ns.to_string()),
                name: meta.name.clone().unwrap_or_default(),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                reason: format!(
                    "never scheduled, pinned to node {} which no longer exists",
                    node.as_deref().unwrap_or_default()
                ),
                node,
            });
        }
    }
    // Node order, like every other choice, so `eds plan` reads top to bottom.
    let node = |p: &Pod| crate::placement::pod_node(p).map(str::to_string);
    pod_creates.sort_by_cached_key(|p| (node(p), p.metadata.name.clone()));
    pod_deletes.sort_by(|a, b| (&a.node, &a.name).cmp(&(&b.node, &b.name)));
    let pod_label_updates = label_updates(w, intents, &deleted);
    let numbers = revisions.numbers();
    let ers_deletes = history_cleanup(
        revisions,
        &keep,
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
fn label_updates(
    w: &World<'_>,
    intents: &[crate::rolling::NodeIntent],
    deleted: &FastSet<&str>,
) -> Vec<PodLabelUpdate> {
    let World {
        ctx,
        cluster,
        revisions,
        ..
    } = w;
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
        // Outside a canary (most plans) no node is looked up.
        if !intent.canary && (previous.is_empty() || !previous.contains(node.name)) {
            continue;
        }
        for p in node
            .live()
            .filter(|p| !p.old_daemonset && !deleted.contains(p.name))
        {
            let has = p.digest.canary();
            let want = intent.canary && p.rev == Some(revisions.target);
            if has == want {
                continue;
            }
            let value = want.then(|| keys::CANARY_LABEL_VALUE.to_string());
            updates.push(PodLabelUpdate {
                namespace: p.digest.namespace().unwrap_or_default().to_string(),
                name: p.name.to_string(),
                uid: p.digest.uid().map(str::to_string),
                labels: BTreeMap::from([(keys::CANARY_LABEL.to_string(), value)]),
            });
        }
    }
    updates.sort_by(|a, b| a.name.cmp(&b.name));
    updates
}
