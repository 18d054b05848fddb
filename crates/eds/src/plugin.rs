//! The `kubectl eds` plugin (binary `kubectl-eds`): upstream's verbs (`get`, `get-ers`, `pods`,
//! `diff`, `canary ...`, rolling-update pause and freeze) plus `rollout history|undo|status`.
//!
//! Each verb group has its module; rendering is pure (objects in, text out) so tables and
//! messages are tested without a cluster, and [`run`] wires a parsed [`Cli`] to a client.

pub mod annotate;
pub mod canary;
pub mod cli;
pub mod client;
pub mod complete;
pub mod diff;
pub mod error;
pub mod get;
pub mod output;
pub mod pods;
pub mod rolling;
pub mod rollout;
pub mod table;
#[cfg(test)]
mod testing;

use std::io::Write;

use clap::CommandFactory;
use kube::Client;

pub use cli::{Cli, Command};
pub use error::{EXIT_ERROR, EXIT_FAILURE, EXIT_OK, Error, ObjectRef, Result};

use cli::{CanaryCommand, ClientArgs, PodSelection, RolloutCommand};

/// How the output may be decorated; the binary decides from whether it writes to a terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ui {
    /// Colour diffs with ANSI escapes.
    pub color: bool,
    /// Draw `rollout status --watch`'s progress bar on stderr.
    pub progress_bar: bool,
}

/// Runs one verb against the cluster of `client`, writing what it prints to `out`.
pub async fn run(cli: &Cli, client: &Client, ui: Ui, out: &mut (dyn Write + Send)) -> Result<()> {
    let ns = client::namespace(&cli.client, client);
    let ns = ns.as_str();
    let text = match &cli.command {
        Command::Get(args) => get::get(client, ns, args).await?,
        Command::GetErs(args) => get::get_ers(client, ns, args).await?,
        Command::Pods(args) => pods::pods(client, ns, &args.name, args.select, args.output).await?,
        Command::Diff(args) => {
            let (text, differ) = diff::diff(client, ns, &args.name, ui.color).await?;
            out.write_all(text.as_bytes())?;
            if differ {
                return Err(Error::TemplatesDiffer(ObjectRef::new(ns, &args.name)));
            }
            String::new()
        }
        Command::Canary(verb) => match verb {
            CanaryCommand::Validate(a) => {
                annotate::annotate(client, ns, &a.name, canary::validate).await?
            }
            CanaryCommand::Pause(a) => {
                annotate::annotate(client, ns, &a.name, |eds| canary::pause(eds, &a.reason)).await?
            }
            CanaryCommand::Unpause(a) => {
                annotate::annotate(client, ns, &a.name, canary::unpause).await?
            }
            CanaryCommand::Fail(a) => annotate::annotate(client, ns, &a.name, canary::fail).await?,
            CanaryCommand::Pods(a) => {
                pods::pods(client, ns, &a.name, PodSelection::Canary, a.output).await?
            }
        },
        Command::PauseRollingUpdate(a) => {
            annotate::annotate(client, ns, &a.name, rolling::pause_rolling_update).await?
        }
        Command::UnpauseRollingUpdate(a) => {
            annotate::annotate(client, ns, &a.name, rolling::unpause_rolling_update).await?
        }
        Command::FreezeRollout(a) => {
            annotate::annotate(client, ns, &a.name, rolling::freeze_rollout).await?
        }
        Command::UnfreezeRollout(a) => {
            annotate::annotate(client, ns, &a.name, rolling::unfreeze_rollout).await?
        }
        Command::Rollout(verb) => match verb {
            RolloutCommand::History(a) => {
                rollout::history::history(client, ns, &a.name, a.revision).await?
            }
            RolloutCommand::Undo(a) => {
                rollout::undo::undo(client, ns, &a.name, a.to_revision).await?
            }
            RolloutCommand::Status(a) => {
                let options = rollout::status::StatusOptions {
                    watch: a.watch,
                    timeout: a.timeout,
                    progress_bar: ui.progress_bar,
                };
                rollout::status::status(client, ns, &a.name, options, out).await?;
                String::new()
            }
        },
        Command::Completion(args) => completion(args.shell),
        // Planning has its own exit codes (1 = changes planned): the binary runs it with
        // `run_plan`, before a client is built.
        Command::Plan(_) => String::new(),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// Runs `kubectl eds plan` (the same command as `eds plan`): connection flags given before the
/// verb apply when the verb does not repeat them. Returns the process exit code, as
/// `kubectl diff`'s: 0 no changes, 1 changes planned, 2 error.
pub async fn run_plan(
    client: &ClientArgs,
    args: &crate::cli::PlanArgs,
    out: &mut impl Write,
) -> u8 {
    let mut args = args.clone();
    args.kubeconfig = args.kubeconfig.or_else(|| client.kubeconfig.clone());
    args.context = args.context.or_else(|| client.context.clone());
    args.namespace = args.namespace.or_else(|| client.namespace.clone());
    match crate::cli::run(args, out).await {
        Ok(status) => status.exit_code(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The completion script of `shell` for `kubectl-eds`.
pub fn completion(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    // Generated in memory: the generator panics on a write error (e.g. a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "kubectl-eds", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}
