//! Garbage collection by ownerReferences, as the kube-controller-manager's collector does:
//!
//! - background: once every owner of an object is gone, the object is deleted;
//! - foreground: an owner with the `foregroundDeletion` finalizer has its dependents deleted
//!   and loses the finalizer when none is left;
//! - orphan: an owner with the `orphan` finalizer has its ownerReferences removed from its
//!   dependents, then loses the finalizer;
//! - a terminating namespace has its objects deleted, then is removed.
//!
//! Dependents are looked up for owners that were deleted, so an object created with an
//! ownerReference to an object that never existed is left alone.

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::{Value, json};

use super::{
    core::{Core, Sub, Target, WriteOpts},
    delete::{DeleteOptions, FOREGROUND, ORPHAN},
    meta,
    resources::ResKey,
    state::Shared,
    write::Ownership,
};

const MANAGER: &str = "garbage-collector";

/// Runs the collector until `stop` changes.
pub async fn run(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shared.gc.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => return,
        }
        // Bounded, so a cycle of owners cannot spin forever; the next wake-up goes on.
        for _ in 0..64 {
            if !shared.lock().collect() {
                break;
            }
        }
    }
}

enum Work {
    DeleteDependents(String),
    Orphan(ResKey, Arc<Value>),
    DropFinalizer(ResKey, Arc<Value>, &'static str),
    EmptyNamespace(String),
    RemoveNamespace(Arc<Value>),
    Delete(ResKey, Arc<Value>),
}

impl Core {
    fn target(&self, res: &ResKey, namespace: &str) -> Option<Target> {
        let info = self.store.registry.get(res)?.clone();
        Some(Target {
            version: info.versions.first()?.clone(),
            info,
            namespace: namespace.to_string(),
            sub: Sub::Main,
        })
    }

    /// One pass of the collector; returns whether it changed anything.
    pub fn collect(&mut self) -> bool {
        let deleted = std::mem::take(&mut self.deleted);
        // Most passes have nothing to do: skip the dependents index unless an owner went
        // away or waits for the collector.
        if deleted.is_empty() && !self.store.iter_all().any(|(r, _, o)| waits_for_gc(r, o)) {
            return false;
        }
        let mut dependents: HashMap<&str, Vec<(&ResKey, &Arc<Value>)>> = HashMap::new();
        let mut work = Vec::new();
        for (res, _, obj) in self.store.iter_all() {
            for uid in obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("uid")?.as_str())
            {
                dependents.entry(uid).or_default().push((res, obj));
            }
        }
        for (res, _, obj) in self
            .store
            .iter_all()
            .filter(|(_, _, o)| meta::is_deleting(o))
        {
            let uid = meta::uid(obj);
            let deps = dependents.get(uid).map(Vec::len).unwrap_or(0);
            let finalizers = meta::finalizers(obj);
            if finalizers.iter().any(|f| f == FOREGROUND) {
                if deps > 0 {
                    work.push(Work::DeleteDependents(uid.to_string()));
                } else {
                    work.push(Work::DropFinalizer(res.clone(), obj.clone(), FOREGROUND));
                }
            } else if finalizers.iter().any(|f| f == ORPHAN) {
                work.push(Work::Orphan(res.clone(), obj.clone()));
            }
            if res.group.is_empty() && res.plural == "namespaces" {
                let name = meta::name(obj);
                let empty = self
                    .store
                    .iter_all()
                    .all(|(r, k, _)| k.namespace != name || !is_namespaced(self, r));
                work.push(if empty {
                    Work::RemoveNamespace(obj.clone())
                } else {
                    Work::EmptyNamespace(name.to_string())
                });
            }
        }
        for uid in &deleted {
            for (res, dep) in dependents.get(uid.as_str()).into_iter().flatten() {
                let owners = meta::owner_uids(dep);
                if !meta::is_deleting(dep) && owners.iter().all(|o| self.store.by_uid(o).is_none())
                {
                    work.push(Work::Delete((*res).clone(), (*dep).clone()));
                }
            }
        }
        let dependents: HashMap<String, Vec<(ResKey, Arc<Value>)>> = dependents
            .into_iter()
            .map(|(k, v)| {
                let v = v.into_iter().map(|(r, o)| (r.clone(), o.clone())).collect();
                (k.to_string(), v)
            })
            .collect();
        let changed = !work.is_empty();
        for w in work {
            self.perform(w, &dependents);
        }
        changed
    }

    fn perform(&mut self, w: Work, dependents: &HashMap<String, Vec<(ResKey, Arc<Value>)>>) {
        let opts = WriteOpts {
            dry_run: false,
            manager: MANAGER.into(),
        };
        // Failures (an object changed or vanished meanwhile) are retried on the next pass.
        match w {
            Work::DeleteDependents(uid) => {
                for (res, dep) in dependents.get(&uid).into_iter().flatten() {
                    if !meta::is_deleting(dep) {
                        self.delete_object(res, dep);
                    }
                }
            }
            Work::Delete(res, obj) => self.delete_object(&res, &obj),
            Work::Orphan(res, owner) => {
                let uid = meta::uid(&owner).to_string();
                for (dres, dep) in dependents.get(&uid).into_iter().flatten() {
                    let Some(t) = self.target(dres, meta::namespace(dep)) else {
                        continue;
                    };
                    let Some(dep) = self.fresh(dres, dep) else {
                        continue;
                    };
                    let mut new = (*dep).clone();
                    if let Some(refs) = new
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(&uid));
                    }
                    let _ = self.commit(&t, &dep, new, Ownership::Update, &opts);
                }
                self.drop_finalizer(&res, &owner, ORPHAN, &opts);
            }
            Work::DropFinalizer(res, obj, f) => self.drop_finalizer(&res, &obj, f, &opts),
            Work::EmptyNamespace(ns) => {
                let victims: Vec<(ResKey, Arc<Value>)> = self
                    .store
                    .iter_all()
                    .filter(|(r, k, o)| {
                        k.namespace == ns && is_namespaced(self, r) && !meta::is_deleting(o)
                    })
                    .map(|(r, _, o)| (r.clone(), o.clone()))
                    .collect();
                for (res, obj) in victims {
                    self.delete_object(&res, &obj);
                }
            }
            Work::RemoveNamespace(ns) => {
                let key = ResKey::new("", "namespaces");
                self.remove(&key, (*ns).clone());
            }
        }
    }

    fn delete_object(&mut self, res: &ResKey, obj: &Value) {
        let Some(t) = self.target(res, meta::namespace(obj)) else {
            return;
        };
        let opts = DeleteOptions::default();
        let _ = self.delete(&t, meta::name(obj), &opts, false);
    }

    fn drop_finalizer(&mut self, res: &ResKey, obj: &Arc<Value>, f: &str, opts: &WriteOpts) {
        let Some(t) = self.target(res, meta::namespace(obj)) else {
            return;
        };
        let Some(obj) = self.fresh(res, obj) else {
            return;
        };
        let mut new = (*obj).clone();
        let left: Vec<String> = meta::finalizers(&obj)
            .into_iter()
            .filter(|x| x != f)
            .collect();
        meta::set_meta(&mut new, "finalizers", json!(left));
        let _ = self.commit(&t, &obj, new, Ownership::Update, opts);
    }

    /// The stored version of `obj`, which an earlier step of the pass may have changed.
    fn fresh(&self, res: &ResKey, obj: &Value) -> Option<Arc<Value>> {
        self.store
            .get(res, meta::namespace(obj), meta::name(obj))
            .filter(|o| meta::uid(o) == meta::uid(obj))
            .cloned()
    }
}

/// Whether `obj` is being deleted and needs the collector to finish (propagation finalizers,
/// terminating namespace).
fn waits_for_gc(res: &ResKey, obj: &Value) -> bool {
    meta::is_deleting(obj)
        && ((res.group.is_empty() && res.plural == "namespaces")
            || meta::finalizers(obj)
                .iter()
                .any(|f| f == FOREGROUND || f == ORPHAN))
}

fn is_namespaced(core: &Core, res: &ResKey) -> bool {
    core.store.registry.get(res).is_some_and(|i| i.namespaced)
}
