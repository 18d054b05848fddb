//! Chaos soak: one rollout of an ExtendedDaemonSet on 20-50 nodes under random faults, all
//! drawn from one seed. While the rollout runs, the controller replica is killed abruptly and
//! restarted, a second replica contends for the lease, nodes are added, removed, cordoned and
//! tainted, pods are evicted, watch streams are cut, the template changes (sometimes to a
//! crashing image), and on the simulator 5% of API calls fail with 500 or 429 and 0.5% hang for
//! 1-2 s (then are carried out). The invariant checker watches every moment; at the end the
//! rollout must have converged (or its canary failed, for a crashing image), the spec must be
//! the user's, and nothing may be orphaned.
//!
//! Used by the `chaos` example (`--runs 100`) and by a short soak in the test suite.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use eds_api::constants::keys;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use kube_sim::{apiserver::WriteError, kubelet::FakeNode};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::{
    chaos_checks::{Expect, orphans, settled},
    chaos_process::Process,
    harness::{TEST_NODE_LABEL, TestCluster},
};

const EDS: &str = "agent";
const BAD_IMAGE: &str = "registry.k8s.io/starterror:3.2";
/// How long a run may take to settle once the faults stop, at the least.
const SETTLE: Duration = Duration::from_secs(120);
/// Time allowed for each wave of the rolling update on top of [`SETTLE`]'s floor: a wave
/// takes about 2 s (grace period and start), three times that on a busy machine.
const SETTLE_PER_WAVE: Duration = Duration::from_secs(6);

/// One run's parameters.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    /// Node count; drawn from 20..=50 when `None`.
    pub nodes: Option<usize>,
}

/// What one run did and found.
#[derive(Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub nodes: usize,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Invariants broken and end checks failed.
    pub violations: Vec<String>,
    /// From the rollout's apply until settled.
    pub rollout: Duration,
    /// From the last fault until settled.
    pub settle: Duration,
    /// Whether the last template was a crashing one.
    pub bad_template: bool,
}

struct Chaos {
    tc: TestCluster,
    rng: ChaCha8Rng,
    report: Report,
    nodes: BTreeSet<String>,
    cordoned: BTreeSet<String>,
    tainted: BTreeSet<String>,
    leader: Option<Process>,
    contender: Option<(Process, Instant)>,
    replicas_started: usize,
    added: usize,
    spec: Value,
    /// How long [`Chaos::settle`] waits: [`SETTLE`], or more for a small budget on many nodes.
    settle_for: Duration,
}

/// Runs one seed.
pub async fn run(options: &Options) -> Report {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    // Drawn even when `--nodes` fixes the count: the draws after it stay those of the seed.
    let drawn = rng.random_range(20..=50);
    let nodes = options.nodes.unwrap_or(drawn);
    // Pods of one wave start (and crash) at different moments, as on a real cluster: a canary
    // whose pods fail one by one is judged while some are still starting.
    let mut tc = TestCluster::start_jittered(&format!("chaos-{}", options.seed), nodes, 0.5).await;
    // Replicas of this soak elect a leader and are killed abruptly: not the harness's own.
    tc.stop_controller().await;
    let mut chaos = Chaos {
        nodes: tc.node_names.iter().cloned().collect(),
        tc,
        rng,
        report: Report {
            seed: options.seed,
            nodes,
            ..Default::default()
        },
        cordoned: BTreeSet::new(),
        tainted: BTreeSet::new(),
        leader: None,
        contender: None,
        replicas_started: 0,
        added: 0,
        spec: Value::Null,
        settle_for: SETTLE,
    };
    chaos.soak().await;
    let Chaos {
        tc,
        mut report,
        leader,
        contender,
        ..
    } = chaos;
    drop((leader, contender));
    report.violations.extend(tc.finish_report().await);
    report
}

impl Chaos {
    async fn soak(&mut self) {
        if let Some(sim) = self.tc.sim() {
            let error = if self.rng.random_bool(0.5) {
                WriteError::Internal
            } else {
                WriteError::TooManyRequests { retry_after: 1 }
            };
            sim.faults().set_write_errors(0.05, error);
            sim.faults().set_read_errors(0.05);
            // Some requests hang past the replicas' lease timeout, and are carried out after.
            let hang = Duration::from_millis(self.rng.random_range(1_000..=2_000));
            sim.faults().set_hangs(0.005, hang);
        }
        self.start_leader();
        let canary = self.rng.random_range(1..=3);
        let budget = [json!(1), json!(2), json!(3), json!("10%"), json!("20%")]
            .choose(&mut self.rng)
            .cloned()
            .unwrap();
        self.settle_for = settle_time(&budget, self.nodes.len());
        let strategy = |duration: &str| {
            json!({
                "canary": { "replicas": canary, "duration": duration,
                            "autoPause": { "maxRestarts": 1 }, "autoFail": { "maxRestarts": 3 } },
                "rollingUpdate": { "maxUnavailable": budget },
                "reconcileFrequency": "1s",
            })
        };
        self.apply("registry.k8s.io/pause:3.0", strategy("3s"))
            .await;
        let v1 = Expect::Converged {
            image: "registry.k8s.io/pause:3.0".into(),
        };
        if self.settle(&v1, "the first revision").await.is_none() {
            return;
        }
        let started = Instant::now();
        self.apply("registry.k8s.io/pause:3.1", strategy("3s"))
            .await;
        let window = Duration::from_millis(self.rng.random_range(6_000..=15_000));
        let change_at = window.mul_f64(self.rng.random_range(0.1..0.9));
        let bad = self.rng.random_bool(0.25);
        self.report.bad_template = bad;
        let mut expect = Expect::Converged {
            image: "registry.k8s.io/pause:3.1".into(),
        };
        let mut changed = false;
        while started.elapsed() < window {
            tokio::time::sleep(Duration::from_millis(self.rng.random_range(200..=1000))).await;
            self.tend_replicas();
            if !changed && started.elapsed() >= change_at {
                changed = true;
                expect = if bad {
                    self.count("template-change-bad");
                    self.apply(BAD_IMAGE, strategy("1h")).await;
                    Expect::CanaryFailed {
                        bad_image: BAD_IMAGE.into(),
                    }
                } else {
                    self.count("template-change");
                    self.apply("registry.k8s.io/pause:3.2", strategy("3s"))
                        .await;
                    Expect::Converged {
                        image: "registry.k8s.io/pause:3.2".into(),
                    }
                };
                continue;
            }
            self.fault().await;
        }
        self.heal().await;
        let healed = Instant::now();
        if self.settle(&expect, "the rollout").await.is_some() {
            self.report.rollout = started.elapsed();
            self.report.settle = healed.elapsed();
        }
        // The end checks read the cluster once: no injected error may fail them.
        if let Some(sim) = self.tc.sim() {
            *self.report.faults.entry("api-error").or_default() += sim.faults().injected();
            *self.report.faults.entry("api-hang").or_default() += sim.faults().hung();
            sim.faults().clear();
        }
        self.final_checks().await;
    }

    fn count(&mut self, kind: &'static str) {
        *self.report.faults.entry(kind).or_default() += 1;
    }

    fn start_leader(&mut self) {
        self.replicas_started += 1;
        let id = format!("a-{}", self.replicas_started);
        self.leader = Some(Process::start(
            &self.tc.kube_config,
            &self.tc.namespace,
            &id,
        ));
    }

    /// Restarts a replica that exited by itself (as its Deployment would) and kills the
    /// contender when its time is up.
    fn tend_replicas(&mut self) {
        if self.leader.as_ref().is_some_and(|p| p.exited()) {
            self.count("controller-exited");
            self.start_leader();
        }
        if let Some((_, until)) = &self.contender
            && Instant::now() >= *until
        {
            let (p, _) = self.contender.take().unwrap();
            p.kill();
        }
    }

    /// Injects one random fault.
    async fn fault(&mut self) {
        match self.rng.random_range(0..8) {
            0 => {
                self.count("controller-kill");
                if let Some(p) = self.leader.take() {
                    p.kill();
                }
                let down = self.rng.random_range(0..1500);
                tokio::time::sleep(Duration::from_millis(down)).await;
                self.start_leader();
            }
            1 if self.contender.is_none() => {
                self.count("lease-contender");
                self.replicas_started += 1;
                let id = format!("b-{}", self.replicas_started);
                let p = Process::start(&self.tc.kube_config, &self.tc.namespace, &id);
                let until =
                    Instant::now() + Duration::from_millis(self.rng.random_range(1000..4000));
                self.contender = Some((p, until));
            }
            2 => {
                self.count("node-add");
                self.added += 1;
                let name = format!("{}-node-x{}", self.tc.test_id, self.added);
                let node = FakeNode::new(&name).label(TEST_NODE_LABEL, &self.tc.test_id);
                if retry(|| self.tc.kubelet.add_node(node.clone())).await {
                    self.nodes.insert(name);
                }
            }
            3 if self.nodes.len() > 10 => {
                self.count("node-remove");
                let name = self.pick_node();
                self.tc.invariants.exempt_node(&name);
                self.nodes.remove(&name);
                self.cordoned.remove(&name);
                self.tainted.remove(&name);
                retry(|| self.tc.kubelet.remove_node(&name)).await;
            }
            4 => {
                self.count("node-cordon");
                let name = self.pick_node();
                self.cordon(&name, true).await;
                self.cordoned.insert(name);
            }
            5 => {
                self.count("node-taint");
                let name = self.pick_node();
                let taint = Taint {
                    key: "chaos.example.com/maintenance".into(),
                    value: Some("true".into()),
                    effect: "NoSchedule".into(),
                    time_added: None,
                };
                // An untolerated NoSchedule taint takes the node out of the rollout (no new
                // pod there): if its pod was just replaced, the node is no longer the budget's.
                self.tc.invariants.exempt_node(&name);
                retry(|| self.tc.kubelet.set_taints(&name, vec![taint.clone()])).await;
                self.tainted.insert(name);
            }
            6 => self.evict().await,
            _ => {
                if let Some(sim) = self.tc.sim() {
                    sim.faults().close_watches();
                    self.count("watch-cut");
                }
            }
        }
    }

    fn pick_node(&mut self) -> String {
        let nodes: Vec<&String> = self.nodes.iter().collect();
        (*nodes.choose(&mut self.rng).unwrap()).clone()
    }

    async fn cordon(&self, name: &str, unschedulable: bool) {
        let api = Api::<Node>::all(self.tc.client.clone());
        let patch = Patch::Merge(json!({ "spec": { "unschedulable": unschedulable } }));
        let params = PatchParams::default();
        retry(|| api.patch(name, &params, &patch)).await;
    }

    /// Deletes a random pod of the EDS, as a node-pressure eviction would.
    async fn evict(&mut self) {
        let api = Api::<Pod>::namespaced(self.tc.client.clone(), &self.tc.namespace);
        let Ok(pods) = api
            .list(&ListParams::default().labels(keys::EDS_NAME_LABEL))
            .await
        else {
            return;
        };
        let live: Vec<&Pod> = pods
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        let Some(pod) = live.choose(&mut self.rng) else {
            return;
        };
        self.count("pod-evict");
        self.tc
            .invariants
            .exempt_pod(&pod.uid().unwrap_or_default());
        let _ = api.delete(&pod.name_any(), &DeleteParams::default()).await;
    }

    /// Ends the node faults and the contention: the rollout must now finish.
    async fn heal(&mut self) {
        if let Some((p, _)) = self.contender.take() {
            p.kill();
        }
        for name in std::mem::take(&mut self.cordoned) {
            self.cordon(&name, false).await;
        }
        for name in std::mem::take(&mut self.tainted) {
            retry(|| self.tc.kubelet.set_taints(&name, Vec::new())).await;
        }
    }

    /// Applies the EDS with `image` and `strategy`, retrying injected faults like a user would.
    async fn apply(&mut self, image: &str, strategy: Value) {
        let eds = self.tc.eds(EDS, image, strategy);
        let mut body = serde_json::to_value(&eds).unwrap();
        body.as_object_mut().unwrap().remove("status");
        let api = self.tc.eds_api();
        let params = PatchParams::apply("chaos-user").force();
        for _ in 0..50 {
            if let Ok(applied) = api.patch(EDS, &params, &Patch::Apply(&body)).await {
                self.spec = serde_json::to_value(&applied.spec).unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the EDS could not be applied");
    }

    /// Waits until the EDS reaches `expect` (restarting a replica that exits); records a
    /// violation naming the last difference if it does not within `settle_for`.
    async fn settle(&mut self, expect: &Expect, what: &str) -> Option<()> {
        let settle_for = self.settle_for;
        let deadline = Instant::now() + settle_for;
        let mut last = String::new();
        while Instant::now() < deadline {
            self.tend_replicas();
            let client = &self.tc.client;
            match settled(client, &self.tc.namespace, EDS, &self.nodes, expect).await {
                Ok(()) => return Some(()),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let status = self.tc.eds_api().get(EDS).await.ok().and_then(|e| e.status);
        let status = status.map(|s| {
            let stalled = s.conditions.iter().filter(|c| c.is_true());
            let stalled: Vec<String> = stalled
                .map(|c| format!("{}: {}", c.type_, c.message.clone().unwrap_or_default()))
                .collect();
            format!(
                "state {:?} reason {:?} active {} canary {:?} conditions {stalled:?}",
                s.state, s.reason, s.active_replica_set, s.canary
            )
        });
        self.report.violations.push(format!(
            "{what} did not settle ({expect:?}) within {settle_for:?}: {last}; {}",
            status.unwrap_or_default()
        ));
        None
    }

    async fn final_checks(&mut self) {
        let now = async { self.tc.eds_api().get(EDS).await };
        match now.await {
            Ok(eds) if serde_json::to_value(&eds.spec).unwrap() != self.spec => {
                self.report
                    .violations
                    .push("the EDS spec differs from the user's".into());
            }
            Ok(_) => {}
            Err(e) => self.report.violations.push(format!("getting the EDS: {e}")),
        }
        match orphans(&self.tc.client, &self.tc.namespace, EDS).await {
            Ok(found) => self.report.violations.extend(found),
            Err(e) => self.report.violations.push(format!("listing orphans: {e}")),
        }
    }
}

/// Runs `op` until it succeeds, at most 20 times; whether it did.
async fn retry<T, E, F, Fut>(mut op: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    for _ in 0..20 {
        if op().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// How long a rollout under `budget` (`maxUnavailable`: a count or a percentage) may take to
/// settle on `nodes` nodes: at budget 1 on 50 nodes the strategy alone needs 50 waves, about
/// 100 s, so a fixed deadline would report a slow machine as a stuck rollout.
fn settle_time(budget: &Value, nodes: usize) -> Duration {
    // The run may add a few nodes; count them as one more wave's worth.
    let nodes = nodes + 5;
    let per_wave = match budget {
        Value::Number(n) => n.as_u64().unwrap_or(1) as usize,
        Value::String(p) => {
            let pct: usize = p.trim_end_matches('%').parse().unwrap_or(100);
            (nodes * pct).div_ceil(100)
        }
        _ => 1,
    }
    .max(1);
    let waves = u32::try_from(nodes.div_ceil(per_wave)).unwrap_or(u32::MAX);
    SETTLE.max(SETTLE_PER_WAVE.saturating_mul(waves))
}

#[cfg(test)]
mod settle_tests {
    use super::*;

    #[test]
    fn a_small_budget_on_many_nodes_gets_more_time_to_settle() {
        assert_eq!(settle_time(&json!("20%"), 34), SETTLE);
        assert_eq!(settle_time(&json!(3), 30), SETTLE);
        assert_eq!(settle_time(&json!(1), 50), Duration::from_secs(330));
        assert_eq!(settle_time(&json!(2), 45), Duration::from_secs(150));
    }
}
