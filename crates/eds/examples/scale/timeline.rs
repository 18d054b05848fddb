//! The reaction chain of a rollout, node by node, as a watch of the pods sees it: when each old
//! pod was deleted, when its grace period ended and when it was gone, then when its
//! replacement was created, bound, given its first status by the kubelet and Ready, and how
//! long after a new pod turned Ready the next old pod was deleted. The watch has its own
//! delivery latency, which cancels out in the gaps between two events it saw.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, runtime::watcher};

/// What the watch saw of one pod (wall-clock times of the events).
#[derive(Clone, Default)]
struct Seen {
    node: Option<String>,
    /// Created while the timeline ran (not listed at its start).
    created: Option<Timestamp>,
    bound: Option<Timestamp>,
    /// First event with a status written by the kubelet (`hostIP` set).
    first_status: Option<Timestamp>,
    ready: Option<Timestamp>,
    deleted: Option<Timestamp>,
    /// The `deletionTimestamp` the API server set.
    deadline: Option<Timestamp>,
    gone: Option<Timestamp>,
}

/// A pod watch recording the timeline of every pod of one label selector.
pub struct Timeline {
    pods: Arc<Mutex<HashMap<String, Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Timeline {
    /// Starts watching the pods of `namespace` matching `selector`; returns once the watch has
    /// listed them.
    pub async fn start(client: &Client, namespace: &str, selector: &str) -> Self {
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let pods: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
        let (listed_tx, listed_rx) = tokio::sync::oneshot::channel();
        let record = pods.clone();
        let config = watcher::Config::default().labels(selector);
        let task = tokio::spawn(async move {
            let stream = watcher(api, config);
            futures::pin_mut!(stream);
            let mut listed = Some(listed_tx);
            while let Some(event) = stream.next().await {
                let now = Timestamp::now();
                let mut pods = record.lock().unwrap_or_else(|e| e.into_inner());
                match event {
                    Ok(watcher::Event::InitApply(pod)) => {
                        observe(pods.entry(uid(&pod)).or_default(), &pod, now);
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = listed.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(watcher::Event::Apply(pod)) => {
                        let seen = pods.entry(uid(&pod)).or_insert_with(|| Seen {
                            created: Some(now),
                            ..Seen::default()
                        });
                        observe(seen, &pod, now);
                    }
                    Ok(watcher::Event::Delete(pod)) => {
                        let seen = pods.entry(uid(&pod)).or_default();
                        observe(seen, &pod, now);
                        seen.gone.get_or_insert(now);
                    }
                    _ => {}
                }
            }
        });
        let _ = listed_rx.await;
        Timeline { pods, task }
    }

    /// Stops the watch and describes the hops of the chain.
    pub fn report(self) -> String {
        self.task.abort();
        let pods = self.pods.lock().unwrap_or_else(|e| e.into_inner()).clone();
        hops(&pods)
    }
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

fn observe(seen: &mut Seen, pod: &Pod, now: Timestamp) {
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        seen.node.get_or_insert(node);
        seen.bound.get_or_insert(now);
    }
    let status = pod.status.as_ref();
    if status.is_some_and(|s| s.host_ip.is_some()) {
        seen.first_status.get_or_insert(now);
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready {
        seen.ready.get_or_insert(now);
    }
    if let Some(deadline) = &pod.metadata.deletion_timestamp {
        seen.deleted.get_or_insert(now);
        seen.deadline.get_or_insert(deadline.0);
    }
}

/// `p50 / mean / p90` of `values` in milliseconds, with their count.
fn stats(values: &mut [f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    format!(
        "p50 {:6.0} / mean {mean:6.0} / p90 {:6.0} ms (n={})",
        at(0.5),
        at(0.9),
        values.len()
    )
}

fn ms(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64() * 1000.0
}

fn hops(pods: &HashMap<String, Seen>) -> String {
    let old: Vec<&Seen> = pods.values().filter(|p| p.deleted.is_some()).collect();
    let new: Vec<&Seen> = pods.values().filter(|p| p.created.is_some()).collect();
    let old_by_node: HashMap<&str, &Seen> = old
        .iter()
        .filter_map(|p| Some((p.node.as_deref()?, *p)))
        .collect();
    let mut grace = Vec::new();
    let mut removal = Vec::new();
    for p in &old {
        if let (Some(d), Some(deadline)) = (p.deleted, p.deadline) {
            grace.push(ms(d, deadline));
        }
        if let (Some(deadline), Some(gone)) = (p.deadline, p.gone) {
            removal.push(ms(deadline, gone));
        }
    }
    let (mut create, mut bind, mut admit, mut start, mut unavailable) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in &new {
        let before = p.node.as_deref().and_then(|n| old_by_node.get(n));
        if let (Some(gone), Some(created)) = (before.and_then(|o| o.gone), p.created) {
            create.push(ms(gone, created));
        }
        if let (Some(c), Some(b)) = (p.created, p.bound) {
            bind.push(ms(c, b));
        }
        if let (Some(b), Some(s)) = (p.bound, p.first_status) {
            admit.push(ms(b, s));
        }
        if let (Some(s), Some(r)) = (p.first_status, p.ready) {
            start.push(ms(s, r));
        }
        if let (Some(d), Some(r)) = (before.and_then(|o| o.deleted), p.ready) {
            unavailable.push(ms(d, r));
        }
    }
    // A delete after the first wave reacts to the latest Ready before it.
    let mut readies: Vec<Timestamp> = new.iter().filter_map(|p| p.ready).collect();
    readies.sort();
    let mut react = Vec::new();
    for p in &old {
        let Some(d) = p.deleted else { continue };
        let i = readies.partition_point(|r| *r <= d);
        if i > 0 {
            react.push(ms(readies[i - 1], d));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let chain = [&removal, &create, &bind, &admit, &react]
        .iter()
        .map(|v| mean(v))
        .sum::<f64>();
    let lines = [
        ("delete -> deletionTimestamp (grace)", &mut grace),
        ("deletionTimestamp -> old pod gone", &mut removal),
        ("old pod gone -> new pod created", &mut create),
        ("created -> bound", &mut bind),
        ("bound -> first kubelet status", &mut admit),
        ("first status -> Ready (start delay)", &mut start),
        ("Ready -> next delete", &mut react),
        ("node unavailable (delete -> Ready)", &mut unavailable),
    ];
    let mut out = String::from("  timeline (pod watch, per node):");
    for (what, values) in lines {
        out.push_str(&format!("\n    {what:38} {}", stats(values)));
    }
    out.push_str(&format!(
        "\n    reaction chain (mean of the hops besides grace and start): {chain:.0} ms a wave"
    ));
    out
}
