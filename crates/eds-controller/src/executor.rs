//! Executes a [`Plan`]: the only place the controller writes to the API server for an
//! ExtendedDaemonSet.
//!
//! - ERS objects and every status: server-side apply with one field manager, forced (the
//!   controller owns these fields).
//! - Pod creates: plain creates; names are deterministic, so `AlreadyExists` means an earlier
//!   attempt (or another replica) already did it and counts as success.
//! - Pod and ERS deletes: with uid + resourceVersion preconditions, so a pod that changed since
//!   it was planned (e.g. replaced by someone else) is never deleted by mistake. Pod deletes go
//!   before pod creates: a plan that retires a surge pod on one node and starts one on another
//!   never shows more surging nodes than maxSurge, even for a moment.
//!
//! Pod writes go out several at once, bounded (see [`pods`]).
//!
//! Every write first checks that this replica still leads: losing the lease stops writing at
//! once, even in the middle of a plan.

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod pacing_tests;
mod pods;
#[cfg(test)]
mod rejection_tests;

use std::{collections::BTreeMap, time::Duration};

use k8s_openapi::{
    api::core::v1::{ObjectReference, Pod},
    apimachinery::pkg::apis::meta::v1::Time,
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, Preconditions},
    runtime::events::{Event as KubeEvent, EventType, Recorder},
};
use serde_json::json;
use tokio::{sync::watch, time::Instant};

use super::{
    expectations::Pending,
    metrics::Metrics,
    pacing::{self, Pacing},
};
use eds_api::{
    Condition, ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonSetStatus,
    ExtendedDaemonsetSetting,
    condition::{find, set_condition},
    constants::{FIELD_MANAGER, condition_type, keys::ERS_NAME_LABEL, reason},
};
use eds_plan::{EventObject, EventType as PlanEventType, Plan, progress};
use lean_objects::Lean;

/// Why executing a plan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// This replica lost the leader lease; nothing more is written.
    #[error("lost leadership; stopped writing")]
    NotLeader,
    /// A write was still unanswered when this replica's leadership would end (its lease
    /// deadline): it was abandoned, and nothing more is written.
    #[error("a write was not answered before the leader lease's deadline; abandoned")]
    LeaseDeadline,
    /// Server-side apply of an ERS failed.
    #[error("applying ExtendedDaemonSetReplicaSet {name}: {source}")]
    ApplyReplicaSet { name: String, source: kube::Error },
    /// Creating a pod failed.
    #[error("creating pod {name}: {source}")]
    CreatePod { name: String, source: kube::Error },
    /// Deleting a pod failed.
    #[error("deleting pod {name}: {source}")]
    DeletePod { name: String, source: kube::Error },
    /// Updating the labels of a pod failed.
    #[error("updating labels of pod {name}: {source}")]
    LabelPod { name: String, source: kube::Error },
    /// Deleting an old ERS failed.
    #[error("deleting ExtendedDaemonSetReplicaSet {name}: {source}")]
    DeleteReplicaSet { name: String, source: kube::Error },
    /// Writing a status failed.
    #[error("updating status of {kind} {name}: {source}")]
    ApplyStatus {
        kind: &'static str,
        name: String,
        source: kube::Error,
    },
}

impl ExecuteError {
    /// Short label for the reconcile error metric.
    pub fn metric_reason(&self) -> &'static str {
        match self {
            Self::NotLeader => "not_leader",
            Self::LeaseDeadline => "lease_deadline",
            Self::ApplyReplicaSet { .. } => "apply_ers",
            Self::CreatePod { .. } => "create_pod",
            Self::DeletePod { .. } => "delete_pod",
            Self::LabelPod { .. } => "label_pod",
            Self::DeleteReplicaSet { .. } => "delete_ers",
            Self::ApplyStatus { .. } => "apply_status",
        }
    }

    /// Whether this is a pod delete refused because the pod is no longer the one planned
    /// (409: its uid or resourceVersion precondition failed).
    pub fn is_stale_delete(&self) -> bool {
        matches!(self, Self::DeletePod { source: kube::Error::Api(s), .. } if s.code == 409)
    }

    /// The API error behind this one, if any.
    pub fn api_error(&self) -> Option<&kube::Error> {
        match self {
            Self::NotLeader | Self::LeaseDeadline => None,
            Self::ApplyReplicaSet { source, .. }
            | Self::CreatePod { source, .. }
            | Self::DeletePod { source, .. }
            | Self::LabelPod { source, .. }
            | Self::DeleteReplicaSet { source, .. }
            | Self::ApplyStatus { source, .. } => Some(source),
        }
    }
}

/// Everything the executor needs besides the plan.
pub struct Executor<'a> {
    pub client: &'a Client,
    pub recorder: &'a Recorder,
    pub metrics: &'a Metrics,
    pub leader: &'a watch::Receiver<bool>,
    /// When the leadership ends unless the lease is renewed (`None`: no bound).
    pub deadline: &'a watch::Receiver<Option<Instant>>,
    /// Pod writes in flight at once (`--max-concurrent-writes`).
    pub max_concurrent_writes: usize,
    /// When each status was last written: a change that is only progress waits its turn.
    pub pacing: &'a Pacing,
}

/// What one execution did, for expectations and logs.
#[derive(Debug, Default)]
pub struct Outcome {
    pub pending: Pending,
    pub created: usize,
    pub deleted: usize,
    /// A status change that is only progress was held back by the pacing: the reconcile
    /// must come back within this long to write it.
    pub status_deferred: Option<Duration>,
}

impl Outcome {
    fn defer_status(&mut self, wait: Duration) {
        self.status_deferred = Some(self.status_deferred.map_or(wait, |d| d.min(wait)));
    }
}

impl Executor<'_> {
    fn ensure_leader(&self) -> Result<(), ExecuteError> {
        if *self.leader.borrow() {
            Ok(())
        } else {
            Err(ExecuteError::NotLeader)
        }
    }

    /// Awaits `write` until the leadership's current deadline at most. A write the API server
    /// has not answered by then is abandoned: this replica may no longer write, and another
    /// may soon take over. (The request may still be carried out by the server after the
    /// client gave up; preconditions, deterministic names and server-side apply keep such a
    /// late write from undoing the next leader's work, but nothing here can recall it.)
    async fn in_time<T>(
        &self,
        write: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<Result<T, kube::Error>, ExecuteError> {
        let deadline = *self.deadline.borrow();
        match deadline {
            None => Ok(write.await),
            Some(d) => tokio::time::timeout_at(d, write)
                .await
                .map_err(|_| ExecuteError::LeaseDeadline),
        }
    }

    /// A status write, awaited as [`Self::in_time`]; its failure names the object.
    async fn status_write<T>(
        &self,
        kind: &'static str,
        name: &str,
        write: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, ExecuteError> {
        self.in_time(write)
            .await?
            .map_err(|source| ExecuteError::ApplyStatus {
                kind,
                name: name.to_string(),
                source,
            })
    }

    /// Writes `status` as the status of `eds` (server-side apply), its resourceVersion kept in
    /// `outcome` so that the next plan waits until the cache shows it.
    async fn write_eds_status(
        &self,
        eds: &ExtendedDaemonSet,
        status: &ExtendedDaemonSetStatus,
        outcome: &mut Outcome,
    ) -> Result<(), ExecuteError> {
        self.ensure_leader()?;
        let (ns, name) = (eds.namespace().unwrap_or_default(), eds.name_any());
        let kind = "ExtendedDaemonSet";
        let eds_api: Api<ExtendedDaemonSet> = Api::namespaced(self.client.clone(), &ns);
        // An apply that omits a struct it set before leaves `{}` behind (structured-merge-diff
        // keeps the emptied parent), which reads back as an empty canary or an invalid
        // rejectedRevision. Fields the plan clears are removed explicitly first.
        let live = eds.status.as_ref();
        let mut cleared = serde_json::Map::new();
        if live.is_some_and(|s| s.canary.is_some()) && status.canary.is_none() {
            cleared.insert("canary".into(), serde_json::Value::Null);
        }
        if live.is_some_and(|s| s.rejected_revision.is_some()) && status.rejected_revision.is_none()
        {
            cleared.insert("rejectedRevision".into(), serde_json::Value::Null);
        }
        if !cleared.is_empty() {
            let patch = json!({ "status": cleared });
            let (params, merge) = (PatchParams::default(), Patch::Merge(&patch));
            let clear = eds_api.patch_status(&name, &params, &merge);
            self.status_write(kind, &name, clear).await?;
        }
        let applied = self
            .status_write(kind, &name, apply_status(&eds_api, &name, status))
            .await?;
        outcome.pending.eds_version = applied.resource_version();
        let key = pacing::object_key(kind, &ns, &name);
        self.pacing.mark(&key, Instant::now());
        Ok(())
    }

    /// Applies `plan` for `eds`; `live_ers` are the ERSs in the cache (for status comparison
    /// and owner uids). Every write the API server accepted is in `outcome`, also when
    /// execution stops on an error: the caller records them as expectations either way.
    pub async fn execute(
        &self,
        eds: &ExtendedDaemonSet,
        live_ers: &[ExtendedDaemonSetReplicaSet],
        plan: &Plan,
        outcome: &mut Outcome,
    ) -> Result<(), ExecuteError> {
        let ns = eds.namespace().unwrap_or_default();
        let ers_api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        // Pods written through `Lean`: the answers are decoded without their managedFields.
        let pod_api: Api<Lean<Pod>> = Api::namespaced(self.client.clone(), &ns);
        let apply = PatchParams::apply(FIELD_MANAGER).force();
        let mut ers_uids: BTreeMap<String, String> = live_ers
            .iter()
            .filter_map(|e| Some((e.name_any(), e.uid()?)))
            .collect();

        for ers in &plan.ers_applies {
            self.ensure_leader()?;
            let name = ers.name_any();
            let mut body = serde_json::to_value(ers).expect("ERS serializes");
            strip_for_apply(&mut body);
            let applied = self
                .in_time(ers_api.patch(&name, &apply, &Patch::Apply(&body)))
                .await?
                .map_err(|source| ExecuteError::ApplyReplicaSet {
                    name: name.clone(),
                    source,
                })?;
            if let Some(uid) = applied.uid() {
                ers_uids.insert(name.clone(), uid);
            }
            if let Some(rv) = applied.resource_version() {
                outcome.pending.ers_versions.insert(name, rv);
            }
        }

        // A plan that fails a canary records the rejected revision before it deletes the
        // canary pods. The canary's verdict is read from its pods, and pods being deleted no
        // longer count: were a delete accepted and the status write never made (a later write
        // refused), the next plan would find a canary with no failing pod and start it again.
        let rejects = plan.eds_status_changed
            && plan.eds_status.rejected_revision.is_some()
            && eds
                .status
                .as_ref()
                .and_then(|s| s.rejected_revision.as_ref())
                != plan.eds_status.rejected_revision.as_ref();
        if rejects {
            self.write_eds_status(eds, &plan.eds_status, outcome)
                .await?;
        }

        self.delete_pods(&pod_api, &plan.pod_deletes, outcome)
            .await?;
        // A create the API server refuses (400, 403, 422) is refused again until someone fixes
        // the template or the cluster: it is reported in status and as an event, the rest of
        // the plan still runs, and the error is returned last so the reconcile backs off.
        let refused = match self
            .create_pods(&pod_api, &plan.pod_creates, &ers_uids, outcome)
            .await
        {
            Ok(()) => None,
            Err(e) if refused_create(&e).is_some() => Some(e),
            Err(e) => return Err(e),
        };
        let refusal = refused.as_ref().and_then(refused_create);
        self.label_pods(&pod_api, &plan.pod_label_updates).await?;

        for old in &plan.ers_deletes {
            self.ensure_leader()?;
            let dp = guarded_delete(&old.uid, &old.resource_version);
            unless_gone(self.in_time(ers_api.delete(&old.name, &dp)).await?).map_err(|source| {
                ExecuteError::DeleteReplicaSet {
                    name: old.name.clone(),
                    source,
                }
            })?;
        }

        // Statuses: those that change, and whether each is only progress (paced). A change
        // that is more than progress is written at once together with every other status that
        // changed, so that the ExtendedDaemonSet and its ERSs agree when a watcher sees it.
        let eds_status = match &refusal {
            Some(r) => refused_status(eds, &plan.eds_status, r.message),
            None => plan.eds_status.clone(),
        };
        // The status already written above is written again only for a refusal.
        let written = rejects.then_some(&plan.eds_status);
        let eds_changed = (plan.eds_status_changed || refusal.is_some())
            && eds.status.as_ref() != Some(&eds_status)
            && written != Some(&eds_status);
        let eds_progress = eds
            .status
            .as_ref()
            .is_some_and(|l| progress::eds_only_progress(l, &eds_status));
        let ers_changes: Vec<_> = plan
            .ers_statuses
            .iter()
            .filter_map(|(name, status)| {
                let live = live_ers.iter().find(|e| &e.name_any() == name);
                let live_status = live.and_then(|e| e.status.as_ref());
                let unknown =
                    live.is_none() && !plan.ers_applies.iter().any(|e| &e.name_any() == name);
                (live_status != Some(status) && !unknown).then(|| {
                    let progress =
                        live_status.is_some_and(|l| progress::ers_only_progress(l, status));
                    (name, status, progress)
                })
            })
            .collect();
        let flush = (eds_changed && !eds_progress) || ers_changes.iter().any(|(.., p)| !p);
        let held = |key: &str, progress: bool| {
            (progress && !flush)
                .then(|| self.pacing.wait(key, Instant::now()))
                .flatten()
        };

        for (name, status, progress) in ers_changes {
            let kind = "ExtendedDaemonSetReplicaSet";
            let key = pacing::object_key(kind, &ns, name);
            if let Some(wait) = held(&key, progress) {
                outcome.defer_status(wait);
                continue;
            }
            self.ensure_leader()?;
            self.status_write(kind, name, apply_status(&ers_api, name, status))
                .await?;
            self.pacing.mark(&key, Instant::now());
        }

        for (name, status) in &plan.setting_statuses {
            self.ensure_leader()?;
            let api: Api<ExtendedDaemonsetSetting> = Api::namespaced(self.client.clone(), &ns);
            let kind = "ExtendedDaemonsetSetting";
            self.status_write(kind, name, apply_status(&api, name, status))
                .await?;
        }

        let (kind, name) = ("ExtendedDaemonSet", eds.name_any());
        let key = pacing::object_key(kind, &ns, &name);
        let wait = eds_changed.then(|| held(&key, eds_progress)).flatten();
        if let Some(wait) = wait {
            outcome.defer_status(wait);
        } else if eds_changed {
            self.write_eds_status(eds, &eds_status, outcome).await?;
        }

        let ers_ref = |name: &String| {
            let mut r = eds.object_ref(&());
            r.api_version = Some(ExtendedDaemonSetReplicaSet::api_version(&()).into());
            r.kind = Some(ExtendedDaemonSetReplicaSet::kind(&()).into());
            r.name = Some(name.clone());
            r.uid = ers_uids.get(name).cloned();
            r.resource_version = None;
            r
        };
        let refusal_event = refusal.map(|r| eds_plan::PlannedEvent {
            type_: PlanEventType::Warning,
            reason: reason::FAILED_CREATE.into(),
            message: format!("Error creating: {}", r.message),
            on: EventObject::ExtendedDaemonSet,
            revision: plan
                .pod_creates
                .iter()
                .find(|p| p.name_any() == r.pod)
                .and_then(|p| p.labels().get(ERS_NAME_LABEL).cloned()),
            node: None,
        });
        for event in plan.events.iter().chain(&refusal_event) {
            let reference = match &event.on {
                EventObject::ExtendedDaemonSet => eds.object_ref(&()),
                EventObject::ReplicaSet(name) => ers_ref(name),
            };
            let ev = KubeEvent {
                type_: match event.type_ {
                    PlanEventType::Normal => EventType::Normal,
                    PlanEventType::Warning => EventType::Warning,
                },
                reason: event.reason.clone(),
                note: Some(event_note(&event.message)),
                action: event.reason.clone(),
                // The revision as related object keeps events of different revisions apart
                // (the recorder merges events by object, related object and reason).
                // (the recorder merges events by object, related object and reason); so
                // does the node of an event about a node.
                secondary: event
                    .revision
                    .as_ref()
                    .map(ers_ref)
                    .or_else(|| event.node.as_deref().map(node_ref)),
            };
            // Events are best effort: a failure is logged, never fails the reconcile.
            match self.in_time(self.recorder.publish(&ev, &reference)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, reason = %event.reason, "cannot publish event");
                }
                Err(e) => return Err(e),
            }
        }
        refused.map_or(Ok(()), Err)
    }
}

/// A pod create the API server refused for good.
struct Refusal<'e> {
    pod: &'e str,
    message: &'e str,
}

/// The refusal behind `e`, when it is a pod create the API server refused for a reason no
/// retry of the same request fixes: the pod does not decode (400), is forbidden (403: a quota,
/// an admission policy) or invalid (422).
fn refused_create(e: &ExecuteError) -> Option<Refusal<'_>> {
    match e {
        ExecuteError::CreatePod {
            name,
            source: kube::Error::Api(s),
        } if matches!(s.code, 400 | 403 | 422) => Some(Refusal {
            pod: name,
            message: &s.message,
        }),
        _ => None,
    }
}

/// `planned` with `Stalled` (and `Ready`, `Reconciling` false) for a refused pod create, the
/// times of an already reported refusal kept.
fn refused_status(
    eds: &ExtendedDaemonSet,
    planned: &ExtendedDaemonSetStatus,
    message: &str,
) -> ExtendedDaemonSetStatus {
    let mut status = planned.clone();
    let now = jiff::Timestamp::now();
    let now = Time(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now));
    let live = eds.status.as_ref().map(|s| s.conditions.as_slice());
    let message = format!("the API server refuses the pods of the template: {message}");
    for (type_, holds) in [
        (condition_type::STALLED, true),
        (condition_type::READY, false),
        (condition_type::RECONCILING, false),
    ] {
        if let Some(reported) = live
            .and_then(|l| find(l, type_))
            .filter(|c| c.reason.as_deref() == Some(reason::FAILED_CREATE))
        {
            status.conditions.retain(|c| c.type_ != type_);
            status.conditions.push(reported.clone());
        }
        let c = Condition {
            observed_generation: eds.metadata.generation,
            ..Condition::new(type_, holds, reason::FAILED_CREATE, message.clone())
        };
        set_condition(&mut status.conditions, c, &now);
    }
    status
}

/// Reference to node `name`, the related object of an event about a node.
fn node_ref(name: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Node".into()),
        name: Some(name.to_string()),
        ..ObjectReference::default()
    }
}

/// `None` for a 404: the object is already gone, which is all a delete (or a patch of a pod
/// replaced since it was planned) needs.
fn unless_gone<T>(result: Result<T, kube::Error>) -> Result<Option<T>, kube::Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Server-side apply of the status of object `name` (the controller's field manager).
pub async fn apply_status<K>(
    api: &Api<K>,
    name: &str,
    status: &impl serde::Serialize,
) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": { "name": name },
        "status": status,
    });
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(name, &apply, &Patch::Apply(&body)).await
}

/// The most bytes the API server accepts in an event's note (its validation refuses the event
/// beyond).
const EVENT_NOTE_LIMIT: usize = 1024;

/// `message` as an event's note: cut to what the API server accepts, at a character boundary,
/// ending with an ellipsis when cut. (`eds plan` and the statuses keep the whole message.)
fn event_note(message: &str) -> String {
    if message.len() <= EVENT_NOTE_LIMIT {
        return message.to_string();
    }
    const ELLIPSIS: &str = " …";
    let mut end = EVENT_NOTE_LIMIT - ELLIPSIS.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &message[..end])
}

/// Delete options with the given preconditions.
fn guarded_delete(uid: &Option<String>, resource_version: &Option<String>) -> DeleteParams {
    DeleteParams {
        preconditions: Some(Preconditions {
            uid: uid.clone(),
            resource_version: resource_version.clone(),
        }),
        ..DeleteParams::default()
    }
}

/// Removes the fields an apply request must not carry (server-populated metadata, status).
fn strip_for_apply(body: &mut serde_json::Value) {
    if let Some(meta) = body.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for key in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "managedFields",
        ] {
            meta.remove(key);
        }
    }
    if let Some(obj) = body.as_object_mut() {
        obj.remove("status");
    }
}

/// Fills the uid of owner references to ERSs created in this same execution.
fn fill_owner_uids(pod: &mut Pod, ers_uids: &BTreeMap<String, String>) {
    if let Some(owners) = pod.metadata.owner_references.as_mut() {
        for owner in owners.iter_mut().filter(|o| o.uid.is_empty()) {
            if let Some(uid) = ers_uids.get(&owner.name) {
                owner.uid = uid.clone();
            }
        }
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    fn create_error(code: u16) -> ExecuteError {
        ExecuteError::CreatePod {
            name: "p".into(),
            source: kube::Error::Api(Box::new(kube::core::Status {
                code,
                message: format!("refused with {code}"),
                ..Default::default()
            })),
        }
    }

    #[test]
    fn only_a_refused_pod_delete_is_a_stale_delete() {
        let delete_error = |code: u16| ExecuteError::DeletePod {
            name: "p".into(),
            source: kube::Error::Api(Box::new(kube::core::Status {
                code,
                ..Default::default()
            })),
        };
        assert!(delete_error(409).is_stale_delete());
        for code in [404, 422, 500] {
            assert!(!delete_error(code).is_stale_delete(), "{code}");
        }
        assert!(!create_error(409).is_stale_delete());
    }

    #[test]
    fn only_refusals_no_retry_fixes_are_reported() {
        for code in [400, 403, 422] {
            assert!(refused_create(&create_error(code)).is_some(), "{code}");
        }
        for code in [404, 409, 429, 500, 503] {
            assert!(refused_create(&create_error(code)).is_none(), "{code}");
        }
    }

    #[test]
    fn a_refusal_already_reported_keeps_its_transition_time() {
        let eds: ExtendedDaemonSet = serde_json::from_value(json!({
            "metadata": { "name": "e", "generation": 2 },
            "spec": { "strategy": {}, "template": {} },
        }))
        .unwrap();
        let first = refused_status(&eds, &ExtendedDaemonSetStatus::default(), "bad");
        let stalled = find(&first.conditions, condition_type::STALLED).unwrap();
        assert!(stalled.is_true());
        assert_eq!(stalled.reason.as_deref(), Some(reason::FAILED_CREATE));
        assert!(find(&first.conditions, condition_type::READY).is_some_and(|c| !c.is_true()));
        let old = Time(jiff::Timestamp::from_second(1).unwrap());
        let mut reported = first.clone();
        for c in &mut reported.conditions {
            c.last_transition_time = Some(old.clone());
        }
        let eds = ExtendedDaemonSet {
            status: Some(reported),
            ..eds
        };
        // The planner's status says Stalled=False (it does not know about the refusal).
        let mut planned = ExtendedDaemonSetStatus::default();
        planned.conditions.push(Condition::new(
            condition_type::STALLED,
            false,
            reason::ROLLOUT_IN_PROGRESS,
            "",
        ));
        let again = refused_status(&eds, &planned, "bad");
        let stalled = find(&again.conditions, condition_type::STALLED).unwrap();
        assert!(stalled.is_true());
        assert_eq!(stalled.last_transition_time, Some(old));
    }
}

#[cfg(test)]
mod event_note_tests {
    use super::*;

    #[test]
    fn notes_fit_the_api_servers_limit_and_say_they_were_cut() {
        let short = "node n1: bad annotation";
        assert_eq!(event_note(short), short);
        let exact = "x".repeat(EVENT_NOTE_LIMIT);
        assert_eq!(event_note(&exact), exact);
        // Multi-byte characters straddling the limit are not split.
        let long = "é".repeat(EVENT_NOTE_LIMIT);
        let note = event_note(&long);
        assert!(note.len() <= EVENT_NOTE_LIMIT, "{}", note.len());
        assert!(note.ends_with(" …"));
        assert!(note.trim_end_matches(" …").chars().all(|c| c == 'é'));
    }
}
