//! The object store: objects by resource, namespace and name, a global resourceVersion,
//! a bounded history of changes for watches, and a broadcast of new changes.
//!
//! Objects are held as `Arc<serde_json::Value>`, so lists and watch events share them
//! instead of copying; a write replaces the `Arc`.
//!
//! Two indexes for the garbage collector are kept up to date by every write: the objects
//! referencing each owner uid, and the objects being deleted that wait for the collector.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    sync::{Arc, OnceLock},
};

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{
    delete::{FOREGROUND, ORPHAN},
    managed::{self, Entry, Parsed},
    meta,
    resources::{Registry, ResKey},
};

/// Key of an object within its resource: namespace (empty when cluster-scoped) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjKey {
    /// Builds a key.
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

/// Type of a change, as in watch events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    /// The object was created.
    Added,
    /// The object was changed.
    Modified,
    /// The object was removed.
    Deleted,
}

/// One change of one object.
#[derive(Debug)]
pub struct Change {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Resource of the object.
    pub res: ResKey,
    /// What happened.
    pub kind: ChangeType,
    /// The object after the change (the last state for a deletion).
    pub object: Arc<Value>,
    /// The object before the change, for watches that filter by labels or fields.
    pub old: Option<Arc<Value>>,
    /// `object` as JSON, serialized by the first watch that sends it and shared by the others.
    encoded: OnceLock<Bytes>,
}

impl Change {
    /// The object of the change as JSON, serialized once however many watches send it.
    pub fn encoded(&self) -> &Bytes {
        self.encoded.get_or_init(|| {
            let mut out = Vec::with_capacity(4096);
            // Serializing a Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &*self.object);
            Bytes::from(out)
        })
    }
}

/// A stored object, with its managedFields entries as the write that stored it computed them
/// (none when that write did not give them).
struct Slot {
    obj: Arc<Value>,
    managed: Option<Parsed>,
}

/// All objects and their change history.
pub struct Store {
    /// Resources known to the server.
    pub registry: Registry,
    rv: u64,
    objects: BTreeMap<ResKey, BTreeMap<ObjKey, Slot>>,
    uids: HashMap<String, (ResKey, ObjKey)>,
    /// For each owner uid, the objects whose ownerReferences name it, with the number of
    /// references to it (an object may repeat one).
    dependents: HashMap<String, BTreeMap<(ResKey, ObjKey), usize>>,
    /// Objects for which [`waits_for_gc`] holds.
    waiting: BTreeSet<(ResKey, ObjKey)>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Every change with a resourceVersion above this one is still in `history`.
    floor: u64,
    tx: broadcast::Sender<Arc<Change>>,
    /// Whether [`Store::put_parsed`] keeps the entries it is given (tests compare with a
    /// store that parses every write).
    #[cfg(test)]
    pub keep_parsed: bool,
}

impl Store {
    /// An empty store with the built-in resources, keeping `history_limit` changes.
    pub fn new(history_limit: usize) -> Self {
        let (tx, _) = broadcast::channel(16_384);
        Store {
            registry: Registry::builtin(),
            rv: 1,
            objects: BTreeMap::new(),
            uids: HashMap::new(),
            dependents: HashMap::new(),
            waiting: BTreeSet::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            floor: 1,
            tx,
            #[cfg(test)]
            keep_parsed: true,
        }
    }

    /// The managedFields entries of `obj`, the stored object of `res` with its name: as the
    /// write that stored it computed them, or read from it.
    pub fn managed(&self, res: &ResKey, obj: &Arc<Value>) -> Vec<Entry> {
        let slot = self
            .objects
            .get(res)
            .and_then(|m| m.get(&ObjKey::new(meta::namespace(obj), meta::name(obj))));
        match slot {
            Some(Slot {
                obj: stored,
                managed: Some(parsed),
            }) if Arc::ptr_eq(stored, obj) => parsed.to_vec(),
            _ => managed::read(obj),
        }
    }

    /// The latest resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The oldest resourceVersion a watch can start from.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// The object `name` in `namespace`.
    pub fn get(&self, res: &ResKey, namespace: &str, name: &str) -> Option<&Arc<Value>> {
        let slot = self.objects.get(res)?.get(&ObjKey::new(namespace, name))?;
        Some(&slot.obj)
    }

    /// The object with this uid and its resource.
    pub fn by_uid(&self, uid: &str) -> Option<(&ResKey, &Arc<Value>)> {
        let (res, key) = self.uids.get(uid)?;
        Some((res, &self.objects.get(res)?.get(key)?.obj))
    }

    /// Objects of `res`, in one namespace or all, sorted by namespace and name.
    pub fn iter<'a>(
        &'a self,
        res: &ResKey,
        namespace: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = (&'a ObjKey, &'a Arc<Value>)> + 'a> {
        let Some(map) = self.objects.get(res) else {
            return Box::new(std::iter::empty());
        };
        match namespace {
            None => Box::new(map.iter().map(|(k, s)| (k, &s.obj))),
            Some(ns) => Box::new(
                map.range(ObjKey::new(ns, "")..)
                    .take_while(move |(k, _)| k.namespace == ns)
                    .map(|(k, s)| (k, &s.obj)),
            ),
        }
    }

    /// Resources that have (or had) objects in the store, in order.
    pub fn resources(&self) -> impl Iterator<Item = &ResKey> {
        self.objects.keys()
    }

    /// Objects whose ownerReferences name `owner`, sorted by resource, namespace and name;
    /// an object is repeated as many times as it references `owner`.
    pub fn dependents(&self, owner: &str) -> impl Iterator<Item = (&ResKey, &Arc<Value>)> {
        self.dependents
            .get(owner)
            .into_iter()
            .flatten()
            .flat_map(move |((res, key), n)| {
                let obj = self
                    .objects
                    .get(res)
                    .and_then(|m| m.get(key))
                    .map(|s| &s.obj);
                obj.into_iter()
                    .flat_map(move |o| std::iter::repeat_n((res, o), *n))
            })
    }

    /// Objects being deleted that wait for the garbage collector ([`waits_for_gc`]), sorted
    /// by resource, namespace and name.
    pub fn waiting(&self) -> impl Iterator<Item = (&ResKey, &Arc<Value>)> {
        self.waiting
            .iter()
            .filter_map(|(res, key)| Some((res, &self.objects.get(res)?.get(key)?.obj)))
    }

    /// Whether some object waits for the garbage collector.
    pub fn any_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Panics unless the collector's indexes match the stored objects.
    #[cfg(test)]
    pub fn check_indexes(&self) {
        let mut dependents: HashMap<String, BTreeMap<(ResKey, ObjKey), usize>> = HashMap::new();
        let mut waiting = BTreeSet::new();
        for (res, map) in &self.objects {
            for (key, Slot { obj, .. }) in map {
                for uid in meta::owner_uids(obj) {
                    *dependents
                        .entry(uid)
                        .or_default()
                        .entry((res.clone(), key.clone()))
                        .or_default() += 1;
                }
                if waits_for_gc(res, obj) {
                    waiting.insert((res.clone(), key.clone()));
                }
            }
        }
        assert_eq!(dependents, self.dependents, "dependents index");
        assert_eq!(waiting, self.waiting, "waiting index");
    }

    /// Updates the collector's indexes for the object at `res`/`key` changing from `old` to
    /// `new` (`None`: absent).
    fn reindex(&mut self, res: &ResKey, key: &ObjKey, old: Option<&Value>, new: Option<&Value>) {
        let before = old.map(meta::owner_uids).unwrap_or_default();
        let after = new.map(meta::owner_uids).unwrap_or_default();
        if before != after {
            let entry = (res.clone(), key.clone());
            for uid in before {
                if let Some(deps) = self.dependents.get_mut(&uid) {
                    if let Some(n) = deps.get_mut(&entry) {
                        *n -= 1;
                        if *n == 0 {
                            deps.remove(&entry);
                        }
                    }
                    if deps.is_empty() {
                        self.dependents.remove(&uid);
                    }
                }
            }
            for uid in after {
                *self
                    .dependents
                    .entry(uid)
                    .or_default()
                    .entry(entry.clone())
                    .or_default() += 1;
            }
        }
        if new.is_some_and(|o| waits_for_gc(res, o)) {
            self.waiting.insert((res.clone(), key.clone()));
        } else if old.is_some_and(|o| waits_for_gc(res, o)) {
            self.waiting.remove(&(res.clone(), key.clone()));
        }
    }

    /// Stores `obj` with a new resourceVersion and records the change.
    pub fn put(&mut self, res: &ResKey, obj: Value) -> Arc<Value> {
        self.put_parsed(res, obj, None)
    }

    /// [`Store::put`], keeping `managed`, the managedFields entries [`managed::write`] wrote
    /// into `obj`, for [`Store::managed`].
    pub fn put_parsed(
        &mut self,
        res: &ResKey,
        mut obj: Value,
        managed: Option<Parsed>,
    ) -> Arc<Value> {
        #[cfg(test)]
        let managed = managed.filter(|_| self.keep_parsed);
        self.rv += 1;
        let rv = self.rv;
        meta::set_meta(&mut obj, "resourceVersion", Value::String(rv.to_string()));
        let key = ObjKey::new(meta::namespace(&obj), meta::name(&obj));
        let uid = meta::uid(&obj).to_string();
        let obj = Arc::new(obj);
        let old = self
            .objects
            .entry(res.clone())
            .or_default()
            .insert(
                key.clone(),
                Slot {
                    obj: obj.clone(),
                    managed,
                },
            )
            .map(|s| s.obj);
        if !uid.is_empty() {
            self.uids.insert(uid, (res.clone(), key.clone()));
        }
        self.reindex(res, &key, old.as_deref(), Some(&obj));
        let kind = if old.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.record(res, kind, obj.clone(), old);
        obj
    }

    /// Points the uid index at `obj` of `res` (objects mirrored in two resources share a uid).
    pub fn index_uid(&mut self, res: &ResKey, obj: &Value) {
        let key = ObjKey::new(meta::namespace(obj), meta::name(obj));
        self.uids
            .insert(meta::uid(obj).to_string(), (res.clone(), key));
    }

    /// Removes an object; `last` is its final state (recorded with a new resourceVersion).
    pub fn remove(&mut self, res: &ResKey, mut last: Value) -> Arc<Value> {
        self.rv += 1;
        let rv = self.rv;
        meta::set_meta(&mut last, "resourceVersion", Value::String(rv.to_string()));
        let key = ObjKey::new(meta::namespace(&last), meta::name(&last));
        let old = self
            .objects
            .get_mut(res)
            .and_then(|m| m.remove(&key))
            .map(|s| s.obj);
        self.reindex(res, &key, old.as_deref(), None);
        self.uids.remove(meta::uid(&last));
        let last = Arc::new(last);
        self.record(res, ChangeType::Deleted, last.clone(), old);
        last
    }

    /// Removes a whole resource and its objects without events (CRD deletion; the
    /// deletions of the objects are recorded by the caller first).
    pub fn drop_resource(&mut self, res: &ResKey) {
        if let Some(map) = self.objects.remove(res) {
            for (key, Slot { obj, .. }) in &map {
                self.uids.remove(meta::uid(obj));
                self.reindex(res, key, Some(obj), None);
            }
        }
        self.registry.remove(res);
    }

    fn record(
        &mut self,
        res: &ResKey,
        kind: ChangeType,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            res: res.clone(),
            kind,
            object,
            old,
            encoded: OnceLock::new(),
        });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.floor = dropped.rv;
            }
        }
        // No receivers is normal (no watch open).
        let _ = self.tx.send(change);
    }

    /// `obj` as JSON if it is the object of one of the last changes, serialized once for the
    /// answer to the write that made it and for every watch that sends it.
    pub fn encoded(&self, obj: &Arc<Value>) -> Option<Bytes> {
        // A write records its change last, or just before the change of its mirror.
        self.history
            .iter()
            .rev()
            .take(4)
            .find(|c| Arc::ptr_eq(&c.object, obj))
            .map(|c| c.encoded().clone())
    }

    /// Changes after `rv` still in the history, or `None` if some were already dropped.
    pub fn since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.floor {
            return None;
        }
        let start = self.history.partition_point(|c| c.rv <= rv);
        Some(self.history.range(start..).cloned().collect())
    }

    /// A receiver of every change made from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Forgets the history so every watch from an older resourceVersion gets 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.floor = self.rv;
    }
}

/// Whether `obj` is being deleted and needs the collector to finish (propagation finalizers,
/// terminating namespace).
pub fn waits_for_gc(res: &ResKey, obj: &Value) -> bool {
    meta::is_deleting(obj)
        && ((res.group.is_empty() && res.plural == "namespaces")
            || meta::finalizers(obj)
                .iter()
                .any(|f| f == FOREGROUND || f == ORPHAN))
}
