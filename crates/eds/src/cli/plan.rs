//! `eds plan`: the proposed ExtendedDaemonSet planned against a cluster or a state file.
//!
//! Snapshot (cluster or `--state`) + the proposed object (`-f`) -> `plan()` -> render; with
//! `--full`, `plan::simulate` repeats the planner on a simulated clock until the rollout
//! converges. Nothing is written to the cluster.

mod apply;
mod args;
mod error;
mod input;
mod live;
mod pods;
mod prepare;
mod proposal;
mod sections;

use std::io::{IsTerminal, Write};

use jiff::Timestamp;

pub use apply::{ApplyMode, LAST_APPLIED, merge_patch, three_way_patch};
pub use args::{ABOUT, EXIT_CODES, LONG_ABOUT, OutputFormat, PlanArgs};
pub use error::{ERROR_EXIT_CODE, Location, PlanError};
pub use live::ClusterState;
pub use proposal::{Admission, MetadataMerge, merge};
pub use sections::{LIST_KIND, PlanList, SectionError, Skipped};

use crate::render::{self, ObjectInput, PlanInput, PlanReport, SimulationInput, TextOptions};
use eds_plan::{
    plan,
    simulate::{SimulationOptions, simulate},
};

/// How `eds plan` ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanStatus {
    /// Nothing would change (exit code 0).
    NoChanges,
    /// Changes are planned (exit code 1).
    Changes,
    /// `--dump-state` wrote the state (exit code 0).
    StateWritten,
    /// Of several ExtendedDaemonSets, at least one could not be planned; its section of the
    /// output says why (exit code 2).
    SomeFailed,
}

impl PlanStatus {
    /// The process exit code: 0 no changes, 1 changes planned (as `kubectl diff`).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::NoChanges | Self::StateWritten => 0,
            Self::Changes => 1,
            Self::SomeFailed => ERROR_EXIT_CODE,
        }
    }
}

/// The process exit code of an `eds plan` run: 0 no changes, 1 changes, 2 error.
pub fn exit_code(result: &Result<PlanStatus, PlanError>) -> u8 {
    match result {
        Ok(status) => status.exit_code(),
        Err(e) => e.exit_code(),
    }
}

/// Runs `eds plan`, writing the plan (or the state, with `--dump-state`) to `out`. The text is
/// coloured when standard output is a terminal, unless `--no-color` or `NO_COLOR` is set.
pub async fn run(args: PlanArgs, out: &mut impl Write) -> Result<PlanStatus, PlanError> {
    let terminal = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    run_with(args, out, terminal).await
}

/// [`run`], told whether `out` is a terminal that takes colour (colour is used only then,
/// unless `--no-color`).
///
/// Every ExtendedDaemonSet of `-f` is planned on its own; with one ExtendedDaemonSet and
/// nothing else in the file the output is that plan alone (and its error, if it fails),
/// otherwise one section per ExtendedDaemonSet, the skipped objects and a summary, and the exit
/// code is the highest of the sections'.
pub async fn run_with(
    args: PlanArgs,
    out: &mut impl Write,
    terminal: bool,
) -> Result<PlanStatus, PlanError> {
    if args.dump_state {
        return dump_state(&args, out).await;
    }
    let Some(filename) = args.filename.as_deref() else {
        return Err(PlanError::Usage(
            "-f/--filename is required (or --dump-state NAME)".into(),
        ));
    };
    let proposals = input::proposals(filename)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let source = match &args.state {
        Some(path) => prepare::Source::State(path, input::state(path)?),
        None => prepare::Source::Cluster(live::client(&args).await?),
    };
    let mut sections = Vec::new();
    for proposed in &proposals.eds {
        let section = match prepare::prepare(&args, &source, proposed, now).await {
            Ok(prepared) => Ok(report_of(&args, &prepared, now)),
            Err(e) => Err(e),
        };
        sections.push((proposed, section));
    }
    let color = terminal && !args.no_color;
    if sections.len() == 1 && proposals.skipped.is_empty() {
        let (_, only) = sections.pop().expect("one section");
        let report = only?;
        write_one(&args, &report, color, out)?;
        return Ok(status_of(&report));
    }
    sections::write(&args, &sections, &proposals.skipped, color, out)
}

/// The plan of one prepared ExtendedDaemonSet.
fn report_of(args: &PlanArgs, prepared: &prepare::Prepared, now: Timestamp) -> PlanReport {
    let plan = plan(&prepared.snapshot, now);
    let current = pods::current(&prepared.snapshot, &plan);
    let mut target = pods::target(&prepared.snapshot, &plan, now);
    pods::keep_current(&plan, &current, &mut target);
    let ers_metadata_only = pods::metadata_only_ers(&prepared.snapshot, &plan);
    let ready_after = args.assume_ready_after.as_std();
    let simulation = args.full.then(|| {
        let options = SimulationOptions {
            ready_after,
            ..SimulationOptions::default()
        };
        simulate(prepared.snapshot.clone(), now, &options)
    });
    let eds = &prepared.snapshot.eds;
    render::report(&PlanInput {
        namespace: eds.metadata.namespace.as_deref().unwrap_or("default"),
        name: eds.metadata.name.as_deref().unwrap_or_default(),
        source: prepared.source,
        planned_at: now,
        object: ObjectInput {
            before: prepared.before.as_ref(),
            after: &prepared.after,
            as_written: prepared
                .as_written
                .as_ref()
                .map(|(before, after)| (before.as_ref(), after)),
        },
        plan: &plan,
        current_pods: &current,
        target_pods: &target,
        simulation: simulation.as_ref().map(|simulation| SimulationInput {
            simulation,
            ready_after,
        }),
        ers_metadata_only: &ers_metadata_only,
    })
}

fn status_of(report: &PlanReport) -> PlanStatus {
    if report.changes {
        PlanStatus::Changes
    } else {
        PlanStatus::NoChanges
    }
}

/// Writes one plan as text or JSON.
fn write_one(
    args: &PlanArgs,
    report: &PlanReport,
    color: bool,
    out: &mut impl Write,
) -> Result<(), PlanError> {
    match args.output {
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(report)
                .map_err(|e| PlanError::Serialize(e.to_string()))?;
            writeln!(out, "{text}")?;
        }
        OutputFormat::Text => {
            let options = TextOptions {
                color,
                ..TextOptions::default()
            };
            out.write_all(render::text(report, options).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `--dump-state NAME`: the state of one ExtendedDaemonSet as a YAML List.
async fn dump_state(args: &PlanArgs, out: &mut impl Write) -> Result<PlanStatus, PlanError> {
    let Some(name) = args.name.as_deref() else {
        return Err(PlanError::Usage(
            "--dump-state needs the ExtendedDaemonSet NAME".into(),
        ));
    };
    let client = live::client(args).await?;
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string());
    let state = live::read(&client, &namespace, name).await?;
    if state.eds.is_none() {
        return Err(PlanError::NotFound {
            namespace,
            name: name.into(),
        });
    }
    out.write_all(state.to_yaml()?.as_bytes())?;
    out.flush()?;
    Ok(PlanStatus::StateWritten)
}
