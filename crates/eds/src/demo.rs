//! `eds demo`: the upstream README's `foo` walkthrough on the embedded simulated cluster.
//!
//! It starts the simulator (3 nodes, like the seed's kind cluster) and the controller, applies
//! `examples/foo-eds_v1.yaml`, waits until it runs everywhere, applies `foo-eds_v2.yaml` with a
//! shortened canary, and prints `kubectl get eds`, `kubectl get ers` and the pods at every state
//! change: canary, promotion, rolling update, done. The `bad-image` and `crashloop` scenarios
//! apply a broken v2 instead, show the canary pausing or failing, then apply a fixed v3 and
//! show the recovery.

mod script;
mod tables;

use std::time::Duration;

use clap::{Args, ValueEnum};

pub use script::{DemoError, run};

/// Options of `eds demo`.
#[derive(Args, Clone, Debug)]
pub struct DemoArgs {
    /// Number of simulated nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// What the update does.
    #[arg(long, value_enum, default_value_t = Scenario::Good)]
    pub scenario: Scenario,
    /// Canary duration used instead of the example's 5m, so the demo takes about a minute.
    #[arg(long, default_value = "15s")]
    pub canary_duration: eds_api::Duration,
    /// Seconds a simulated pod takes to become ready.
    #[arg(long, default_value = "1s")]
    pub start_delay: eds_api::Duration,
    /// Give up (exit 1) if the rollout has not converged after this long.
    #[arg(long, default_value = "5m")]
    pub timeout: eds_api::Duration,
    /// Keep the simulated cluster and the controller running at the end, and write a
    /// kubeconfig so kubectl and `kubectl eds` can be tried against it (Ctrl-C to stop).
    #[arg(long)]
    pub keep: bool,
    /// Where `--keep` writes the kubeconfig.
    #[arg(long, default_value = "./sim.kubeconfig")]
    pub kubeconfig: std::path::PathBuf,
}

/// The update the demo rolls out.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// v2 is healthy: canary, promotion after the canary duration, rolling update.
    Good,
    /// v2's image cannot be pulled: the canary pauses (ErrImagePull); a fixed v3 recovers.
    BadImage,
    /// v2 crashes: the canary pauses, then fails (restarts); a fixed v3 recovers.
    Crashloop,
}

impl DemoArgs {
    fn start_delay(&self) -> Duration {
        self.start_delay.as_std()
    }
}
