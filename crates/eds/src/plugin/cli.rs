//! Command line of `kubectl-eds`: verbs as subcommands, the client flags shared by all of them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use eds_api::Duration;

/// Text printed after the top-level help: the exit codes scripts can rely on.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  `rollout status`: the rollout failed (canary failed, Stalled condition) or timed out;
     `diff`: the templates differ (as `kubectl diff`)
  2  usage error, object not found, or an API server error";

/// Control ExtendedDaemonSets: list them, watch and steer their canaries and rollouts.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "kubectl-eds",
    bin_name = "kubectl eds",
    version,
    about = "Control ExtendedDaemonSets (datadoghq.com/v1alpha1): list them, steer canaries and rollouts",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Connection flags, accepted before or after the verb.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The verb to run.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the first is the program) as [`Cli::try_parse_from`], exiting on a usage
    /// error. An unknown verb is followed by the verbs of that level, which clap does not list
    /// (it only suggests a close one, when there is one).
    pub fn parse_or_exit<I, T>(args: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        match Self::try_parse_from(&args) {
            Ok(cli) => cli,
            Err(e) if e.kind() == clap::error::ErrorKind::InvalidSubcommand => {
                let _ = e.print();
                eprintln!("\ncommands: {}", verbs_at(&args).join(", "));
                std::process::exit(e.exit_code());
            }
            Err(e) => e.exit(),
        }
    }
}

/// The verbs of the deepest command `args` name (`canary` in `kubectl eds canary frob`).
fn verbs_at(args: &[std::ffi::OsString]) -> Vec<String> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    for arg in args.iter().skip(1) {
        let Some(sub) = arg
            .to_str()
            .and_then(|a| command.find_subcommand(a))
            .cloned()
        else {
            continue;
        };
        command = sub;
    }
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Parses a revision number of `rollout history` / `rollout undo`.
fn parse_revision(value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            format!(
                "{value:?} is not a revision: use a whole number from 1, as the REVISION column of \
             `kubectl eds rollout history NAME` lists them"
            )
        })
}

/// Help heading of the connection flags, so they stand apart from each verb's own options.
const CONNECTION: &str = "Connection options";

/// Flags that choose the cluster and the namespace, shared by every verb.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub kubeconfig: Option<PathBuf>,
    /// Name of the kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME", help_heading = CONNECTION)]
    pub context: Option<String>,
    /// Namespace of the objects (default: the context's namespace, else `default`).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE", help_heading = CONNECTION)]
    pub namespace: Option<String>,
    /// Name of the kubeconfig cluster to use (default: the context's).
    #[arg(long, global = true, value_name = "NAME", help_heading = CONNECTION)]
    pub cluster: Option<String>,
    /// Name of the kubeconfig user to use (default: the context's).
    #[arg(long, global = true, value_name = "NAME", help_heading = CONNECTION)]
    pub user: Option<String>,
    /// Address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true, value_name = "URL", help_heading = CONNECTION)]
    pub server: Option<String>,
    /// Path to a PEM file of the certificate authority of the API server.
    #[arg(long, global = true, value_name = "FILE", help_heading = CONNECTION)]
    pub certificate_authority: Option<PathBuf>,
    /// Do not check the API server's certificate (insecure).
    #[arg(long, global = true, help_heading = CONNECTION)]
    pub insecure_skip_tls_verify: bool,
    /// Bearer token for authentication to the API server.
    #[arg(long, global = true, value_name = "TOKEN", help_heading = CONNECTION)]
    pub token: Option<String>,
    /// User to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER", help_heading = CONNECTION)]
    pub impersonate: Option<String>,
    /// Group to impersonate for the operation; repeat it for several groups.
    #[arg(long = "as-group", global = true, value_name = "GROUP", help_heading = CONNECTION)]
    pub impersonate_groups: Vec<String>,
    /// How long to wait for one request: 0 (no limit), seconds, or e.g. 1s, 2m, 3h.
    #[arg(long, global = true, value_name = "DURATION", help_heading = CONNECTION, value_parser = parse_request_timeout)]
    pub request_timeout: Option<RequestTimeout>,
}

/// A parsed `--request-timeout` (`None` inside: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<std::time::Duration>);

fn parse_request_timeout(text: &str) -> Result<RequestTimeout, String> {
    crate::connect::parse_timeout(text)
        .map(RequestTimeout)
        .map_err(|e| e.to_string())
}

impl ClientArgs {
    /// The connection flags, as [`crate::connect`] applies them.
    pub fn overrides(&self) -> crate::connect::Overrides {
        crate::connect::Overrides {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            server: self.server.clone(),
            certificate_authority: self.certificate_authority.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            token: self.token.clone(),
            impersonate: self.impersonate.clone(),
            impersonate_groups: self.impersonate_groups.clone(),
            request_timeout: self.request_timeout.and_then(|t| t.0),
        }
    }
}

/// The verbs.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Show ExtendedDaemonSets: all of the namespace, or the one named.
    Get(GetArgs),
    /// Show ExtendedDaemonSetReplicaSets: all of the namespace, or the one named.
    GetErs(GetArgs),
    /// List the pods of an ExtendedDaemonSet: its canary pods or its pods that are not ready.
    Pods(PodsArgs),
    /// Show a unified diff of the active and the canary pod templates.
    Diff(EdsArgs),
    /// Control the canary deployment of an ExtendedDaemonSet.
    #[command(subcommand)]
    Canary(CanaryCommand),
    /// Pause the rolling update: no more pod deletions; new nodes still get pods.
    PauseRollingUpdate(EdsArgs),
    /// Resume a paused rolling update.
    UnpauseRollingUpdate(EdsArgs),
    /// Freeze the rollout: no pod is created or deleted, not even on new nodes.
    FreezeRollout(EdsArgs),
    /// Unfreeze a frozen rollout.
    UnfreezeRollout(EdsArgs),
    /// Inspect and undo rollouts: revision history, rollback, progress.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Print a shell completion script.
    Completion(CompletionArgs),
    #[command(about = crate::cli::plan::ABOUT, long_about = crate::cli::plan::LONG_ABOUT)]
    Plan(Box<crate::cli::PlanArgs>),
}

/// Arguments of `get` and `get-ers`.
#[derive(Args, Debug, Clone)]
pub struct GetArgs {
    /// Name of the object to show (default: all of the namespace).
    pub name: Option<String>,
    /// List the objects of every namespace.
    #[arg(short = 'A', long, conflicts_with = "name")]
    pub all_namespaces: bool,
    /// Output format (default: a table).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// Output formats of the listing verbs.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A table with more columns.
    Wide,
    /// The objects as YAML (managedFields hidden).
    Yaml,
    /// The objects as JSON (managedFields hidden).
    Json,
}

/// Arguments of verbs that act on one ExtendedDaemonSet.
#[derive(Args, Debug, Clone)]
pub struct EdsArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
}

/// Arguments of `pods`.
#[derive(Args, Debug, Clone)]
pub struct PodsArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Which pods to list.
    #[arg(long, value_enum)]
    pub select: PodSelection,
    /// Output format (default: a table).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// Pod sets `pods --select` can list.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSelection {
    /// The pods of the canary ExtendedDaemonSetReplicaSet.
    Canary,
    /// The pods that are not running or not ready.
    NotReady,
}

/// `canary` verbs.
#[derive(Subcommand, Debug, Clone)]
pub enum CanaryCommand {
    /// Validate the canary now: promote its template to every node.
    Validate(EdsArgs),
    /// Pause the canary: nothing is promoted or rolled out until it is unpaused.
    Pause(CanaryPauseArgs),
    /// Unpause the canary, also when it was paused automatically.
    Unpause(EdsArgs),
    /// Fail the canary: its template is rejected and the canary nodes go back to the active one.
    Fail(EdsArgs),
    /// List the canary pods with their status and restart counts.
    Pods(CanaryPodsArgs),
}

/// Arguments of `canary pause`.
#[derive(Args, Debug, Clone)]
pub struct CanaryPauseArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Why the canary is paused, recorded on the ExtendedDaemonSet.
    #[arg(long, default_value = eds_api::constants::reason::MANUAL)]
    pub reason: String,
}

/// Arguments of `canary pods`.
#[derive(Args, Debug, Clone)]
pub struct CanaryPodsArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Output format (default: a table).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// `rollout` verbs.
#[derive(Subcommand, Debug, Clone)]
pub enum RolloutCommand {
    /// List the revisions (ExtendedDaemonSetReplicaSets) of an ExtendedDaemonSet.
    History(HistoryArgs),
    /// Roll back: write a revision's pod template into the ExtendedDaemonSet.
    Undo(UndoArgs),
    /// Show the rollout's progress and wait until it is done (--watch=false: check once).
    Status(StatusArgs),
}

/// Arguments of `rollout history`.
#[derive(Args, Debug, Clone)]
pub struct HistoryArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Print the pod template of this revision as YAML.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_revision)]
    pub revision: Option<u64>,
}

/// Arguments of `rollout undo`.
#[derive(Args, Debug, Clone)]
pub struct UndoArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Revision to roll back to (default: the one before the current revision).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_revision)]
    pub to_revision: Option<u64>,
}

/// Arguments of `rollout status`.
#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Exits 0 when the rollout is done (or, with --watch=false, still in progress), \
1 when it failed (canary failed, auto-paused, Stalled condition) or --timeout ran out, 2 on \
errors. A pause a user asked for (canary pause, pause-rolling-update, freeze-rollout) is not a \
failure: it waits. See docs/status.md."
)]
pub struct StatusArgs {
    /// Name of the ExtendedDaemonSet.
    pub name: String,
    /// Wait until the rollout is done or failed, showing its progress (the default);
    /// --watch=false prints where it stands and exits.
    #[arg(
        short = 'w',
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub watch: bool,
    /// Give up waiting after this long (e.g. 30s, 5m; default: wait forever).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<Duration>,
}

/// Arguments of `completion`.
#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// Shell to print the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
