//! Pod writes of a plan, several at once.
//!
//! A rolling-update wave at thousands of nodes is hundreds of deletes and creates; awaiting them
//! one after another makes the reconcile last hundreds of round trips. They are independent of
//! each other (deterministic names, uid + resourceVersion preconditions), so they go out
//! together, at most `limit` in flight, as the DaemonSet controller batches its creates.
//!
//! - All deletes finish before the first create starts (see the module above: a node never
//!   shows two surging pods, even for a moment).
//! - After the first failure (or a lost lease) no new write starts; the writes already in
//!   flight finish and their results are kept, so the expectations list every write the API
//!   server accepted and the next reconcile does not repeat or forget any of them.

use std::collections::BTreeMap;

use futures::{StreamExt, stream::FuturesUnordered};
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;

use super::{ExecuteError, Executor, Outcome, fill_owner_uids, guarded_delete, unless_gone};
use eds_api::constants::keys::ERS_NAME_LABEL;
use eds_plan::{PodDelete, PodLabelUpdate};
use lean_objects::Lean;

/// What one write did.
enum Done {
    /// The API server accepted the write.
    Written,
    /// Nothing to do: the pod was already gone (delete, label) or already there (create).
    AlreadyDone,
}

impl Executor<'_> {
    /// Runs `write` on every item, at most `self.max_concurrent_writes` at once, and calls
    /// `record` for each item the API server accepted. Returns the first error.
    async fn bounded<'i, T, F, Fut>(
        &self,
        items: &'i [T],
        write: F,
        mut record: impl FnMut(&'i T),
    ) -> Result<(), ExecuteError>
    where
        F: Fn(&'i T) -> Fut,
        Fut: Future<Output = Result<Done, ExecuteError>>,
    {
        let limit = self.max_concurrent_writes.max(1);
        let mut queue = items.iter();
        let mut in_flight = FuturesUnordered::new();
        let mut first_error = None;
        loop {
            while first_error.is_none() && in_flight.len() < limit {
                let Some(item) = queue.next() else { break };
                if let Err(e) = self.ensure_leader() {
                    first_error = Some(e);
                    break;
                }
                let written = write(item);
                in_flight.push(async move { (item, written.await) });
            }
            let Some((item, result)) = in_flight.next().await else {
                break;
            };
            match result {
                Ok(Done::Written) => record(item),
                Ok(Done::AlreadyDone) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Deletes the planned pods (with preconditions); every accepted delete is counted and its
    /// uid recorded in `outcome`.
    pub(super) async fn delete_pods(
        &self,
        api: &Api<Lean<Pod>>,
        deletes: &[PodDelete],
        outcome: &mut Outcome,
    ) -> Result<(), ExecuteError> {
        let record = |delete: &PodDelete| {
            tracing::info!(
                pod = %delete.name,
                node = delete.node.as_deref().unwrap_or_default(),
                reason = %delete.reason,
                "pod deleted"
            );
            self.metrics.pods_deleted.inc();
            outcome.deleted += 1;
            if let Some(uid) = &delete.uid {
                outcome.pending.deletes.insert(uid.clone());
            }
        };
        self.bounded(
            deletes,
            |delete| async move {
                let dp = guarded_delete(&delete.uid, &delete.resource_version);
                match unless_gone(self.in_time(api.delete(&delete.name, &dp)).await?) {
                    Ok(Some(_)) => Ok(Done::Written),
                    Ok(None) => Ok(Done::AlreadyDone),
                    Err(source) => Err(ExecuteError::DeletePod {
                        name: delete.name.clone(),
                        source,
                    }),
                }
            },
            record,
        )
        .await
    }

    /// Creates the planned pods; every accepted create is counted and its name recorded in
    /// `outcome`. `AlreadyExists` is success: names are deterministic, so an earlier attempt
    /// (or another replica) made it.
    pub(super) async fn create_pods(
        &self,
        api: &Api<Lean<Pod>>,
        creates: &[Pod],
        ers_uids: &BTreeMap<String, String>,
        outcome: &mut Outcome,
    ) -> Result<(), ExecuteError> {
        let record = |pod: &Pod| {
            tracing::info!(
                pod = %pod.name_any(),
                node = eds_plan::pod_node(pod).unwrap_or_default(),
                ers = pod
                    .labels()
                    .get(ERS_NAME_LABEL)
                    .map(String::as_str)
                    .unwrap_or_default(),
                "pod created"
            );
            self.metrics.pods_created.inc();
            outcome.created += 1;
            outcome.pending.creates.insert(pod.name_any());
        };
        self.bounded(
            creates,
            |planned| async move {
                let mut pod = Lean(planned.clone());
                fill_owner_uids(&mut pod.0, ers_uids);
                match self
                    .in_time(api.create(&PostParams::default(), &pod))
                    .await?
                {
                    Ok(_) => Ok(Done::Written),
                    Err(kube::Error::Api(e)) if e.code == 409 => {
                        tracing::debug!(pod = %pod.0.name_any(), "pod already exists");
                        Ok(Done::AlreadyDone)
                    }
                    Err(source) => Err(ExecuteError::CreatePod {
                        name: pod.0.name_any(),
                        source,
                    }),
                }
            },
            record,
        )
        .await
    }

    /// Patches the labels of existing pods; the uid in the patch makes it fail on a pod
    /// replaced since it was planned.
    pub(super) async fn label_pods(
        &self,
        api: &Api<Lean<Pod>>,
        updates: &[PodLabelUpdate],
    ) -> Result<(), ExecuteError> {
        self.bounded(
            updates,
            |update| async move {
                let patch = json!({ "metadata": { "uid": update.uid, "labels": update.labels } });
                let patched = self
                    .in_time(api.patch(
                        &update.name,
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    ))
                    .await?;
                match unless_gone(patched) {
                    Ok(Some(_)) => Ok(Done::Written),
                    Ok(None) => Ok(Done::AlreadyDone),
                    Err(source) => Err(ExecuteError::LabelPod {
                        name: update.name.clone(),
                        source,
                    }),
                }
            },
            |_| {},
        )
        .await
    }
}

#[cfg(test)]
mod tests;
