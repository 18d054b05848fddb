//! The short chaos soak of the test suite; the `chaos` example runs the long one.

use super::chaos::{Options, run};

/// Nodes of each run: few, so five runs side by side stay short in a debug build, but more
/// than the ten below which the soak stops removing nodes.
const NODES: usize = 12;

/// Five seeds of the chaos soak, run side by side (each on its own simulated cluster): every
/// invariant holds at every observed moment, each rollout converges (or its crashing canary
/// fails) and nothing is orphaned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_chaos_soak_keeps_every_invariant() {
    let runs = (1..=5).map(|seed| async move {
        run(&Options {
            seed,
            nodes: Some(NODES),
        })
        .await
    });
    let mut failed = Vec::new();
    for report in futures::future::join_all(runs).await {
        eprintln!(
            "seed {} on {} nodes: settled {:?} after the faults, faults {:?}",
            report.seed, report.nodes, report.settle, report.faults
        );
        if !report.violations.is_empty() {
            failed.push(format!(
                "seed {} (replay: `cargo run -p eds --example chaos -- --seed {} --runs 1 --nodes {NODES}`): {:#?}",
                report.seed, report.seed, report.violations
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
