//! Expectations: what the controller wrote for an ExtendedDaemonSet and is waiting to see in
//! its caches.
//!
//! Watch caches lag behind writes. Planning again before the cache shows a create would create
//! the pod a second time (harmless: names are deterministic) but planning before it shows a
//! delete could delete a second pod and break the maxUnavailable budget. So after acting for
//! an ExtendedDaemonSet, the controller waits until the cache has caught up with every write
//! (or a timeout passed, in case an event was missed) before planning it again.

use std::{
    cell::OnceCell,
    collections::{BTreeMap, BTreeSet, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use kube::{
    ResourceExt,
    runtime::reflector::{ObjectRef, Store},
};

use eds_api::ExtendedDaemonSetReplicaSet;
use eds_plan::PodDigest;

/// Writes not yet seen in the caches, per ExtendedDaemonSet key (`namespace/name`).
#[derive(Default)]
pub struct Expectations {
    inner: Mutex<BTreeMap<String, Pending>>,
}

/// Writes of one ExtendedDaemonSet not yet observed.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Pods created (by name) that the cache does not show yet.
    pub creates: BTreeSet<String>,
    /// Pods deleted (by uid) that the cache still shows without a deletion timestamp.
    pub deletes: BTreeSet<String>,
    /// ERS name -> resourceVersion written.
    pub ers_versions: BTreeMap<String, String>,
    /// resourceVersion of the ExtendedDaemonSet's last status write: the next plan starts
    /// from the status this one wrote (a failed canary's rejected revision above all).
    pub eds_version: Option<String>,
    /// When the writes were made.
    pub since: Option<Instant>,
}

impl Pending {
    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.creates.is_empty()
            && self.deletes.is_empty()
            && self.ers_versions.is_empty()
            && self.eds_version.is_none()
    }
}

/// What the caches currently show, as needed to check expectations.
pub trait CacheView {
    /// Whether a pod of that name exists in the cache.
    fn has_pod(&self, name: &str) -> bool;
    /// Whether a pod with that uid is still in the cache and not terminating.
    fn has_live_pod_uid(&self, uid: &str) -> bool;
    /// resourceVersion of the ERS in the cache.
    fn ers_version(&self, name: &str) -> Option<String>;
    /// resourceVersion of the ExtendedDaemonSet in the cache.
    fn eds_version(&self) -> Option<String>;
}

impl Expectations {
    /// Records the writes made for `key`.
    pub fn record(&self, key: &str, pending: Pending, now: Instant) {
        if pending.is_empty() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = inner.entry(key.to_string()).or_default();
        entry.creates.extend(pending.creates);
        entry.deletes.extend(pending.deletes);
        entry.ers_versions.extend(pending.ers_versions);
        if pending.eds_version.is_some() {
            entry.eds_version = pending.eds_version;
        }
        entry.since = Some(now);
    }

    /// Whether the cache has caught up for `key`, dropping the satisfied expectations.
    /// Expectations older than `timeout` are dropped too (a missed event must not block forever).
    pub fn satisfied(
        &self,
        key: &str,
        cache: &dyn CacheView,
        now: Instant,
        timeout: Duration,
    ) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = inner.get_mut(key) else {
            return true;
        };
        entry.creates.retain(|name| !cache.has_pod(name));
        entry.deletes.retain(|uid| cache.has_live_pod_uid(uid));
        entry
            .ers_versions
            .retain(|name, rv| match cache.ers_version(name) {
                Some(seen) => !version_reached(&seen, rv),
                None => true,
            });
        if let (Some(rv), Some(seen)) = (&entry.eds_version, cache.eds_version())
            && version_reached(&seen, rv)
        {
            entry.eds_version = None;
        }
        let expired = entry
            .since
            .is_some_and(|t| now.duration_since(t) >= timeout);
        if entry.is_empty() || expired {
            if expired && !entry.is_empty() {
                tracing::warn!(eds = key, pending = ?entry, "caches did not show our writes in time; planning anyway");
            }
            inner.remove(key);
            true
        } else {
            false
        }
    }

    /// Forgets `key` (the ExtendedDaemonSet was deleted).
    pub fn forget(&self, key: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// A hash set with a fast hasher: pod names and uids come from our own caches, not from
/// untrusted input, and SipHash showed in profiles at 5,000 pods.
type FastSet<T> = HashSet<T, foldhash::fast::FixedState>;

/// The caches of one ExtendedDaemonSet as [`CacheView`]. The names and live uids of its pods
/// are hashed once, on the first question: a rollout wave leaves hundreds of writes pending,
/// and looking each one up by scanning thousands of pods cost milliseconds on every
/// reconcile; most reconciles have nothing pending and ask nothing.
pub struct StoreView<'a> {
    pods: &'a [Arc<PodDigest>],
    names: OnceCell<FastSet<&'a str>>,
    live_uids: OnceCell<FastSet<&'a str>>,
    ers: &'a Store<ExtendedDaemonSetReplicaSet>,
    namespace: &'a str,
    eds_version: Option<String>,
}

impl<'a> StoreView<'a> {
    /// A view of `pods` (those of one ExtendedDaemonSet), of the ERS cache in `namespace`
    /// and of the ExtendedDaemonSet's cached resourceVersion `eds_version`.
    pub fn new(
        pods: &'a [Arc<PodDigest>],
        ers: &'a Store<ExtendedDaemonSetReplicaSet>,
        namespace: &'a str,
        eds_version: Option<String>,
    ) -> Self {
        Self {
            pods,
            names: OnceCell::new(),
            live_uids: OnceCell::new(),
            ers,
            namespace,
            eds_version,
        }
    }
}

impl CacheView for StoreView<'_> {
    fn has_pod(&self, name: &str) -> bool {
        self.names
            .get_or_init(|| {
                self.pods
                    .iter()
                    .map(|p| p.name())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .contains(name)
    }
    fn has_live_pod_uid(&self, uid: &str) -> bool {
        self.live_uids
            .get_or_init(|| {
                self.pods
                    .iter()
                    .filter(|p| p.deletion().is_none())
                    .filter_map(|p| p.pod().metadata.uid.as_deref())
                    .collect()
            })
            .contains(uid)
    }
    fn ers_version(&self, name: &str) -> Option<String> {
        let r = ObjectRef::new(name).within(self.namespace);
        self.ers.get(&r).and_then(|e| e.resource_version())
    }
    fn eds_version(&self) -> Option<String> {
        self.eds_version.clone()
    }
}

/// Whether a cache at resourceVersion `seen` includes a write that returned `written`.
/// resourceVersions are opaque, but every API server in use (etcd-backed, and our simulator)
/// issues increasing integers; fall back to equality otherwise.
fn version_reached(seen: &str, written: &str) -> bool {
    match (seen.parse::<u64>(), written.parse::<u64>()) {
        (Ok(s), Ok(w)) => s >= w,
        _ => seen == written,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        pods: Vec<&'static str>,
        live_uids: Vec<&'static str>,
        ers: Option<&'static str>,
        eds: Option<&'static str>,
    }

    impl CacheView for Fake {
        fn has_pod(&self, name: &str) -> bool {
            self.pods.contains(&name)
        }
        fn has_live_pod_uid(&self, uid: &str) -> bool {
            self.live_uids.contains(&uid)
        }
        fn ers_version(&self, _: &str) -> Option<String> {
            self.ers.map(String::from)
        }
        fn eds_version(&self) -> Option<String> {
            self.eds.map(String::from)
        }
    }

    fn pending() -> Pending {
        Pending {
            creates: ["p1".to_string()].into(),
            deletes: ["u1".to_string()].into(),
            ers_versions: [("foo-abc".to_string(), "10".to_string())].into(),
            eds_version: Some("12".to_string()),
            since: None,
        }
    }

    #[test]
    fn waits_until_cache_shows_every_write() {
        let e = Expectations::default();
        let t0 = Instant::now();
        let timeout = Duration::from_secs(30);
        e.record("ns/foo", pending(), t0);
        let stale = Fake {
            pods: vec![],
            live_uids: vec!["u1"],
            ers: Some("9"),
            eds: None,
        };
        assert!(!e.satisfied("ns/foo", &stale, t0, timeout));
        let partly = Fake {
            pods: vec!["p1"],
            live_uids: vec![],
            ers: Some("9"),
            eds: None,
        };
        assert!(!e.satisfied("ns/foo", &partly, t0, timeout));
        let status_stale = Fake {
            pods: vec!["p1"],
            live_uids: vec![],
            ers: Some("11"),
            eds: Some("11"),
        };
        assert!(!e.satisfied("ns/foo", &status_stale, t0, timeout));
        let fresh = Fake {
            pods: vec!["p1"],
            live_uids: vec![],
            ers: Some("11"),
            eds: Some("13"),
        };
        assert!(e.satisfied("ns/foo", &fresh, t0, timeout));
        assert!(e.satisfied("ns/other", &stale, t0, timeout));
    }

    #[test]
    fn store_view_shows_pod_names_and_live_uids() {
        let pod = |name: &str, uid: &str, deleting: bool| {
            let mut p = k8s_openapi::api::core::v1::Pod::default();
            p.metadata.name = Some(name.into());
            p.metadata.uid = Some(uid.into());
            if deleting {
                p.metadata.deletion_timestamp = Some(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
                );
            }
            Arc::new(PodDigest::new(Arc::new(p)))
        };
        let pods = vec![pod("a", "ua", false), pod("b", "ub", true)];
        let (ers, _writer) = kube::runtime::reflector::store();
        let view = StoreView::new(&pods, &ers, "ns", Some("7".into()));
        assert!(view.has_pod("a") && view.has_pod("b") && !view.has_pod("c"));
        assert!(view.has_live_pod_uid("ua"));
        assert!(
            !view.has_live_pod_uid("ub"),
            "a terminating pod is not live"
        );
        assert!(!view.has_live_pod_uid("uc"));
        assert_eq!(view.ers_version("foo-abc"), None);
        assert_eq!(view.eds_version().as_deref(), Some("7"));
    }

    #[test]
    fn gives_up_after_timeout() {
        let e = Expectations::default();
        let t0 = Instant::now();
        e.record("ns/foo", pending(), t0);
        let stale = Fake {
            pods: vec![],
            live_uids: vec!["u1"],
            ers: None,
            eds: None,
        };
        assert!(!e.satisfied(
            "ns/foo",
            &stale,
            t0 + Duration::from_secs(1),
            Duration::from_secs(5)
        ));
        assert!(e.satisfied(
            "ns/foo",
            &stale,
            t0 + Duration::from_secs(6),
            Duration::from_secs(5)
        ));
    }
}
