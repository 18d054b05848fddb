//! Invariant checker: watches every pod and ExtendedDaemonSet of the test namespace for the
//! whole test, and afterwards replays what it saw to check the two promises of a rollout:
//!
//! 1. One pod per node: never two live (non-terminating) pods of one ExtendedDaemonSet on a
//!    node, except on at most `maxSurge` nodes; and terminating pods count too: no pod of the
//!    ExtendedDaemonSet lands on a node (created bound, or bound) while another of its pods
//!    there is terminating (a daemon binding host ports or files would crash-loop meanwhile).
//! 2. maxUnavailable: at any moment, the nodes whose available pod was taken away by a
//!    deletion (not by a crash) and not yet replaced by an available one are at most
//!    `maxUnavailable`. Canary nodes are exempt (upstream replaces old pods on canary nodes at
//!    once, and so do we), and so are deletions the test made itself ([`Invariants::exempt_pod`],
//!    [`Invariants::exempt_node`]: an eviction, a node removed).
//! 3. Canary size: never more live canary pods of one revision than the canary's `replicas`.
//! 4. A failed canary stays failed: once the status names a rejected revision, no new pod of
//!    that revision appears (until the template changes, which makes another revision the
//!    target). Pods and statuses come through two watches, so "after" is judged by
//!    resourceVersion (one counter for every object, as etcd's revision), not by arrival.
//!
//! Replaying after the fact (instead of checking on each event) lets the checker look ahead:
//! whether a node lost its pod for a canary is only known when the next pod lands there.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use eds_api::{ExtendedDaemonSet, ValidationMode, constants::keys, defaults::scaled_value};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client, ResourceExt,
    runtime::{WatchStreamExt, watcher},
};
use tokio::task::JoinHandle;

use super::harness::{is_canary, is_ready};

#[derive(Clone, Debug)]
enum Record {
    Pod {
        uid: String,
        state: Option<PodState>,
    },
    Eds {
        name: String,
        limits: Option<Limits>,
    },
    /// A deletion of this pod is the test's doing, not the controller's.
    ExemptPod { uid: String },
    /// Deletions of pods on this node are the test's doing from now on (node removed).
    ExemptNode { node: String },
}

#[derive(Clone, Debug, PartialEq)]
struct PodState {
    name: String,
    eds: String,
    node: String,
    ready: bool,
    live: bool,
    canary: bool,
    ers: String,
    /// resourceVersion of the pod when it was seen.
    rv: u64,
}

#[derive(Clone, Debug)]
struct Limits {
    max_unavailable: usize,
    max_surge: usize,
    /// Canary `replicas` scaled on the desired count; `None` without a canary.
    canary: Option<usize>,
    /// Canary nodes of the canary in progress (`status.canary.nodes`).
    canary_nodes: Vec<String>,
    /// The rejected revision (`status.rejectedRevision.replicaSet`) and the resourceVersion
    /// of the ExtendedDaemonSet that showed it.
    rejected: Option<(String, u64)>,
}

/// A running checker.
pub struct Invariants {
    log: Arc<Mutex<Vec<Record>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Invariants {
    /// Starts watching the namespace.
    pub async fn start(client: Client, namespace: &str) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let eds: Api<ExtendedDaemonSet> = Api::namespaced(client, namespace);
        let pod_log = log.clone();
        let pod_task = tokio::spawn(async move {
            let stream = watcher(
                pods,
                watcher::Config::default().labels(keys::EDS_NAME_LABEL),
            )
            .default_backoff();
            futures::pin_mut!(stream);
            // A relist (after a watch expired) reports the pods that exist, not those deleted
            // meanwhile: those are the pods known before it and not listed again. They are
            // recorded gone before the relisted states, as they went before them.
            let mut known: BTreeSet<String> = BTreeSet::new();
            let mut relist: Vec<Record> = Vec::new();
            while let Some(event) = stream.next().await {
                let records: Vec<Record> = match event {
                    Ok(watcher::Event::Apply(p)) => {
                        let uid = p.uid().unwrap_or_default();
                        known.insert(uid.clone());
                        vec![Record::Pod {
                            uid,
                            state: Some(pod_state(&p)),
                        }]
                    }
                    Ok(watcher::Event::Delete(p)) => {
                        let uid = p.uid().unwrap_or_default();
                        known.remove(&uid);
                        vec![Record::Pod { uid, state: None }]
                    }
                    Ok(watcher::Event::Init) => {
                        relist.clear();
                        continue;
                    }
                    Ok(watcher::Event::InitApply(p)) => {
                        relist.push(Record::Pod {
                            uid: p.uid().unwrap_or_default(),
                            state: Some(pod_state(&p)),
                        });
                        continue;
                    }
                    Ok(watcher::Event::InitDone) => {
                        let listed: BTreeSet<String> = relist
                            .iter()
                            .filter_map(|r| match r {
                                Record::Pod { uid, .. } => Some(uid.clone()),
                                _ => None,
                            })
                            .collect();
                        let gone = known.difference(&listed).cloned();
                        let mut records: Vec<Record> =
                            gone.map(|uid| Record::Pod { uid, state: None }).collect();
                        records.append(&mut relist);
                        known = listed;
                        records
                    }
                    Err(_) => continue,
                };
                pod_log.lock().unwrap().extend(records);
            }
        });
        let eds_log = log.clone();
        let eds_task = tokio::spawn(async move {
            let stream = watcher(eds, watcher::Config::default()).default_backoff();
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                let record = match event {
                    Ok(watcher::Event::Apply(e)) | Ok(watcher::Event::InitApply(e)) => {
                        // A deleted EDS takes its pods with it: nothing left to check.
                        let live = e.metadata.deletion_timestamp.is_none();
                        Record::Eds {
                            name: e.name_any(),
                            limits: live.then(|| limits(&e)),
                        }
                    }
                    Ok(watcher::Event::Delete(e)) => Record::Eds {
                        name: e.name_any(),
                        limits: None,
                    },
                    _ => continue,
                };
                eds_log.lock().unwrap().push(record);
            }
        });
        Invariants {
            log,
            tasks: vec![pod_task, eds_task],
        }
    }

    /// Stops checking `eds` from now on (the test deletes it on purpose, pods and all).
    pub fn forget(&self, eds: &str) {
        self.log.lock().unwrap().push(Record::Eds {
            name: eds.to_string(),
            limits: None,
        });
    }

    /// The test deletes this pod itself (an eviction): its deletion does not count against the
    /// budget.
    pub fn exempt_pod(&self, uid: &str) {
        self.log
            .lock()
            .unwrap()
            .push(Record::ExemptPod { uid: uid.into() });
    }

    /// The test removes this node or takes it out of the rollout (a taint): from now on, the
    /// deletion of its pods does not count against the budget.
    pub fn exempt_node(&self, node: &str) {
        self.log.lock().unwrap().push(Record::ExemptNode {
            node: node.to_string(),
        });
    }

    /// Stops watching and returns every violation found.
    pub async fn stop(&mut self) -> Vec<String> {
        // Let the last events arrive.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        for task in self.tasks.drain(..) {
            task.abort();
        }
        let log = self.log.lock().unwrap().clone();
        let (violations, notes) = replay_with_notes(&log);
        if let Ok(path) = std::env::var("EDS_INVARIANTS_LOG") {
            dump(&log, &violations, &notes, &path);
        }
        violations
    }
}

/// Appends the numbered records of `log` (the checker's events) to the file `path`
/// (`EDS_INVARIANTS_LOG`): what a broken invariant's message points at by event number.
fn dump(log: &[Record], violations: &[String], notes: &[String], path: &str) {
    use std::io::Write;
    let mut text = format!(
        "== {} records; broken: {violations:?}; {} events with more nodes down than a budget \
         that shrank after their deletion, first {:?}\n",
        log.len(),
        notes.len(),
        &notes[..notes.len().min(3)]
    );
    for (i, record) in log.iter().enumerate() {
        text.push_str(&format!("{i} {record:?}\n"));
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("EDS_INVARIANTS_LOG: cannot write {path}: {e}");
    }
}

fn pod_state(pod: &Pod) -> PodState {
    PodState {
        name: pod.name_any(),
        eds: pod
            .labels()
            .get(keys::EDS_NAME_LABEL)
            .cloned()
            .unwrap_or_default(),
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        ready: is_ready(pod),
        live: pod.metadata.deletion_timestamp.is_none(),
        canary: is_canary(pod),
        ers: pod
            .labels()
            .get(keys::ERS_NAME_LABEL)
            .cloned()
            .unwrap_or_default(),
        rv: version(pod.resource_version()),
    }
}

/// A resourceVersion as a number (0 when it is not one).
fn version(rv: Option<String>) -> u64 {
    rv.and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn limits(eds: &ExtendedDaemonSet) -> Limits {
    let resolved = eds.spec.resolve(ValidationMode::Auto);
    let desired = eds.status.as_ref().map_or(0, |s| s.desired);
    Limits {
        max_unavailable: scaled_value(&resolved.max_unavailable, desired, true)
            .unwrap_or(1)
            .max(0) as usize,
        max_surge: scaled_value(&resolved.max_surge, desired, true)
            .unwrap_or(0)
            .max(0) as usize,
        canary: resolved
            .canary
            .map(|c| scaled_value(&c.replicas, desired, true).unwrap_or(1).max(0) as usize),
        canary_nodes: eds
            .status
            .as_ref()
            .and_then(|s| s.canary.as_ref())
            .map(|c| c.nodes.clone())
            .unwrap_or_default(),
        rejected: eds
            .status
            .as_ref()
            .and_then(|s| s.rejected_revision.as_ref())
            .map(|r| (r.replica_set.clone(), version(eds.resource_version()))),
    }
}

fn replay(log: &[Record]) -> Vec<String> {
    replay_with_notes(log).0
}

/// The violations of `log`, and the moments more nodes were down than a budget that shrank
/// after their deletions (not violations; shown by [`dump`]).
fn replay_with_notes(log: &[Record]) -> (Vec<String>, Vec<String>) {
    let mut violations = Vec::new();
    let mut notes = Vec::new();
    let mut pods: BTreeMap<String, PodState> = BTreeMap::new();
    let mut eds_limits: BTreeMap<String, Limits> = BTreeMap::new();
    // (eds, node) -> whether the node had an available pod after the previous event.
    let mut available: BTreeMap<(String, String), bool> = BTreeMap::new();
    // (eds, node) -> index of the event at which a deletion took its available pod away.
    let mut lost: BTreeMap<(String, String), (usize, bool)> = BTreeMap::new();
    let mut exempt_pods: BTreeSet<&str> = BTreeSet::new();
    let mut exempt_nodes: BTreeSet<&str> = BTreeSet::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let next_budget = next_budgets(log);
    for (i, record) in log.iter().enumerate() {
        let mut deleted_ready: BTreeSet<(String, String)> = BTreeSet::new();
        match record {
            Record::ExemptPod { uid } => {
                exempt_pods.insert(uid);
                continue;
            }
            Record::ExemptNode { node } => {
                exempt_nodes.insert(node);
                lost.retain(|(_, n), _| n != node);
                continue;
            }
            Record::Eds {
                name,
                limits: Some(l),
            } => {
                eds_limits.insert(name.clone(), l.clone());
                continue;
            }
            Record::Eds { name, limits: None } => {
                eds_limits.remove(name);
                continue;
            }
            Record::Pod { uid, state } => {
                let before = pods.get(uid).cloned();
                if let Some(s) = state
                    && seen.insert(uid)
                    && let Some((ers, at)) =
                        eds_limits.get(&s.eds).and_then(|l| l.rejected.as_ref())
                    && *ers == s.ers
                    && s.rv > *at
                {
                    violations.push(format!(
                        "event {i}: EDS {} created pod {} of {ers} after its canary failed \
                         (rejectedRevision {ers} since resourceVersion {at})",
                        s.eds, s.name
                    ));
                }
                if let Some(s) = state
                    && !s.node.is_empty()
                    && before.as_ref().is_none_or(|b| b.node.is_empty())
                    && let Some(t) = pods.iter().find(|(other, p)| {
                        *other != uid && p.eds == s.eds && p.node == s.node && !p.live
                    })
                {
                    violations.push(format!(
                        "event {i}: EDS {} put pod {} on {} while its pod {} there was terminating",
                        s.eds, s.name, s.node, t.1.name
                    ));
                }
                match state {
                    Some(s) => {
                        pods.insert(uid.clone(), s.clone());
                    }
                    None => {
                        pods.remove(uid);
                    }
                }
                if let Some(b) = before
                    && b.live
                    && b.ready
                    && state.as_ref().is_none_or(|s| !s.live)
                    && !exempt_pods.contains(uid.as_str())
                    && !exempt_nodes.contains(b.node.as_str())
                {
                    deleted_ready.insert((b.eds.clone(), b.node.clone()));
                    if b.canary {
                        // A canary pod taken away (failed canary): its node is a canary node.
                        lost.insert((b.eds.clone(), b.node.clone()), (i, true));
                    }
                }
            }
        }
        for (eds, limits) in &eds_limits {
            let mut live_by_node: BTreeMap<&str, Vec<&PodState>> = BTreeMap::new();
            for p in pods
                .values()
                .filter(|p| &p.eds == eds && p.live && !p.node.is_empty())
            {
                live_by_node.entry(&p.node).or_default().push(p);
            }
            let surging: Vec<&str> = live_by_node
                .iter()
                .filter(|(_, v)| v.len() > 1)
                .map(|(n, _)| *n)
                .collect();
            if surging.len() > limits.max_surge {
                violations.push(format!(
                    "event {i}: EDS {eds} runs more than one pod on {surging:?} (maxSurge {})",
                    limits.max_surge
                ));
            }
            if let Some(size) = limits.canary {
                let mut canaries: BTreeMap<&str, usize> = BTreeMap::new();
                for p in live_by_node.values().flatten().filter(|p| p.canary) {
                    *canaries.entry(&p.ers).or_default() += 1;
                }
                for (ers, n) in canaries.into_iter().filter(|(_, n)| *n > size) {
                    violations.push(format!(
                        "event {i}: EDS {eds} runs {n} canary pods of {ers} (canary replicas {size})"
                    ));
                }
            }
            let nodes: BTreeSet<String> = pods
                .values()
                .filter(|p| &p.eds == eds)
                .map(|p| p.node.clone())
                .chain(
                    available
                        .keys()
                        .filter(|(e, _)| e == eds)
                        .map(|(_, n)| n.clone()),
                )
                .collect();
            for node in nodes {
                let key = (eds.clone(), node.clone());
                let now = live_by_node
                    .get(node.as_str())
                    .is_some_and(|v| v.iter().any(|p| p.ready));
                let was = available.get(&key).copied().unwrap_or(false);
                if was && !now && deleted_ready.contains(&key) {
                    lost.entry(key.clone()).or_insert_with(|| {
                        let canary = next_pod_is_canary(log, i, eds, &node)
                            || limits.canary_nodes.contains(&node)
                            || canary_node_before_next_pod(log, i, eds, &node);
                        (i, canary)
                    });
                }
                if now {
                    lost.remove(&key);
                }
                available.insert(key, now);
            }
            let counted: Vec<&str> = lost
                .iter()
                .filter(|((e, _), (_, exempt))| e == eds && !exempt)
                .map(|((_, n), _)| n.as_str())
                .collect();
            // A percentage budget follows the node count: the plan that made these deletions
            // may have counted a node the status (written after its pod writes) shows next.
            let budget = next_budget[i]
                .get(eds.as_str())
                .map_or(limits.max_unavailable, |&n| n.max(limits.max_unavailable));
            // The budget binds each deletion as it is made: a percentage budget that shrinks
            // afterwards (nodes removed or tainted out of the count) is not broken by the pods
            // already gone; the controller deletes no more until the count is back under it.
            let deleted_now = lost
                .iter()
                .any(|((e, _), (at, exempt))| e == eds && *at == i && !exempt);
            if counted.len() > budget {
                let message = format!(
                    "event {i}: EDS {eds} has {} nodes made unavailable by deletions {counted:?} (maxUnavailable {budget})",
                    counted.len(),
                );
                if deleted_now {
                    violations.push(message);
                } else {
                    notes.push(message);
                }
            }
        }
    }
    violations.dedup();
    (violations, notes)
}

/// For each event, the maxUnavailable of each ExtendedDaemonSet's next record after it.
fn next_budgets(log: &[Record]) -> Vec<BTreeMap<&str, usize>> {
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = vec![BTreeMap::new(); log.len()];
    for (i, record) in log.iter().enumerate().rev() {
        out[i] = next.clone();
        if let Record::Eds {
            name,
            limits: Some(l),
        } = record
        {
            next.insert(name, l.max_unavailable);
        }
    }
    out
}

/// Whether the status of `eds` lists `node` as a canary node after event `i`, before the next
/// pod of `eds` appears there: its pod was taken for a canary that failed (or was replaced)
/// before its canary pod landed, so the next pod there is not a canary pod.
fn canary_node_before_next_pod(log: &[Record], i: usize, eds: &str, node: &str) -> bool {
    for record in &log[i + 1..] {
        match record {
            Record::Eds {
                name,
                limits: Some(l),
            } if name == eds && l.canary_nodes.iter().any(|n| n == node) => return true,
            Record::Pod { state: Some(s), .. } if s.eds == eds && s.node == node && s.live => {
                return false;
            }
            _ => {}
        }
    }
    false
}

/// Whether the next pod of `eds` that appears on `node` after event `i` is a canary pod.
fn next_pod_is_canary(log: &[Record], i: usize, eds: &str, node: &str) -> bool {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for record in &log[..=i] {
        if let Record::Pod { uid, .. } = record {
            seen.insert(uid);
        }
    }
    log[i + 1..]
        .iter()
        .find_map(|r| match r {
            Record::Pod {
                uid,
                state: Some(s),
            } if s.eds == eds && s.node == node && s.live && !seen.contains(uid.as_str()) => {
                Some(s.canary)
            }
            _ => None,
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, node: &str, ready: bool, live: bool, canary: bool) -> Record {
        Record::Pod {
            uid: uid.into(),
            state: Some(PodState {
                name: uid.into(),
                eds: "foo".into(),
                node: node.into(),
                ready,
                live,
                canary,
                ers: "v2".into(),
                rv: 0,
            }),
        }
    }

    fn eds(max_unavailable: usize) -> Record {
        eds_canary(max_unavailable, &[])
    }

    fn eds_canary(max_unavailable: usize, canary_nodes: &[&str]) -> Record {
        Record::Eds {
            name: "foo".into(),
            limits: Some(Limits {
                max_unavailable,
                max_surge: 0,
                canary: Some(1),
                canary_nodes: canary_nodes.iter().map(|n| n.to_string()).collect(),
                rejected: None,
            }),
        }
    }

    #[test]
    fn a_budget_grown_by_a_new_node_counts_from_the_plan_that_used_it() {
        // Two nodes go at once under a budget of 1, and the status written right after says
        // the budget (10% of the nodes, a node joined) is 2 now.
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("a", "n1", true, false, false),
            pod("b", "n2", true, false, false),
            eds(2),
        ];
        assert_eq!(replay(&log), Vec::<String>::new());
        let mut plain = log.clone();
        plain.pop();
        assert!(!replay(&plain).is_empty());
    }

    #[test]
    fn a_canary_node_whose_canary_failed_before_its_pod_landed_is_exempt() {
        // n1's pod goes for a canary (the status lists n1 once the plan is written), the
        // canary fails before its pod lands, and n1 gets the active revision back; meanwhile
        // the rolling update takes n2 down: one node of the budget, not two.
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("b", "n2", true, false, false),
            pod("a", "n1", true, false, false),
            eds_canary(1, &["n1"]),
            eds(1),
            Record::Pod {
                uid: "a".into(),
                state: None,
            },
            pod("c", "n1", true, true, false),
        ];
        assert_eq!(replay(&log), Vec::<String>::new());
        // Without the canary listing, the same history breaks the budget.
        let mut plain = log.clone();
        plain.remove(5);
        assert!(
            replay(&plain)[0].contains("2 nodes made unavailable"),
            "{:?}",
            replay(&plain)
        );
    }

    #[test]
    fn a_budget_that_shrinks_after_the_deletions_binds_the_next_ones() {
        // Two nodes go under a budget of 2; then the budget drops to 1 (a percentage of fewer
        // nodes): the pods already gone break nothing, and the next deletion does.
        let mut log = vec![
            eds(2),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("c", "n3", true, true, false),
            pod("a", "n1", true, false, false),
            pod("b", "n2", true, false, false),
            eds(1),
            pod("b", "n2", false, false, false),
        ];
        let (violations, notes) = replay_with_notes(&log);
        assert_eq!(violations, Vec::<String>::new());
        assert!(notes[0].contains("2 nodes made unavailable"), "{notes:?}");
        log.push(pod("c", "n3", true, false, false));
        let v = replay(&log);
        assert!(
            v.len() == 1 && v[0].contains("3 nodes made unavailable"),
            "{v:?}"
        );
    }

    #[test]
    fn detects_two_nodes_down_with_budget_one() {
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("a", "n1", true, false, false),
            pod("b", "n2", true, false, false),
        ];
        assert_eq!(replay(&log).len(), 1, "{:?}", replay(&log));
    }

    #[test]
    fn one_at_a_time_is_fine_and_crashes_do_not_count() {
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("a", "n1", true, false, false),
            Record::Pod {
                uid: "a".into(),
                state: None,
            },
            pod("c", "n1", true, true, false),
            pod("b", "n2", false, true, false),
            pod("b", "n2", false, false, false),
        ];
        assert!(replay(&log).is_empty(), "{:?}", replay(&log));
    }

    #[test]
    fn a_pod_landing_beside_a_terminating_one_is_caught() {
        let gone = |uid: &str| Record::Pod {
            uid: uid.into(),
            state: None,
        };
        let early = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("a", "n1", true, false, false),
            pod("b", "n1", false, true, false),
        ];
        let v = replay(&early);
        assert!(v.iter().any(|m| m.contains("was terminating")), "{v:?}");
        let waited = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("a", "n1", true, false, false),
            gone("a"),
            pod("b", "n1", false, true, false),
        ];
        assert!(replay(&waited).is_empty(), "{:?}", replay(&waited));
    }

    #[test]
    fn canary_replacement_is_exempt_and_duplicates_are_caught() {
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("a", "n1", true, false, false),
            pod("b", "n2", true, false, false),
            pod("c", "n1", false, true, true),
            pod("d", "n2", false, true, false),
            pod("e", "n2", false, true, false),
        ];
        let v = replay(&log);
        assert!(v.iter().all(|m| !m.contains("unavailable")), "{v:?}");
        assert!(v.iter().any(|m| m.contains("more than one pod")), "{v:?}");
    }

    #[test]
    fn a_new_pod_of_a_rejected_revision_is_caught_by_resource_version() {
        let at = |record: Record, rv: u64| match record {
            Record::Pod {
                uid,
                state: Some(s),
            } => Record::Pod {
                uid,
                state: Some(PodState { rv, ..s }),
            },
            other => other,
        };
        let rejected = |rv: u64| Record::Eds {
            name: "foo".into(),
            limits: Some(Limits {
                max_unavailable: 1,
                max_surge: 0,
                canary: Some(1),
                canary_nodes: vec![],
                rejected: Some(("v2".into(), rv)),
            }),
        };
        // The canary pod on n1 was created (rv 5) before the status rejected v2 (rv 7), and
        // arrives after it: not a violation. Its update after the rejection is not new either.
        let log = vec![
            eds(1),
            rejected(7),
            at(pod("a", "n1", false, true, true), 5),
            at(pod("a", "n1", false, false, true), 8),
        ];
        assert!(replay(&log).is_empty(), "{:?}", replay(&log));
        // A pod of v2 created after the rejection is.
        let mut again = log.clone();
        again.push(at(pod("b", "n2", false, true, true), 9));
        let v = replay(&again);
        assert!(
            v.len() == 1 && v[0].contains("after its canary failed"),
            "{v:?}"
        );
    }

    #[test]
    fn evictions_and_removed_nodes_do_not_count_but_a_second_canary_does() {
        let log = vec![
            eds(1),
            pod("a", "n1", true, true, false),
            pod("b", "n2", true, true, false),
            pod("c", "n3", true, true, false),
            Record::ExemptPod { uid: "a".into() },
            pod("a", "n1", true, false, false),
            Record::ExemptNode { node: "n2".into() },
            pod("b", "n2", true, false, false),
            pod("c", "n3", true, false, false),
        ];
        assert!(replay(&log).is_empty(), "{:?}", replay(&log));
        let log = vec![
            eds(1),
            pod("a", "n1", false, true, true),
            pod("b", "n2", false, true, true),
        ];
        let v = replay(&log);
        assert!(v.iter().any(|m| m.contains("2 canary pods")), "{v:?}");
    }
}
