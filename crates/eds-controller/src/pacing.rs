//! Status progress written at a steady pace, and reconciles spaced a little.
//!
//! The controller reconciles an ExtendedDaemonSet as soon as one of its pods changes (no
//! debounce: a pod that turned Ready frees budget for the next delete at once). During a
//! rollout of thousands of nodes the node counts of the statuses then change at nearly every
//! reconcile. A status change that is only progress ([`eds_plan::progress`]) is written at most
//! once per interval for each object; any other change is written at once, and a deferred one
//! is written by the reconcile the executor asks for when the interval ends, so the last counts
//! are never lost.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use tokio::time::Instant;

/// Shortest time between two status writes of one object that change only progress.
pub const STATUS_PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Shortest time between the starts of two reconciles of one ExtendedDaemonSet. A reconcile
/// queued sooner waits for the rest (the changes that arrive meanwhile are folded into it), so
/// an ExtendedDaemonSet whose pods change without pause is planned at most 20 times a second
/// instead of back to back, and the planner's CPU stays a fraction of a core.
pub const RECONCILE_SPACING: Duration = Duration::from_millis(50);

/// When something was last done for each object, by key (for statuses `kind/namespace/name`,
/// [`object_key`]), and how long to wait before the next time.
#[derive(Debug)]
pub struct Pacing {
    interval: Duration,
    last: Mutex<HashMap<String, Instant>>,
}

impl Pacing {
    /// Pacing with `interval` between two progress-only writes of an object.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::default(),
        }
    }

    /// How long `object` must still wait at `now` (for statuses: a progress-only write);
    /// `None` when it may go.
    pub fn wait(&self, object: &str, now: Instant) -> Option<Duration> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = *last.get(object)? + self.interval;
        (due > now).then(|| due - now)
    }

    /// Records that it was done for `object` at `now` (for statuses: written).
    pub fn mark(&self, object: &str, now: Instant) {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(object.to_string(), now);
    }

    /// Forgets the objects of an ExtendedDaemonSet that is gone: keys `*/namespace/name`
    /// and those of its replica sets, `*/namespace/name-*`.
    pub fn forget(&self, namespace: &str, eds: &str) {
        let exact = format!("{namespace}/{eds}");
        let children = format!("{namespace}/{eds}-");
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|key, _| {
                let object = key.split_once('/').map_or(key.as_str(), |(_, o)| o);
                object != exact && !object.starts_with(&children)
            });
    }

    /// Number of objects remembered.
    pub fn len(&self) -> usize {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no object is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The pacing key of object `name` of `kind` in `namespace`.
pub fn object_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_holds_the_next_progress_for_one_interval() {
        let pacing = Pacing::new(Duration::from_secs(1));
        let t0 = Instant::now();
        let key = object_key("ExtendedDaemonSet", "ns", "foo");
        assert_eq!(pacing.wait(&key, t0), None, "never written: write now");
        pacing.mark(&key, t0);
        assert_eq!(
            pacing.wait(&key, t0 + Duration::from_millis(300)),
            Some(Duration::from_millis(700))
        );
        assert_eq!(pacing.wait(&key, t0 + Duration::from_secs(1)), None);
        let other = object_key("ExtendedDaemonSet", "ns", "bar");
        assert_eq!(pacing.wait(&other, t0), None, "objects are paced apart");
    }

    #[test]
    fn forgetting_an_eds_forgets_its_replica_sets_only() {
        let pacing = Pacing::new(STATUS_PROGRESS_INTERVAL);
        let now = Instant::now();
        for (kind, ns, name) in [
            ("ExtendedDaemonSet", "ns", "foo"),
            ("ExtendedDaemonSetReplicaSet", "ns", "foo-abc12"),
            ("ExtendedDaemonSet", "ns", "foobar"),
            ("ExtendedDaemonSet", "other", "foo"),
        ] {
            pacing.mark(&object_key(kind, ns, name), now);
        }
        pacing.forget("ns", "foo");
        assert_eq!(pacing.len(), 2);
        assert!(
            pacing
                .wait(&object_key("ExtendedDaemonSet", "ns", "foobar"), now)
                .is_some()
        );
        assert!(
            pacing
                .wait(&object_key("ExtendedDaemonSet", "other", "foo"), now)
                .is_some()
        );
    }
}
