//! Plans the benchmark's half-done rollout once, for instruction counts:
//!
//! ```text
//! cargo build --release -p eds-plan --example plan_once
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='plan_once::plan_and_drop' \
//!     target/release/examples/plan_once 10000
//! ```
//!
//! Building the snapshot is left out of the count (`--toggle-collect` counts only one
//! `plan()` and the drop of its result, as the benchmark times them). `plan_once NODES RUNS`
//! plans RUNS times and prints the wall time of each plan.

use std::time::Instant;

use eds_plan::{
    Snapshot, plan,
    testing::{bench_now, mid_rollout},
};

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let snapshot = mid_rollout(nodes);
    for _ in 0..runs {
        let start = Instant::now();
        let (deletes, creates, explanations) = plan_and_drop(&snapshot);
        let took = start.elapsed();
        println!(
            "{nodes} nodes: {deletes} deletes, {creates} creates, {explanations} explanations \
             in {took:?}"
        );
    }
}

/// One plan, dropped: the sizes of its lists.
#[inline(never)]
fn plan_and_drop(snapshot: &Snapshot) -> (usize, usize, usize) {
    let p = plan(std::hint::black_box(snapshot), bench_now());
    (p.pod_deletes.len(), p.pod_creates.len(), p.nodes.len())
}
