//! Per-object series (`eds_*`, `ers_*`), with upstream's names and labels, that disappear with
//! their object.
//!
//! Upstream (kube-state-metrics generators) adds labels that change over an object's life: the
//! canary `replicaset` and the `paused_reason`, the ERS `status`, the object's own Kubernetes
//! labels on `*_labels`. So each object remembers the label set of every series it published:
//! a new label set replaces the old series instead of leaving it behind, and a deleted object
//! (seen on the watch) takes all its series with it, so no alert fires forever on a gone object.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use prometheus_client::{
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};

/// A label set: `namespace`, `name`, then the family's own labels, in upstream's order.
pub type Labels = Vec<(String, String)>;

/// Label sets published, per object `(namespace, name)`, one slot per family.
type Published = HashMap<(String, String), Vec<Option<Labels>>>;

/// The families of one kind of object, and the label sets each object published.
#[derive(Clone)]
pub struct ObjectSeries {
    families: Vec<Family<Labels, Gauge>>,
    published: Arc<Mutex<Published>>,
}

/// One sample to publish: family index, extra labels (after namespace and name), value.
pub type Sample = (usize, Labels, i64);

impl ObjectSeries {
    /// Registers one family per `(name, help)` in `registry`.
    pub fn register(registry: &mut Registry, names: &[(&str, &str)]) -> Self {
        let families: Vec<Family<Labels, Gauge>> =
            names.iter().map(|_| Family::default()).collect();
        for ((name, help), family) in names.iter().zip(&families) {
            registry.register(*name, *help, family.clone());
        }
        Self {
            families,
            published: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes `samples` of object `namespace/name`; a family whose label set changed loses
    /// its old series.
    pub fn publish(&self, namespace: &str, name: &str, samples: Vec<Sample>) {
        let mut published = self.lock();
        let slots = published
            .entry((namespace.to_string(), name.to_string()))
            .or_insert_with(|| vec![None; self.families.len()]);
        for (index, extra, value) in samples {
            let mut labels: Labels = vec![
                ("namespace".into(), namespace.into()),
                ("name".into(), name.into()),
            ];
            labels.extend(extra);
            let family = &self.families[index];
            if let Some(old) = slots[index].take().filter(|old| *old != labels) {
                family.remove(&old);
            }
            family.get_or_create(&labels).set(value);
            slots[index] = Some(labels);
        }
    }

    /// Drops every series of object `namespace/name`.
    pub fn forget(&self, namespace: &str, name: &str) {
        let slots = self
            .lock()
            .remove(&(namespace.to_string(), name.to_string()));
        for (family, labels) in self.families.iter().zip(slots.into_iter().flatten()) {
            if let Some(labels) = labels {
                family.remove(&labels);
            }
        }
    }

    /// Drops the series of every object `keep` refuses (after a re-list, which reports no
    /// deletions).
    pub fn retain(&self, keep: impl Fn(&str, &str) -> bool) {
        let gone: Vec<(String, String)> = self
            .lock()
            .keys()
            .filter(|(ns, name)| !keep(ns, name))
            .cloned()
            .collect();
        for (ns, name) in gone {
            self.forget(&ns, &name);
        }
    }

    /// Objects with published series.
    pub fn objects(&self) -> usize {
        self.lock().len()
    }
}

/// Kubernetes labels as Prometheus labels, as upstream's `*_labels` series: keys with every
/// character outside `[a-zA-Z0-9_]` replaced by `_`, sorted.
pub fn k8s_labels(labels: Option<&std::collections::BTreeMap<String, String>>) -> Labels {
    let mut out: Labels = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let key = k
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (key, v.clone())
        })
        .collect();
    out.sort();
    // Two keys that sanitize alike (`a.b`, `a-b`) would make an invalid label set.
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
