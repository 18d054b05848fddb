//! The work queue of the kubelet loop: pods marked by watch events, and pods whose status
//! changes by itself at a known time (timers). Each pod is in a batch at most once.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
    time::Duration,
};

use jiff::Timestamp;
use tokio::sync::Notify;

/// A pod's namespace and name.
pub(crate) type Key = (String, String);

/// Longest sleep without a timer: the loop re-checks its timers at least this often.
const IDLE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Inner {
    dirty: BTreeSet<Key>,
    timers: BTreeSet<(Timestamp, Key)>,
    due: BTreeMap<Key, Timestamp>,
}

/// Pods to process, now or later.
#[derive(Default)]
pub(crate) struct Queue {
    inner: Mutex<Inner>,
    notify: Notify,
}

impl Queue {
    /// Processes `key` as soon as possible.
    pub(crate) fn mark(&self, key: Key) {
        self.lock().dirty.insert(key);
        self.notify.notify_one();
    }

    /// Processes `key` at `at` (an earlier timer of the same pod wins).
    pub(crate) fn wake_at(&self, key: Key, at: Timestamp) {
        let mut inner = self.lock();
        match inner.due.get(&key) {
            Some(existing) if *existing <= at => return,
            Some(existing) => {
                let existing = *existing;
                inner.timers.remove(&(existing, key.clone()));
            }
            None => {}
        }
        inner.due.insert(key.clone(), at);
        inner.timers.insert((at, key));
        drop(inner);
        self.notify.notify_one();
    }

    /// Waits for work and returns every pod due now.
    pub(crate) async fn next_batch(&self) -> Vec<Key> {
        loop {
            let sleep = {
                let mut inner = self.lock();
                let now = Timestamp::now();
                while let Some(first) = inner.timers.first().cloned() {
                    if first.0 > now {
                        break;
                    }
                    inner.timers.remove(&first);
                    inner.due.remove(&first.1);
                    inner.dirty.insert(first.1);
                }
                if !inner.dirty.is_empty() {
                    return std::mem::take(&mut inner.dirty).into_iter().collect();
                }
                inner.timers.first().map_or(IDLE, |(at, _)| {
                    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
                })
            };
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(sleep.min(IDLE)) => {}
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the sets inconsistent: keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        ("ns".into(), name.into())
    }

    #[tokio::test]
    async fn marked_and_due_pods_come_out_once() {
        let q = Queue::default();
        q.mark(key("a"));
        q.mark(key("a"));
        q.wake_at(key("b"), Timestamp::UNIX_EPOCH);
        q.wake_at(key("c"), Timestamp::MAX);
        assert_eq!(q.next_batch().await, vec![key("a"), key("b")]);
        let inner = q.lock();
        assert!(inner.dirty.is_empty());
        assert_eq!(inner.timers.len(), 1, "c is still waiting");
    }

    #[test]
    fn earlier_timer_wins() {
        let q = Queue::default();
        let t1 = Timestamp::from_second(10).unwrap();
        let t2 = Timestamp::from_second(20).unwrap();
        q.wake_at(key("a"), t2);
        q.wake_at(key("a"), t1);
        q.wake_at(key("a"), t2);
        let inner = q.lock();
        assert_eq!(inner.timers.iter().collect::<Vec<_>>(), [&(t1, key("a"))]);
    }
}
