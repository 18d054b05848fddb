//! Controller runtime: watches, reconcile, server-side-apply executor, status, events, metrics,
//! leader election and health endpoints.
//!
//! The rules are in [`eds_plan`]; this module gathers the inputs from watch caches, runs the
//! planner and applies its plan.

pub mod caches;
pub mod config;
pub mod error;
pub mod executor;
pub mod expectations;
pub mod health;
pub mod leader;
pub mod metrics;
pub mod orphans;
pub mod pacing;
pub mod reconcile;
pub mod run;
pub mod scope;

pub use config::{
    ControllerArgs, LOG_LEVEL_PATTERN, LOG_LEVELS, LogFormat, RuntimeConfig, WatchScope,
    parse_log_level,
};
pub use error::RunError;
pub use run::{Runtime, run};
