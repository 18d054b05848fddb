//! Chaos soak of the controller: `--runs N` rollouts of an ExtendedDaemonSet on 20-50 nodes
//! (`--nodes` fixes the count), each under random faults drawn from its seed (`--seed S` for
//! the first run, then S+1, ...): the controller killed abruptly and restarted, a second replica
//! contending for the lease, nodes added, removed, cordoned and tainted, pods evicted, watch
//! streams cut, the template changed mid-rollout (a quarter of the time to a crashing image,
//! whose canary must fail), and on the embedded simulator 5% of API reads and writes failing
//! with 500 or 429 and 0.5% of requests hanging for 1-2 s. An invariant checker watches every moment (one pod per node, the
//! maxUnavailable budget outside canary nodes, the canary size, no new pod of a rejected
//! revision), with pods starting after a jittered delay; each run must end converged
//! (or with its canary failed), with the user's spec unchanged and nothing orphaned.
//!
//! Runs on the embedded simulator, or on a real cluster with `EDS_TEST_KUBECONFIG` (fake nodes
//! played by the kubelet simulator; the API faults need the simulator). Prints one line per run
//! and the totals: runs, faults by kind, invariant breaks, longest time to settle. A failing
//! run prints its seed; `--seed S --runs 1` (with the same `--nodes`) replays it.
//!
//! `nice -n 10 cargo run --release -p eds --example chaos -- --runs 100 --seed 1`

#[path = "../tests/e2e/chaos.rs"]
mod chaos;
#[path = "../tests/e2e/chaos_checks.rs"]
mod chaos_checks;
#[allow(dead_code)]
#[path = "../tests/e2e/chaos_process.rs"]
mod chaos_process;
#[allow(dead_code)]
#[path = "../tests/e2e/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/e2e/invariants.rs"]
mod invariants;

use std::{collections::BTreeMap, time::Duration};

use clap::Parser;

/// Chaos soak of the ExtendedDaemonSet controller.
#[derive(Parser)]
struct Args {
    /// Number of runs.
    #[arg(long, default_value_t = 10)]
    runs: u64,
    /// Seed of the first run; run i uses seed + i.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Nodes of every run (default: drawn from 20..=50 by each run's seed).
    #[arg(long)]
    nodes: Option<usize>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    // Injected API errors are logged by the client at ERROR level: keep them out of the report.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,kube_client=off".into());
    // Each replica runs on threads named after it: the log says which replica wrote what.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_thread_names(true)
        .with_writer(std::io::stderr)
        .init();
    let mut faults: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut breaks = 0;
    let mut longest = Duration::ZERO;
    let mut longest_rollout = Duration::ZERO;
    let mut bad_templates = 0;
    for seed in args.seed..args.seed + args.runs {
        let report = chaos::run(&chaos::Options {
            seed,
            nodes: args.nodes,
        })
        .await;
        for (kind, n) in &report.faults {
            *faults.entry(kind).or_default() += n;
        }
        longest = longest.max(report.settle);
        longest_rollout = longest_rollout.max(report.rollout);
        bad_templates += u64::from(report.bad_template);
        let outcome = if report.violations.is_empty() {
            "ok".to_string()
        } else {
            breaks += report.violations.len();
            failed.push(seed);
            format!("FAILED:\n    {}", report.violations.join("\n    "))
        };
        println!(
            "seed {:>4} nodes {:>2} crashing template {:<5} settled {:>6.1}s after the faults (rollout {:>6.1}s) faults {:?} {outcome}",
            report.seed,
            report.nodes,
            report.bad_template,
            report.settle.as_secs_f64(),
            report.rollout.as_secs_f64(),
            report.faults,
        );
    }
    println!("\nruns: {}", args.runs);
    println!("runs with a crashing template: {bad_templates}");
    println!("faults injected by kind:");
    for (kind, n) in &faults {
        println!("  {kind:<22} {n}");
    }
    println!("invariant breaks and failed end checks: {breaks}");
    println!(
        "longest time to settle after the faults: {:.1}s; longest rollout: {:.1}s",
        longest.as_secs_f64(),
        longest_rollout.as_secs_f64()
    );
    if !failed.is_empty() {
        println!("failed seeds: {failed:?}");
        std::process::exit(1);
    }
}
