//! [`PodDigest`]: what the planner reads of a pod, taken out of the decoded object once.
//!
//! A plan at 10,000 nodes reads every pod once, and a decoded pod is scattered over the heap:
//! its labels and annotations are maps whose nodes and keys each sit in their own allocation,
//! its status a tree of vectors. Reading them costs a memory round trip each (about 17 a pod),
//! and that is most of a plan's time. A digest keeps the few values the per-pod pass needs in
//! one record and one string block; the controller's pod cache computes it when a watch event
//! arrives, so a plan reads dense records instead of decoded pods. The pod itself stays
//! reachable for the rare reads of the rest (deletes, canary health).

mod node;

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use eds_api::constants::keys;

use crate::{
    observe::{FAILED, READY, SUCCEEDED, TRUE, container_statuses},
    placement::pod_node,
};

pub use node::{NodeDigest, TaintRef};

/// The strings of a digest, in the order they are stored in its block.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Text {
    /// `metadata.name`.
    Name,
    /// The node it runs on, or is pinned to ([`pod_node`]).
    Node,
    /// The ERS name label.
    Ers,
    /// The Setting name label.
    Setting,
    /// The `settinghash` annotation.
    SettingHash,
    /// The `nodehash` annotation.
    NodeHash,
    /// The name of its controller owner reference.
    Owner,
    /// `metadata.namespace`.
    Namespace,
    /// `metadata.uid`.
    Uid,
    /// `metadata.resourceVersion`.
    ResourceVersion,
}

/// How many strings a digest stores.
const TEXTS: usize = 10;

/// Flag: `spec.nodeName` is set (bound).
const F_BOUND: u8 = 1;
/// Flag: its `Ready` condition (the first one) is `True`.
const F_READY: u8 = 1 << 1;
/// Flag: phase `Failed` or `Succeeded`.
const F_FINISHED: u8 = 1 << 2;
/// Flag: it carries the canary label with the canary value.
const F_CANARY: u8 = 1 << 3;

/// What the planner reads of one pod in its per-pod pass, and the pod.
///
/// Built by [`PodDigest::new`] from the pod alone (nothing of the ExtendedDaemonSet or the
/// planning time), so it stays valid as long as the pod object does: a cache computes it once
/// per watch event.
#[derive(Clone, Debug, PartialEq)]
pub struct PodDigest {
    /// The pod.
    pod: Arc<Pod>,
    /// Its strings, one after the other (see [`Text`]).
    text: Box<str>,
    /// End of each string in `text`.
    ends: [u32; TEXTS],
    /// Bit `i`: the string [`Text`] `i` is present (an absent one and an empty one differ).
    present: u16,
    /// `F_BOUND`, `F_READY`, `F_FINISHED`, `F_CANARY`.
    flags: u8,
    /// Sum of its container restarts.
    restarts: i32,
    /// `metadata.creationTimestamp`.
    created: Option<Timestamp>,
    /// `lastTransitionTime` of its `Ready` condition.
    ready_transition: Option<Timestamp>,
    /// `metadata.deletionTimestamp`.
    deletion: Option<Timestamp>,
    /// `metadata.deletionGracePeriodSeconds`.
    deletion_grace: Option<i64>,
}

impl PodDigest {
    /// The digest of `pod`.
    pub fn new(pod: Arc<Pod>) -> Self {
        let meta = &pod.metadata;
        let mut texts: [Option<&str>; TEXTS] = [None; TEXTS];
        texts[Text::Name as usize] = meta.name.as_deref();
        texts[Text::Node as usize] = pod_node(&pod);
        for (key, value) in meta.labels.iter().flatten() {
            if key == keys::ERS_NAME_LABEL {
                texts[Text::Ers as usize] = Some(value);
            } else if key == keys::SETTING_NAME_LABEL {
                texts[Text::Setting as usize] = Some(value);
            }
        }
        for (key, value) in meta.annotations.iter().flatten() {
            if key == keys::SETTING_HASH_ANNOTATION {
                texts[Text::SettingHash as usize] = Some(value);
            } else if key == keys::NODE_HASH_ANNOTATION {
                texts[Text::NodeHash as usize] = Some(value);
            }
        }
        texts[Text::Owner as usize] = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| o.name.as_str());
        // What a delete's preconditions and a label update name: a plan that deletes a pod
        // then reads nothing more of the pod object.
        texts[Text::Namespace as usize] = meta.namespace.as_deref();
        texts[Text::Uid as usize] = meta.uid.as_deref();
        texts[Text::ResourceVersion as usize] = meta.resource_version.as_deref();
        let mut text = String::with_capacity(texts.iter().flatten().map(|t| t.len()).sum());
        let mut ends = [0u32; TEXTS];
        let mut present = 0u16;
        for (i, t) in texts.iter().enumerate() {
            if let Some(t) = t {
                text.push_str(t);
                present |= 1 << i;
            }
            // A pod's strings are bounded by the API server's object size limit (a few MiB).
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        let status = pod.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == READY));
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        let canary = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(keys::CANARY_LABEL))
            .is_some_and(|v| v == keys::CANARY_LABEL_VALUE);
        let mut flags = 0;
        for (set, flag) in [
            (bound, F_BOUND),
            (ready.is_some_and(|c| c.status == TRUE), F_READY),
            (phase == FAILED || phase == SUCCEEDED, F_FINISHED),
            (canary, F_CANARY),
        ] {
            if set {
                flags |= flag;
            }
        }
        Self {
            text: text.into_boxed_str(),
            ends,
            present,
            flags,
            restarts: container_statuses(&pod).map(|c| c.restart_count).sum(),
            created: meta.creation_timestamp.as_ref().map(|t| t.0),
            ready_transition: ready
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
            deletion: meta.deletion_timestamp.as_ref().map(|t| t.0),
            deletion_grace: meta.deletion_grace_period_seconds,
            pod,
        }
    }

    /// The pod.
    pub fn pod(&self) -> &Arc<Pod> {
        &self.pod
    }

    fn text(&self, which: Text) -> Option<&str> {
        let i = which as usize;
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize)
    }

    /// `metadata.name` (empty when unset).
    pub fn name(&self) -> &str {
        self.text(Text::Name).unwrap_or_default()
    }

    /// The node it runs on, or is pinned to when not scheduled yet.
    pub fn node(&self) -> Option<&str> {
        self.text(Text::Node)
    }

    /// The ERS name label.
    pub fn ers_label(&self) -> Option<&str> {
        self.text(Text::Ers)
    }

    /// The Setting name label.
    pub fn setting_label(&self) -> Option<&str> {
        self.text(Text::Setting)
    }

    /// The `settinghash` annotation.
    pub fn setting_hash(&self) -> Option<&str> {
        self.text(Text::SettingHash)
    }

    /// The `nodehash` annotation.
    pub fn node_hash(&self) -> Option<&str> {
        self.text(Text::NodeHash)
    }

    /// The name of its controller owner reference.
    pub fn owner(&self) -> Option<&str> {
        self.text(Text::Owner)
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.text(Text::Namespace)
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&str> {
        self.text(Text::Uid)
    }

    /// `metadata.resourceVersion`.
    pub fn resource_version(&self) -> Option<&str> {
        self.text(Text::ResourceVersion)
    }

    /// Bound to a node (`spec.nodeName` set).
    pub fn bound(&self) -> bool {
        self.flags & F_BOUND != 0
    }

    /// Its `Ready` condition is `True` (whether it is terminating or not).
    pub fn ready_condition(&self) -> bool {
        self.flags & F_READY != 0
    }

    /// Phase `Failed` or `Succeeded`: it will never run again.
    pub fn finished(&self) -> bool {
        self.flags & F_FINISHED != 0
    }

    /// It carries the canary label.
    pub fn canary(&self) -> bool {
        self.flags & F_CANARY != 0
    }

    /// Sum of its container restarts (regular, init and ephemeral).
    pub fn restarts(&self) -> i32 {
        self.restarts
    }

    /// Creation time.
    pub fn created(&self) -> Option<Timestamp> {
        self.created
    }

    /// Last transition time of its `Ready` condition.
    pub fn ready_transition(&self) -> Option<Timestamp> {
        self.ready_transition
    }

    /// Deletion timestamp.
    pub fn deletion(&self) -> Option<Timestamp> {
        self.deletion
    }

    /// Deletion grace period in seconds.
    pub fn deletion_grace(&self) -> Option<i64> {
        self.deletion_grace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::{
        api::core::v1::{ContainerStatus, PodCondition, PodSpec, PodStatus},
        apimachinery::pkg::apis::meta::v1::{OwnerReference, Time},
    };

    fn at(second: i64) -> Time {
        Time(Timestamp::from_second(second).unwrap())
    }

    #[test]
    fn reads_what_the_planner_reads() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("foo-abc-x1".into());
        pod.metadata.labels = Some(
            [
                (keys::ERS_NAME_LABEL, "foo-abc"),
                (keys::SETTING_NAME_LABEL, ""),
                (keys::CANARY_LABEL, keys::CANARY_LABEL_VALUE),
                ("other", "x"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        pod.metadata.annotations =
            Some([(keys::NODE_HASH_ANNOTATION.to_string(), "h1".to_string())].into());
        pod.metadata.owner_references = Some(vec![
            OwnerReference {
                name: "not-controller".into(),
                ..Default::default()
            },
            OwnerReference {
                name: "foo-def".into(),
                controller: Some(true),
                ..Default::default()
            },
        ]);
        pod.metadata.creation_timestamp = Some(at(100));
        pod.metadata.namespace = Some("agents".into());
        pod.metadata.uid = Some("uid-1".into());
        pod.metadata.resource_version = Some("42".into());
        pod.metadata.deletion_timestamp = Some(at(200));
        pod.metadata.deletion_grace_period_seconds = Some(30);
        pod.spec = Some(PodSpec {
            node_name: Some("node-1".into()),
            ..Default::default()
        });
        pod.status = Some(PodStatus {
            phase: Some("Succeeded".into()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(at(150)),
                ..Default::default()
            }]),
            container_statuses: Some(vec![ContainerStatus {
                restart_count: 2,
                ..Default::default()
            }]),
            init_container_statuses: Some(vec![ContainerStatus {
                restart_count: 3,
                ..Default::default()
            }]),
            ..Default::default()
        });
        let d = PodDigest::new(Arc::new(pod.clone()));
        assert_eq!(d.name(), "foo-abc-x1");
        assert_eq!(d.node(), Some("node-1"));
        assert_eq!(d.ers_label(), Some("foo-abc"));
        // Present but empty is not absent.
        assert_eq!(d.setting_label(), Some(""));
        assert_eq!(d.setting_hash(), None);
        assert_eq!(d.node_hash(), Some("h1"));
        assert_eq!(d.owner(), Some("foo-def"));
        assert_eq!(
            (d.namespace(), d.uid(), d.resource_version()),
            (Some("agents"), Some("uid-1"), Some("42"))
        );
        assert!(d.bound() && d.ready_condition() && d.finished() && d.canary());
        assert_eq!(d.restarts(), 5);
        assert_eq!(d.created(), Some(at(100).0));
        assert_eq!(d.ready_transition(), Some(at(150).0));
        assert_eq!(d.deletion(), Some(at(200).0));
        assert_eq!(d.deletion_grace(), Some(30));
        assert!(Arc::ptr_eq(
            d.pod(),
            &PodDigest::new(Arc::clone(d.pod())).pod
        ));

        let bare = PodDigest::new(Arc::new(Pod::default()));
        assert_eq!(bare.name(), "");
        assert_eq!(
            (bare.node(), bare.ers_label(), bare.owner()),
            (None, None, None)
        );
        assert_eq!(
            (bare.namespace(), bare.uid(), bare.resource_version()),
            (None, None, None)
        );
        assert!(!bare.bound() && !bare.ready_condition() && !bare.finished() && !bare.canary());
        assert_eq!((bare.created(), bare.deletion()), (None, None));
    }
}
