//! Command line of `eds plan` (also `kubectl eds plan`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use eds_api::Duration;

/// Text printed after the help of `eds plan`: the exit codes scripts rely on.
pub const EXIT_CODES: &str = "\
Exit codes (as `kubectl diff`):
  0  no changes
  1  changes planned
  2  error (bad file, bad state, unreachable cluster, rejected object)";

/// One-line help of `eds plan` (for the subcommand's `about`).
pub const ABOUT: &str =
    "Show what applying an ExtendedDaemonSet would do, node by node, before applying it";

/// Long help of `eds plan` (for the subcommand's `long_about`).
pub const LONG_ABOUT: &str = "\
Show what applying an ExtendedDaemonSet would do, node by node, before applying it.

Plans every ExtendedDaemonSet of -f (files, directories or -, multi-document YAML, kind: List;
other kinds are skipped) against the current state of a cluster (the current kubeconfig
context) or of a state file (--state), merged as `kubectl apply` would merge it (or `kubectl
apply --server-side` with --server-side), and prints the object diff, one unified diff per
distinct pod change with the nodes it applies to, what happens on every node, the
unavailability budget and the waves of the rollout. Unknown fields are errors, as with kubectl's
strict validation. Nothing is written to the cluster: live mode only reads and makes a dry run
of the same apply.";

/// Arguments of `eds plan` (see [`LONG_ABOUT`]).
///
/// Plans the proposed ExtendedDaemonSet (`-f`) against the current state of a cluster (the
/// current kubeconfig context) or of a state file (`--state`), and prints the object diff, one
/// unified diff per distinct pod change with the nodes it applies to, what happens on every
/// node, the unavailability budget and the waves of the rollout. Nothing is written to the
/// cluster: live mode only reads and makes a server-side dry-run apply.
#[derive(Args, Debug, Clone, PartialEq)]
#[command(after_help = EXIT_CODES)]
pub struct PlanArgs {
    /// The proposed ExtendedDaemonSets: a YAML or JSON file, a directory of them, or `-`
    /// (standard input); other kinds in them are listed as skipped.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        required_unless_present = "dump_state"
    )]
    pub filename: Option<PathBuf>,
    /// Plan offline against a state file instead of a cluster: the nodes, pods, ERSs,
    /// Settings and current ExtendedDaemonSet, as printed by `kubectl get
    /// nodes,pods,ers,eds,extendeddaemonsetsettings -o yaml` or `eds plan --dump-state`.
    #[arg(long, value_name = "FILE", conflicts_with = "dump_state")]
    pub state: Option<PathBuf>,
    /// Write the state of the ExtendedDaemonSet NAME, read from the cluster, as a YAML List
    /// for `--state` (managedFields left out), instead of planning.
    #[arg(long, requires = "name", conflicts_with = "filename")]
    pub dump_state: bool,
    /// Name of the ExtendedDaemonSet whose state `--dump-state` writes.
    #[arg(value_name = "NAME", requires = "dump_state")]
    pub name: Option<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Name of the kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the ExtendedDaemonSet (default: the file's, else the context's, else
    /// `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format: `text` for people, `json` for tools (schema `eds.plan/v2`, see
    /// docs/plan.md).
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Do not colour the text output (it is only coloured on a terminal, and never when
    /// NO_COLOR is set).
    #[arg(long)]
    pub no_color: bool,
    /// Simulate the whole rollout and show every wave until it converges, with the canary
    /// phase and an estimated duration.
    #[arg(long)]
    pub full: bool,
    /// With `--full`: time after which a created pod is assumed ready.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub assume_ready_after: Duration,
    /// Plan what `kubectl apply --server-side` would do (the API server merges by field
    /// ownership) instead of `kubectl apply` (client-side: a three-way merge against the
    /// `kubectl.kubernetes.io/last-applied-configuration` annotation).
    #[arg(long)]
    pub server_side: bool,
    /// With `--server-side`: the field manager the apply uses, as `kubectl apply
    /// --field-manager`.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "kubectl",
        requires = "server_side"
    )]
    pub field_manager: String,
    /// With `--server-side`: take over fields other managers own, as `kubectl apply
    /// --force-conflicts` (without it, such a conflict is an error, as for the apply).
    #[arg(long, requires = "server_side")]
    pub force_conflicts: bool,
    /// Plan as of this time (RFC 3339, e.g. 2024-05-01T12:00:00Z) instead of now, e.g. to
    /// replay a state file at the time it was written.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

impl PlanArgs {
    /// The apply `eds plan` previews.
    pub fn apply_mode(&self) -> super::apply::ApplyMode {
        if self.server_side {
            super::apply::ApplyMode::ServerSide {
                manager: self.field_manager.clone(),
                force: self.force_conflicts,
            }
        } else {
            super::apply::ApplyMode::ClientSide
        }
    }
}

/// Output format of `eds plan`.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Diffs and tables for people.
    #[default]
    Text,
    /// The `eds.plan/v2` JSON document.
    Json,
}
