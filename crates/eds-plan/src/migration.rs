//! The migration from a DaemonSet (`old-daemonset` annotation): whether its pods may be
//! replaced, and what the status and events say about it.
//!
//! The pods of the DaemonSet count as outdated pods of the ExtendedDaemonSet, replaced within
//! maxUnavailable. That is safe only while the DaemonSet is being deleted (README, "Migrating
//! from a DaemonSet": a finalizer of the user's holds it, `--wait=false`): a live DaemonSet's
//! controller re-creates every pod deleted, so the two controllers would fight forever and a
//! node would end up with both agents. So while the DaemonSet is [`OldDaemonSet::Live`] no pod
//! of it is deleted and no pod is created beside one, the rollout is `Stalled` with the fix,
//! and a Warning event says so once. A DaemonSet that does not exist has no pod to replace
//! (pods it orphaned no longer name it): a Warning, nothing else changes; unless it was being
//! deleted before, which is how the documented procedure ends.

use std::sync::Arc;

use crate::{EventType, OldDaemonSet, events::Events};
use eds_api::{
    Condition, ExtendedDaemonSetStatus,
    condition::find,
    constants::{condition_type, reason},
};

/// Where README explains the procedure.
const HOW: &str = "delete it with a finalizer held (kubectl delete --wait=false), see README \
                   'Migrating from a DaemonSet'";

/// The migration of one plan: the DaemonSet and its state.
#[derive(Clone, Debug)]
pub struct Migration {
    /// `namespace/name` of the DaemonSet.
    pub daemonset: String,
    /// Its state.
    pub state: OldDaemonSet,
}

impl Migration {
    /// The migration named by `old-daemonset` (`name`), when the snapshot says the state of
    /// that DaemonSet.
    pub fn new(ns: &str, name: Option<&str>, state: Option<OldDaemonSet>) -> Option<Self> {
        Some(Self {
            daemonset: format!("{ns}/{}", name?),
            state: state?,
        })
    }

    /// The reason a node keeps the DaemonSet's pods, while the DaemonSet is live.
    pub fn hold(&self) -> Option<Arc<str>> {
        (self.state == OldDaemonSet::Live).then(|| {
            format!(
                "pod of DaemonSet {} kept, no pod created beside it: the DaemonSet is not being deleted ({})",
                self.daemonset,
                reason::OLD_DAEMONSET_LIVE
            )
            .into()
        })
    }

    /// Why the rollout is stalled, while the DaemonSet is live and `pods` of its pods run.
    pub fn stall(&self, pods: usize) -> Option<String> {
        (self.state == OldDaemonSet::Live).then(|| {
            format!(
                "DaemonSet {ds} (old-daemonset annotation) is not being deleted: its controller \
                 would re-create every pod replaced, so its {pods} pod(s) are kept and no pod is \
                 created beside them; {HOW}",
                ds = self.daemonset
            )
        })
    }

    /// The `Migration` condition (without its generation), after `prev` (the stored one). A
    /// DaemonSet gone after it was being deleted is the end of the documented procedure (the
    /// user removed the finalizer), not a DaemonSet that never existed: no warning.
    pub fn condition(&self, pods: usize, prev: Option<&Condition>) -> Condition {
        let ds = &self.daemonset;
        let was_deleting = prev.and_then(|c| c.reason.as_deref()).is_some_and(|r| {
            r == reason::OLD_DAEMONSET_DELETING || r == reason::OLD_DAEMONSET_DELETED
        });
        match self.state {
            OldDaemonSet::Missing if was_deleting => Condition::new(
                condition_type::MIGRATION,
                true,
                reason::OLD_DAEMONSET_DELETED,
                format!(
                    "DaemonSet {ds} was deleted: migration over; the old-daemonset annotation may be removed"
                ),
            ),
            OldDaemonSet::Deleting => Condition::new(
                condition_type::MIGRATION,
                true,
                reason::OLD_DAEMONSET_DELETING,
                format!(
                    "DaemonSet {ds} is being deleted: its pods are replaced within maxUnavailable"
                ),
            ),
            OldDaemonSet::Live => Condition::new(
                condition_type::MIGRATION,
                false,
                reason::OLD_DAEMONSET_LIVE,
                self.stall(pods).unwrap_or_default(),
            ),
            OldDaemonSet::Missing => Condition::new(
                condition_type::MIGRATION,
                false,
                reason::OLD_DAEMONSET_NOT_FOUND,
                format!(
                    "DaemonSet {ds} (old-daemonset annotation) does not exist: no pod is replaced \
                     for it, and pods it left (orphaned) run beside this ExtendedDaemonSet's; \
                     delete them, or remove the annotation"
                ),
            ),
        }
    }
}

/// Events of the `Migration` condition's transitions between `prev` and `next`: a Warning when
/// it turns `OldDaemonSetLive` or `OldDaemonSetNotFound`, a Normal event when a live DaemonSet
/// starts being deleted. Nothing while the reason stays the same.
pub fn events(
    prev: Option<&ExtendedDaemonSetStatus>,
    next: &ExtendedDaemonSetStatus,
    events: &mut Events,
) {
    let reason_of = |s: &ExtendedDaemonSetStatus| {
        find(&s.conditions, condition_type::MIGRATION).map(|c| {
            (
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            )
        })
    };
    let before = prev.and_then(reason_of).map(|(r, _)| r);
    let Some((now, message)) = reason_of(next) else {
        return;
    };
    if before.as_deref() == Some(now.as_str()) {
        return;
    }
    match now.as_str() {
        reason::OLD_DAEMONSET_LIVE | reason::OLD_DAEMONSET_NOT_FOUND => {
            events.push(EventType::Warning, &now, message);
        }
        reason::OLD_DAEMONSET_DELETING if before.as_deref() == Some(reason::OLD_DAEMONSET_LIVE) => {
            events.push(
                EventType::Normal,
                &now,
                format!("{message}; migration resumed"),
            );
        }
        _ => {}
    }
}
