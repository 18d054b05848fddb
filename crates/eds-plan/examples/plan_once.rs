//! Plans the benchmark's half-done rollout, for instruction counts and quick timings:
//!
//! ```text
//! cargo build --release -p eds-plan --example plan_once
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='plan_once::plan_and_drop' \
//!     target/release/examples/plan_once 10000
//! target/release/examples/plan_once 10000 200
//! ```
//!
//! Building the snapshot is left out of the count (`--toggle-collect` counts only one
//! `plan()` and the drop of its result, as the benchmark times them). `plan_once NODES RUNS`
//! plans RUNS times, the CPU caches evicted before each plan as in the benchmark's
//! `plan_mid_rollout_cold` group, and prints the minimum and the median wall time: on a
//! machine shared with other work the minimum is the steadiest figure to compare two builds.
//! It times `plan_changes()` too (the controller's plan, without the per-node explanations),
//! alternating with `plan()`.
//! `plan_once NODES RUNS EMPTY` takes the pods off EMPTY nodes of the old revision first (their
//! old pod deleted and gone, as between two waves of a rolling update): the plan then creates
//! pods, which the benchmark's snapshot never does. With EMPTY, pod creation is limited as in
//! the `controller_scale` example of the `eds` crate: `maxParallelPodCreation` 10% of the
//! nodes, slow start +10%.
//!
//! The pods and nodes are digested before the plans, as the controller's caches hold them
//! (`Snapshot::digest_pods`, `Snapshot::digest_nodes`); the example prints what digesting them
//! cost, per pod and per node (the controller pays it once per watch event).
//! `plan_once NODES RUNS EMPTY raw` leaves them undigested: each plan then digests them itself.
//!
//! It allocates with mimalloc, the allocator of the `eds` binary, so it times `plan()` as the
//! controller runs it. With glibc's allocator the figure depends on the sizes of the plan's
//! large lists: glibc returns some of them to the system after each plan, and a per-pod record
//! made 48 bytes smaller turned 8 page faults per plan into 1,058, and a plan of 4.1 ms into one
//! of 7.2 ms.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use eds_plan::{
    Snapshot,
    digest::NodeDigest,
    plan,
    testing::{bench_now, mid_rollout},
};

/// The controller's allocator (see the module documentation).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Twice the L3 cache of the team machine, as in the benchmark.
const EVICTION_BYTES: usize = 64 << 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let empty: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let raw = args.next().is_some_and(|a| a == "raw");
    let mut snapshot = mid_rollout(nodes);
    let emptied: Vec<String> = (nodes / 2..(nodes / 2 + empty).min(nodes))
        .map(|i| format!("node-{i:05}"))
        .collect();
    if empty > 0
        && let Some(r) = snapshot.eds.spec.strategy.rolling_update.as_mut()
    {
        r.max_parallel_pod_creation = Some(i32::try_from(nodes / 10).unwrap_or(i32::MAX));
        r.slow_start_additive_increase = Some(IntOrString::String("10%".into()));
    }
    snapshot
        .pods
        .retain(|p| !eds_plan::pod_node(p).is_some_and(|n| emptied.iter().any(|e| e == n)));
    if !raw {
        let pods = snapshot.pods.len();
        let start = Instant::now();
        digest(&mut snapshot);
        let took = start.elapsed();
        println!(
            "digested {pods} pods in {:.2} ms: {:.0} ns a pod",
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() * 1e9 / pods.max(1) as f64
        );
        let start = Instant::now();
        let digests = digest_nodes(&snapshot);
        let took = start.elapsed();
        // The nodes are dropped apart: a cache drops a node object whether it digests it or not.
        snapshot.nodes.clear();
        snapshot.digested_nodes = digests;
        println!(
            "digested {nodes} nodes in {:.2} ms: {:.0} ns a node",
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() * 1e9 / nodes.max(1) as f64
        );
    }
    let buffer: Vec<u64> = (0..EVICTION_BYTES / 8).map(|i| i as u64).collect();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // plan() and the controller's plan_changes(), alternating.
    let mut times = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    let mut sizes = (0, 0, 0);
    for _ in 0..runs {
        evict(&buffer);
        let start = Instant::now();
        sizes = plan_and_drop(&snapshot);
        times[0].push(start.elapsed());
        evict(&buffer);
        let start = Instant::now();
        changes_and_drop(&snapshot);
        times[1].push(start.elapsed());
    }
    for t in &mut times {
        t.sort();
    }
    let (deletes, creates, explanations) = sizes;
    println!(
        "{nodes} nodes: {deletes} deletes, {creates} creates, {explanations} explanations; \
         {runs} plans, caches evicted: min {:.2} ms, median {:.2} ms; \
         without explanations (plan_changes): min {:.2} ms, median {:.2} ms",
        ms(times[0][0]),
        ms(times[0][runs / 2]),
        ms(times[1][0]),
        ms(times[1][runs / 2]),
    );
}

/// Reads one word of every cache line of `buffer`, twice the size of the last-level cache, to
/// leave no part of the snapshot in the CPU caches. Also a function of its own: callgrind's
/// cache simulation sees a cold plan when collecting both this and `plan_and_drop`; the
/// eviction adds one last-level miss per line of `buffer` (1,048,576) to subtract.
#[inline(never)]
fn evict(buffer: &[u64]) {
    std::hint::black_box(buffer.iter().step_by(8).fold(0, |sum, w| sum ^ w));
}

/// Digests the snapshot's pods (a function of its own, for callgrind's `--toggle-collect`).
#[inline(never)]
fn digest(snapshot: &mut Snapshot) {
    snapshot.digest_pods();
}

/// Digests the snapshot's nodes, as the controller's node cache does on a watch event (a
/// function of its own, for callgrind's `--toggle-collect`).
#[inline(never)]
fn digest_nodes(snapshot: &Snapshot) -> Vec<Arc<NodeDigest>> {
    snapshot
        .nodes
        .iter()
        .map(|n| Arc::new(NodeDigest::new(n)))
        .collect()
}

/// One plan without explanations, as the controller makes it, dropped.
#[inline(never)]
fn changes_and_drop(snapshot: &Snapshot) -> usize {
    eds_plan::plan_changes(std::hint::black_box(snapshot), bench_now())
        .pod_deletes
        .len()
}

/// One plan, dropped: the sizes of its lists.
#[inline(never)]
fn plan_and_drop(snapshot: &Snapshot) -> (usize, usize, usize) {
    let p = plan(std::hint::black_box(snapshot), bench_now());
    (p.pod_deletes.len(), p.pod_creates.len(), p.nodes.len())
}
