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
    ///
    /// Works from the uids removed since the last pass and the objects waiting for the
    /// collector, with the store's dependents index, so its cost does not grow with the
    /// number of stored objects.
    pub fn collect(&mut self) -> bool {
        let deleted = std::mem::take(&mut self.deleted);
        if deleted.is_empty() && !self.store.any_waiting() {
            return false;
        }
        // Dependents as they are at the start of the pass, for the owners this pass looks at.
        let mut dependents: HashMap<String, Vec<(ResKey, Arc<Value>)>> = HashMap::new();
        let mut snapshot = |store: &super::store::Store, uid: &str| {
            if !dependents.contains_key(uid) {
                let deps: Vec<(ResKey, Arc<Value>)> = store
                    .dependents(uid)
                    .map(|(r, o)| (r.clone(), o.clone()))
                    .collect();
                dependents.insert(uid.to_string(), deps);
            }
        };
        let waiting: Vec<(ResKey, Arc<Value>)> = self
            .store
            .waiting()
            .map(|(r, o)| (r.clone(), o.clone()))
            .collect();
        for (_, obj) in &waiting {
            snapshot(&self.store, meta::uid(obj));
        }
        for uid in &deleted {
            snapshot(&self.store, uid);
        }
        let mut work = Vec::new();
        for (res, obj) in waiting {
            let uid = meta::uid(&obj);
            let deps = dependents.get(uid).map(Vec::len).unwrap_or(0);
            let finalizers = meta::finalizers(&obj);
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
                let name = meta::name(&obj);
                let empty = self.namespaced_objects(name).next().is_none();
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
                    work.push(Work::Delete(res.clone(), dep.clone()));
                }
            }
        }
        let changed = !work.is_empty();
        for w in work {
            self.perform(w, &dependents);
        }
        changed
    }

    /// Objects of namespaced resources in namespace `ns`, sorted by resource and name.
    fn namespaced_objects<'a>(
        &'a self,
        ns: &'a str,
    ) -> impl Iterator<Item = (&'a ResKey, &'a Arc<Value>)> + 'a {
        self.store
            .resources()
            .filter(move |r| is_namespaced(self, r))
            .flat_map(move |r| self.store.iter(r, Some(ns)).map(move |(_, o)| (r, o)))
    }

    fn perform(&mut self, w: Work, dependents: &HashMap<String, Vec<(ResKey, Arc<Value>)>>) {
        let opts = WriteOpts {
            dry_run: false,
            manager: MANAGER.into(),
            fields: Default::default(),
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
                    .namespaced_objects(&ns)
                    .filter(|(_, o)| !meta::is_deleting(o))
                    .map(|(r, o)| (r.clone(), o.clone()))
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

fn is_namespaced(core: &Core, res: &ResKey) -> bool {
    core.store.registry.get(res).is_some_and(|i| i.namespaced)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NS: &str = "ns";

    fn opts() -> WriteOpts {
        WriteOpts {
            dry_run: false,
            manager: "test".into(),
            fields: Default::default(),
        }
    }

    fn core() -> Core {
        let mut core = Core::new(100, 7);
        let t = core.target(&ResKey::new("", "namespaces"), "").unwrap();
        core.create(
            &t,
            json!({ "metadata": { "name": NS } }),
            Ownership::Update,
            &opts(),
        )
        .unwrap();
        core
    }

    fn cms(core: &Core) -> Target {
        core.target(&ResKey::new("", "configmaps"), NS).unwrap()
    }

    /// Creates a ConfigMap owned by the objects with uids `owners`; returns its uid.
    fn cm(core: &mut Core, name: &str, owners: &[&str]) -> String {
        let refs: Vec<Value> = owners
            .iter()
            .map(|u| json!({ "apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": u }))
            .collect();
        let t = cms(core);
        let obj = json!({ "metadata": { "name": name, "ownerReferences": refs } });
        let stored = core.create(&t, obj, Ownership::Update, &opts()).unwrap();
        meta::uid(&stored).to_string()
    }

    fn set_owners(core: &mut Core, name: &str, owners: &[&str]) {
        let t = cms(core);
        let old = core.store.get(&t.info.key(), NS, name).unwrap().clone();
        let mut new = (*old).clone();
        let refs: Vec<Value> = owners
            .iter()
            .map(|u| json!({ "apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": u }))
            .collect();
        meta::set_meta(&mut new, "ownerReferences", json!(refs));
        core.commit(&t, &old, new, Ownership::Update, &opts())
            .unwrap();
    }

    fn delete(core: &mut Core, name: &str, policy: &str) {
        let t = cms(core);
        let opts = DeleteOptions {
            propagation_policy: Some(policy.into()),
            ..Default::default()
        };
        core.delete(&t, name, &opts, false).ok().unwrap();
    }

    fn settle(core: &mut Core) {
        for _ in 0..64 {
            core.store.check_indexes();
            if !core.collect() {
                core.store.check_indexes();
                return;
            }
        }
        panic!("the collector does not settle");
    }

    fn exists(core: &Core, name: &str) -> bool {
        core.store
            .get(&ResKey::new("", "configmaps"), NS, name)
            .is_some()
    }

    fn owner_uids(core: &Core, name: &str) -> Vec<String> {
        meta::owner_uids(
            core.store
                .get(&ResKey::new("", "configmaps"), NS, name)
                .unwrap(),
        )
    }

    #[test]
    fn background_deletes_dependents_once_every_owner_is_gone() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        let b = cm(&mut core, "b", &[]);
        let child = cm(&mut core, "child", &[&a, &b]);
        cm(&mut core, "grandchild", &[&child]);
        delete(&mut core, "a", "Background");
        settle(&mut core);
        assert!(exists(&core, "child"), "b still owns it");
        delete(&mut core, "b", "Background");
        settle(&mut core);
        assert!(!exists(&core, "child"));
        assert!(!exists(&core, "grandchild"));
        assert!(!core.store.any_waiting());
    }

    #[test]
    fn a_dependent_created_after_its_owner_went_is_collected_by_the_next_pass() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        delete(&mut core, "a", "Background");
        cm(&mut core, "late", &[&a]);
        settle(&mut core);
        assert!(!exists(&core, "late"));
        // Once the owner's removal was processed, a new reference to it is left alone.
        cm(&mut core, "later", &[&a]);
        settle(&mut core);
        assert!(exists(&core, "later"));
    }

    #[test]
    fn an_update_moves_a_dependent_to_its_new_owner() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        let b = cm(&mut core, "b", &[]);
        cm(&mut core, "child", &[&a]);
        set_owners(&mut core, "child", &[&b]);
        delete(&mut core, "a", "Background");
        settle(&mut core);
        assert!(exists(&core, "child"), "no longer a dependent of a");
        delete(&mut core, "b", "Background");
        settle(&mut core);
        assert!(!exists(&core, "child"));
    }

    #[test]
    fn a_removed_owner_reference_is_forgotten() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        cm(&mut core, "child", &[&a]);
        set_owners(&mut core, "child", &[]);
        delete(&mut core, "a", "Background");
        settle(&mut core);
        assert!(exists(&core, "child"));
        assert_eq!(core.store.dependents(&a).count(), 0);
    }

    #[test]
    fn a_repeated_owner_reference_is_counted() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        cm(&mut core, "twice", &[&a, &a]);
        assert_eq!(core.store.dependents(&a).count(), 2);
        set_owners(&mut core, "twice", &[&a]);
        assert_eq!(core.store.dependents(&a).count(), 1);
        core.store.check_indexes();
        delete(&mut core, "a", "Background");
        settle(&mut core);
        assert!(!exists(&core, "twice"));
    }

    #[test]
    fn foreground_deletes_dependents_first() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        cm(&mut core, "child", &[&a]);
        delete(&mut core, "a", "Foreground");
        assert!(core.store.any_waiting());
        assert!(core.collect());
        assert!(!exists(&core, "child"));
        assert!(exists(&core, "a"), "the owner waits for its dependents");
        settle(&mut core);
        assert!(!exists(&core, "a"));
        assert!(!core.store.any_waiting());
    }

    #[test]
    fn orphan_removes_owner_references() {
        let mut core = core();
        let a = cm(&mut core, "a", &[]);
        let b = cm(&mut core, "b", &[]);
        cm(&mut core, "child", &[&a, &b]);
        delete(&mut core, "a", "Orphan");
        settle(&mut core);
        assert!(!exists(&core, "a"));
        assert_eq!(owner_uids(&core, "child"), vec![b.clone()]);
        assert_eq!(core.store.dependents(&a).count(), 0);
        assert_eq!(core.store.dependents(&b).count(), 1);
        assert!(!core.store.any_waiting());
    }

    #[test]
    fn a_terminating_namespace_is_emptied_then_removed() {
        let mut core = core();
        cm(&mut core, "a", &[]);
        cm(&mut core, "b", &[]);
        let t = core.target(&ResKey::new("", "namespaces"), "").unwrap();
        core.delete(&t, NS, &DeleteOptions::default(), false)
            .ok()
            .unwrap();
        assert!(core.store.any_waiting());
        settle(&mut core);
        assert!(!exists(&core, "a") && !exists(&core, "b"));
        let ns = ResKey::new("", "namespaces");
        assert!(core.store.get(&ns, "", NS).is_none());
        assert!(!core.store.any_waiting());
    }
}
