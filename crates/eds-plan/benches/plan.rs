//! `plan()` on a rollout half done, at 100 to 20,000 nodes, with the CPU caches warm and cold.
//!
//! Target on the team machine: 10,000 nodes under 20 ms, and linear growth (10k/1k at most 12).
//!
//! - `plan_mid_rollout` plans the same snapshot over and over: what is left in the caches
//!   from one plan serves the next. Up to about 5,000 nodes the snapshot stays in the L3
//!   cache; from 10,000 on it does not, so this group grows faster than the work does between
//!   those sizes. 20,000 nodes show the growth past that point.
//! - `plan_mid_rollout_cold` evicts the caches before each plan, as happens in the controller,
//!   where a reconcile reads pods and nodes that watch events wrote some time before. Every
//!   size then reads the snapshot from memory, and the figures compare the work itself.
//!
//! The pods and nodes are digested beforehand (`Snapshot::digest_pods`,
//! `Snapshot::digest_nodes`), as the controller's caches hold them, and memory comes from
//! mimalloc, the allocator of the `eds` binary (see the `plan_once` example for why it matters).

use std::{
    cell::OnceCell,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use eds_plan::{
    Snapshot, plan,
    testing::{bench_now, mid_rollout},
};

/// The controller's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 5] = [100, 1_000, 5_000, 10_000, 20_000];

/// Twice the L3 cache of the team machine (32 MiB): reading it all leaves none of the
/// snapshot cached.
const EVICTION_BYTES: usize = 64 << 20;

/// The snapshot of `nodes` nodes, its pods and nodes digested, built when a benchmark of that size is
/// selected.
fn mid_rollout_checked(nodes: usize) -> Snapshot {
    let mut snapshot = mid_rollout(nodes);
    snapshot.digest_pods();
    snapshot.digest_nodes();
    let check = plan(&snapshot, bench_now());
    assert!(
        !check.pod_deletes.is_empty(),
        "the snapshot must be mid-rollout"
    );
    snapshot
}

fn bench_warm(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_mid_rollout");
    for nodes in SIZES {
        let snapshot = OnceCell::new();
        group.bench_function(BenchmarkId::from_parameter(nodes), |b| {
            let s = snapshot.get_or_init(|| mid_rollout_checked(nodes));
            let now = bench_now();
            b.iter(|| plan(std::hint::black_box(s), now))
        });
    }
    group.finish();
}

/// Reads one word of every cache line of `buffer`.
fn evict(buffer: &[u64]) -> u64 {
    buffer.iter().step_by(8).fold(0, |sum, w| sum ^ w)
}

fn bench_cold(c: &mut Criterion) {
    let buffer: Vec<u64> = (0..EVICTION_BYTES / 8).map(|i| i as u64).collect();
    let mut group = c.benchmark_group("plan_mid_rollout_cold");
    // Each plan is preceded by an eviction of a few milliseconds that is not measured: fewer
    // samples keep the group to seconds per size.
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(1));
    for nodes in SIZES {
        let snapshot = OnceCell::new();
        group.bench_function(BenchmarkId::from_parameter(nodes), |b| {
            let s = snapshot.get_or_init(|| mid_rollout_checked(nodes));
            let now = bench_now();
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    std::hint::black_box(evict(&buffer));
                    let start = Instant::now();
                    drop(std::hint::black_box(plan(std::hint::black_box(s), now)));
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_warm, bench_cold);
criterion_main!(benches);
