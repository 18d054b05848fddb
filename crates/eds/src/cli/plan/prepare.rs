//! The snapshot one proposed ExtendedDaemonSet is planned on: the current state (a state file
//! or a cluster) with the object the user's apply would store in place of the stored one.

use std::path::Path;

use jiff::Timestamp;
use kube::Client;
use serde_json::Value;

use super::{
    apply::{self, ApplyMode},
    args::PlanArgs,
    error::PlanError,
    input::{Located, State},
    live,
    proposal::{Admission, MetadataMerge, merge},
};
use crate::render;
use eds_api::ExtendedDaemonSet;
use eds_plan::{Snapshot, StateObject};

/// Where the current state comes from.
pub enum Source<'a> {
    /// `--state FILE`, read once for every ExtendedDaemonSet of `-f`.
    State(&'a Path, State),
    /// The cluster of the kubeconfig context.
    Cluster(Client),
}

/// The snapshot to plan, and the object before and after.
pub struct Prepared {
    /// The state with the proposed object.
    pub snapshot: Snapshot,
    /// The stored object, if any.
    pub before: Option<ExtendedDaemonSet>,
    /// The object the apply would store.
    pub after: ExtendedDaemonSet,
    /// `before` and `after` as JSON with their values as written, when both are known.
    pub as_written: Option<(Option<Value>, Value)>,
    /// Where the state came from.
    pub source: render::Source,
}

/// Prepares the plan of `proposed`.
pub async fn prepare(
    args: &PlanArgs,
    source: &Source<'_>,
    proposed: &Located,
    now: Timestamp,
) -> Result<Prepared, PlanError> {
    let file_namespace = proposed
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let namespace = match (file_namespace, args.namespace.as_deref()) {
        (Some(file), Some(flag)) if file != flag => {
            return Err(PlanError::NamespaceMismatch {
                file: file.into(),
                flag: flag.into(),
            });
        }
        (Some(ns), _) | (None, Some(ns)) => Some(ns.to_string()),
        (None, None) => None,
    };
    if proposed.name().is_empty() {
        return Err(PlanError::InvalidSpec {
            at: proposed.at.clone(),
            name: String::new(),
            causes: vec!["metadata.name: Required value".into()],
        });
    }
    match source {
        Source::State(path, state) => offline(args, path, state, proposed, namespace, now),
        Source::Cluster(client) => live_state(args, client, proposed, namespace, now).await,
    }
}

/// Offline: the state file, with the object the apply would store, admitted as the API server
/// would admit it.
fn offline(
    args: &PlanArgs,
    path: &Path,
    state: &State,
    proposed: &Located,
    namespace: Option<String>,
    now: Timestamp,
) -> Result<Prepared, PlanError> {
    let mut objects = state.objects.clone();
    let name = proposed.name().to_string();
    let named = |o: &StateObject| match o {
        StateObject::Eds(e) if e.metadata.name.as_deref() == Some(name.as_str()) => Some(
            e.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
        ),
        _ => None,
    };
    let namespace = namespace.unwrap_or_else(|| {
        let found: Vec<String> = objects.iter().filter_map(named).collect();
        match found.as_slice() {
            [only] => only.clone(),
            _ => "default".into(),
        }
    });
    let admission = Admission::new();
    admission.check_fields(proposed)?;
    let mut stored = None;
    objects.retain(|o| match (o, named(o)) {
        (StateObject::Eds(e), Some(ns)) => {
            if ns == namespace {
                stored = Some(admission.default_stored(e));
            }
            false
        }
        _ => true,
    });
    let mut file = proposed.value.clone();
    set_namespace(&mut file, &namespace);
    let stored_as_written = stored.as_ref().and_then(|_| {
        state
            .eds_values
            .iter()
            .find(|v| {
                let at = |p: &str| v.pointer(p).and_then(Value::as_str);
                at("/metadata/name") == Some(name.as_str())
                    && at("/metadata/namespace").unwrap_or("default") == namespace
            })
            .map(|v| admission.normalized_value(v))
    });
    let (merged, as_written) = match (&args.apply_mode(), &stored) {
        (ApplyMode::ClientSide, Some(stored)) => {
            let live = stored_as_written
                .clone()
                .unwrap_or_else(|| admission.stored_value(stored));
            let modified = apply::with_last_applied(&file);
            let original = apply::last_applied(&live);
            let patch = apply::three_way_patch(original.as_ref(), &modified, &live);
            let mut result = live.clone();
            apply::merge_patch(&mut result, &patch);
            let (after, value) = admission.admit_value_as_written(proposed, result, Some(&live))?;
            let merged = merge(Some(stored), after, MetadataMerge::Replace, now);
            (merged, stored_as_written.map(|b| (Some(b), value)))
        }
        (ApplyMode::ClientSide, None) => {
            let (after, value) = admission.admit_value_as_written(
                proposed,
                apply::with_last_applied(&file),
                None,
            )?;
            (
                merge(None, after, MetadataMerge::Replace, now),
                Some((None, value)),
            )
        }
        (ApplyMode::ServerSide { .. }, _) => {
            let after = admission.admit_value(proposed, file, None)?;
            (
                merge(stored.as_ref(), after, MetadataMerge::Overlay, now),
                None,
            )
        }
    };
    objects.push(StateObject::Eds(Box::new(merged.clone())));
    let snapshot =
        Snapshot::from_objects(objects, Some(&name)).map_err(|source| PlanError::State {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
    Ok(Prepared {
        snapshot,
        before: stored,
        after: merged,
        as_written,
        source: render::Source::State,
    })
}

fn set_namespace(object: &mut Value, namespace: &str) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace.into()));
    }
}

/// Live: the cluster's state, with the object a server-side dry run of the user's apply
/// returns.
async fn live_state(
    args: &PlanArgs,
    client: &Client,
    proposed: &Located,
    namespace: Option<String>,
    now: Timestamp,
) -> Result<Prepared, PlanError> {
    let namespace = namespace.unwrap_or_else(|| client.default_namespace().to_string());
    let name = proposed.name().to_string();
    let state = live::read(client, &namespace, &name).await?;
    let (applied, applied_value) = live::dry_run(
        client,
        &args.apply_mode(),
        &namespace,
        &name,
        &proposed.value,
    )
    .await?;
    let before_value = live::read_as_written(client, &namespace, &name).await?;
    let before = state.eds.clone();
    let merged = merge(
        before.as_ref(),
        applied.clone(),
        MetadataMerge::Replace,
        now,
    );
    let mut objects = live::ClusterState { eds: None, ..state }.into_objects();
    objects.push(StateObject::Eds(Box::new(merged)));
    let snapshot = Snapshot::from_objects(objects, Some(&name))
        .map_err(|e| PlanError::Snapshot(Box::new(e)))?;
    Ok(Prepared {
        snapshot,
        before,
        after: applied,
        as_written: Some((before_value, applied_value)),
        source: render::Source::Cluster,
    })
}
