//! Fuzz harnesses of every input ExtendedDaemonSet reads, one module per `cargo fuzz` target
//! of `fuzz/`:
//!
//! - [`crd_admission`]: arbitrary JSON admitted against the generated CRDs (`crds/`): pruning,
//!   defaulting, schema validation and CEL rules;
//! - [`plan_state`]: arbitrary bytes as the `--state` file and as the `-f` file of `eds plan`;
//! - [`planner`]: `plan()` on structured cluster histories built from arbitrary data, with
//!   its safety invariants checked on every plan;
//! - [`node_overrides`]: arbitrary node resource-override annotations, planned.
//!
//! Each harness takes the fuzzer's raw bytes, so the targets and the replay test
//! (`tests/replay.rs`, which runs every committed corpus file on stable) run the same code. A
//! harness panics only on a finding: a crash of the product or a broken invariant.
#![forbid(unsafe_code)]

pub mod crd_admission;
pub mod node_overrides;
pub mod plan_state;
pub mod planner;

/// The fuzz targets, by name (also the directories of `fuzz/corpus/`).
pub const TARGETS: [&str; 4] = ["crd_admission", "plan_state", "planner", "node_overrides"];

/// Runs the harness of `target` on `data`; `false` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "crd_admission" => crd_admission::run(data),
        "plan_state" => plan_state::run(data),
        "planner" => planner::run(data),
        "node_overrides" => node_overrides::run(data),
        _ => return false,
    }
    true
}
