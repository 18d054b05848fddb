//! `eds plan`: the proposed ExtendedDaemonSet planned against a cluster or a state file.
//!
//! Snapshot (cluster or `--state`) + the proposed object (`-f`) -> `plan()` -> render; with
//! `--full`, `plan::simulate` repeats the planner on a simulated clock until the rollout
//! converges. Nothing is written to the cluster.

mod args;
mod error;
mod input;
mod live;
mod pods;
mod proposal;

use std::{
    io::{IsTerminal, Write},
    path::Path,
};

use jiff::Timestamp;

pub use args::{ABOUT, EXIT_CODES, LONG_ABOUT, OutputFormat, PlanArgs};
pub use error::{ERROR_EXIT_CODE, Location, PlanError};
pub use live::{ClusterState, DRY_RUN_MANAGER};
pub use proposal::{Admission, MetadataMerge, merge};

use crate::render::{self, ObjectInput, PlanInput, SimulationInput, Source, TextOptions};
use eds_api::ExtendedDaemonSet;
use eds_plan::{
    Snapshot, StateObject, plan,
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
}

impl PlanStatus {
    /// The process exit code: 0 no changes, 1 changes planned (as `kubectl diff`).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::NoChanges | Self::StateWritten => 0,
            Self::Changes => 1,
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
    let proposed = input::proposal(filename)?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let file_namespace = proposed
        .value
        .pointer("/metadata/namespace")
        .and_then(|v| v.as_str());
    let namespace = match (file_namespace, args.namespace.as_deref()) {
        (Some(file), Some(flag)) if file != flag => {
            return Err(PlanError::NamespaceMismatch {
                file: file.into(),
                flag: flag.into(),
            });
        }
        (Some(ns), _) | (None, Some(ns)) => Some(ns.to_string()),
        (None, None) => None,
    };
    let prepared = match &args.state {
        Some(state) => offline(state, &proposed, namespace, now)?,
        None => live_state(&args, &proposed, namespace, now).await?,
    };
    let plan = plan(&prepared.snapshot, now);
    let current = pods::current(&prepared.snapshot, &plan);
    let target = pods::target(&prepared.snapshot, &plan, now);
    let ready_after = args.assume_ready_after.as_std();
    let simulation = args.full.then(|| {
        let options = SimulationOptions {
            ready_after,
            ..SimulationOptions::default()
        };
        simulate(prepared.snapshot.clone(), now, &options)
    });
    let eds = &prepared.snapshot.eds;
    let report = render::report(&PlanInput {
        namespace: eds.metadata.namespace.as_deref().unwrap_or("default"),
        name: eds.metadata.name.as_deref().unwrap_or_default(),
        source: prepared.source,
        planned_at: now,
        object: ObjectInput {
            before: prepared.before.as_ref(),
            after: &prepared.after,
        },
        plan: &plan,
        current_pods: &current,
        target_pods: &target,
        simulation: simulation.as_ref().map(|simulation| SimulationInput {
            simulation,
            ready_after,
        }),
    });
    match args.output {
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| PlanError::Serialize(e.to_string()))?;
            writeln!(out, "{text}")?;
        }
        OutputFormat::Text => {
            let color = terminal && !args.no_color;
            let options = TextOptions {
                color,
                ..TextOptions::default()
            };
            out.write_all(render::text(&report, options).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(if report.changes {
        PlanStatus::Changes
    } else {
        PlanStatus::NoChanges
    })
}

/// The snapshot to plan, and the object before and after.
struct Prepared {
    snapshot: Snapshot,
    before: Option<ExtendedDaemonSet>,
    after: ExtendedDaemonSet,
    source: Source,
}

/// Offline: the state file, with the proposed object admitted as the API server would.
fn offline(
    path: &Path,
    proposed: &input::Located,
    namespace: Option<String>,
    now: Timestamp,
) -> Result<Prepared, PlanError> {
    let mut objects = input::state(path)?;
    let name = proposed.name().to_string();
    let named = |o: &StateObject| match o {
        StateObject::Eds(e) if e.metadata.name.as_deref() == Some(name.as_str()) => Some(
            e.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
        ),
        _ => None,
    };
    let namespace = namespace.unwrap_or_else(|| {
        let found: Vec<String> = objects.iter().filter_map(named).collect();
        match found.as_slice() {
            [only] => only.clone(),
            _ => "default".into(),
        }
    });
    let admission = Admission::new();
    let after = admission.admit(proposed, &namespace)?;
    let mut stored = None;
    objects.retain(|o| match (o, named(o)) {
        (StateObject::Eds(e), Some(ns)) => {
            if ns == namespace {
                stored = Some(admission.default_stored(e));
            }
            false
        }
        _ => true,
    });
    let merged = merge(stored.as_ref(), after, MetadataMerge::Overlay, now);
    objects.push(StateObject::Eds(Box::new(merged.clone())));
    let snapshot =
        Snapshot::from_objects(objects, Some(&name)).map_err(|source| PlanError::State {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
    Ok(Prepared {
        snapshot,
        before: stored,
        after: merged,
        source: Source::State,
    })
}

/// Live: the cluster's state, with the proposed object from a server-side dry-run apply.
async fn live_state(
    args: &PlanArgs,
    proposed: &input::Located,
    namespace: Option<String>,
    now: Timestamp,
) -> Result<Prepared, PlanError> {
    let client = live::client(args).await?;
    let namespace = namespace.unwrap_or_else(|| client.default_namespace().to_string());
    let name = proposed.name().to_string();
    if name.is_empty() {
        return Err(PlanError::InvalidSpec {
            at: proposed.at.clone(),
            name,
            causes: vec!["metadata.name: Required value".into()],
        });
    }
    let state = live::read(&client, &namespace, &name).await?;
    let applied = live::dry_run_apply(&client, &namespace, &name, &proposed.value).await?;
    let before = state.eds.clone();
    let merged = merge(
        before.as_ref(),
        applied.clone(),
        MetadataMerge::Replace,
        now,
    );
    let mut objects = live::ClusterState { eds: None, ..state }.into_objects();
    objects.push(StateObject::Eds(Box::new(merged)));
    let snapshot = Snapshot::from_objects(objects, Some(&name))
        .map_err(|e| PlanError::Snapshot(Box::new(e)))?;
    Ok(Prepared {
        snapshot,
        before,
        after: applied,
        source: Source::Cluster,
    })
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
