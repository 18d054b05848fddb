//! `plan()` on a rollout half done, at 100 to 20,000 nodes.
//!
//! Target on the team machine: 10,000 nodes under 20 ms, and linear growth (10k/1k at most 12).
//! 20,000 nodes show the growth once the snapshot no longer fits in the CPU caches at all
//! (10,000 is where it stops fitting in L3 on that machine).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use extendeddaemonset::plan::{
    plan,
    testing::{bench_now, mid_rollout},
};

fn bench_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_mid_rollout");
    for nodes in [100usize, 1_000, 5_000, 10_000, 20_000] {
        let snapshot = mid_rollout(nodes);
        let now = bench_now();
        let check = plan(&snapshot, now);
        assert!(
            !check.pod_deletes.is_empty(),
            "the snapshot must be mid-rollout"
        );
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &snapshot, |b, s| {
            b.iter(|| plan(std::hint::black_box(s), now))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
