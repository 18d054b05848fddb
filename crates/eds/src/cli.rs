//! Commands shared by the `eds` and `kubectl-eds` binaries, as a library so both wire the same
//! code: [`plan`] is `eds plan` and `kubectl eds plan`.

pub mod plan;

pub use plan::{OutputFormat, PlanArgs, PlanError, PlanStatus, exit_code, run, run_with};
