//! The text output of `eds plan`: object diff, pod diffs, per-node table, budget, waves.

use std::fmt::Write as _;

use super::{
    diff::{ansi, colorize},
    report::{ActionKind, ChangeKind, PlanReport, PodChange, SimulationEnd, WaveReport},
    table::{budget_line, dash, duration, names, node_table, table},
};

/// How the text is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colours (for a terminal).
    pub color: bool,
    /// Most node names listed inline (pod change groups, waves) before `and N more`.
    pub max_listed_nodes: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            color: false,
            max_listed_nodes: 10,
        }
    }
}

/// The report as text.
pub fn text(report: &PlanReport, options: TextOptions) -> String {
    let mut out = String::new();
    let title = |out: &mut String, s: &str| {
        if options.color {
            let _ = writeln!(out, "{}{s}{}", ansi::BOLD, ansi::RESET);
        } else {
            let _ = writeln!(out, "{s}");
        }
    };
    let diff = |out: &mut String, d: &str| {
        out.push_str(&if options.color {
            colorize(d)
        } else {
            d.to_string()
        })
    };
    let eds = format!("{}/{}", report.eds.namespace, report.eds.name);
    let object = match report.object.change {
        ChangeKind::Create => "new object",
        ChangeKind::Update => "changed",
        ChangeKind::Delete => "deleted",
        ChangeKind::None => "unchanged",
    };
    title(&mut out, &format!("ExtendedDaemonSet {eds}: {object}"));
    diff(&mut out, &report.object.diff);
    let _ = match &report.current_revision {
        Some(c) if *c == report.target_revision => {
            writeln!(out, "Revision: {c} (unchanged)")
        }
        Some(c) => writeln!(out, "Revision: {c} -> {}", report.target_revision),
        None => writeln!(out, "Revision: {} (first)", report.target_revision),
    };
    out.push('\n');
    let changed_nodes: usize = report.pod_changes.iter().map(|c| c.nodes.len()).sum();
    match report.pod_changes.len() {
        0 => title(&mut out, "Pod changes: none"),
        n => title(
            &mut out,
            &format!(
                "Pod changes: {n} distinct change{} on {changed_nodes} node{}",
                plural(n),
                plural(changed_nodes)
            ),
        ),
    }
    for (i, change) in report.pod_changes.iter().enumerate() {
        out.push('\n');
        let _ = writeln!(
            out,
            "[{}/{}] {}",
            i + 1,
            report.pod_changes.len(),
            group_title(change, options.max_listed_nodes)
        );
        diff(&mut out, &change.diff);
    }
    out.push('\n');
    title(&mut out, "Nodes:");
    out.push_str(&node_table(&report.actions));
    out.push('\n');
    out.push_str(&budget_line(&report.budget));
    out.push('\n');
    match &report.simulation {
        None => {
            title(
                &mut out,
                "Waves (estimated from this step; --full simulates the whole rollout):",
            );
            let pending = report.changes;
            out.push_str(&estimated_waves(
                &report.waves,
                pending,
                options.max_listed_nodes,
            ));
        }
        Some(sim) => {
            title(
                &mut out,
                &format!(
                    "Rollout (simulated, pods ready {} after creation):",
                    duration(sim.assume_ready_after_seconds)
                ),
            );
            out.push_str(&simulated_waves(&report.waves, options.max_listed_nodes));
            if let Some(c) = &sim.canary {
                let _ = writeln!(
                    out,
                    "Canary phase: waves {}-{}, {} to {}",
                    c.first_wave,
                    c.last_wave,
                    duration(c.start_seconds),
                    duration(c.end_seconds)
                );
            }
            let end = match (sim.end, &sim.stalled_reason) {
                (SimulationEnd::Converged, _) => "converged".to_string(),
                (SimulationEnd::Stalled, Some(r)) => format!("stalled: {r}"),
                (SimulationEnd::Stalled, None) => "stalled".to_string(),
                (SimulationEnd::StepLimit, _) => {
                    format!("did not settle within {} simulated steps", sim.steps)
                }
            };
            let _ = writeln!(
                out,
                "Estimated duration: {} ({end})",
                duration(sim.estimated_duration_seconds)
            );
        }
    }
    out.push('\n');
    out.push_str(&summary(report));
    out
}

fn group_title(change: &PodChange, max: usize) -> String {
    let verb = match change.change {
        ChangeKind::Create => "create",
        ChangeKind::Delete => "delete",
        ChangeKind::Update | ChangeKind::None => "update",
    };
    let n = change.nodes.len();
    format!(
        "{verb} on {n} node{}: {}",
        plural(n),
        names(&change.nodes, max)
    )
}

fn estimated_waves(waves: &[WaveReport], pending: bool, max: usize) -> String {
    match (waves.is_empty(), pending) {
        (true, true) => return "(no estimate at this step; --full simulates the rollout)\n".into(),
        (true, false) => return "(nothing pending)\n".into(),
        _ => {}
    }
    let rows: Vec<Vec<String>> = waves
        .iter()
        .map(|w| {
            vec![
                w.wave.to_string(),
                w.nodes.len().to_string(),
                wave_nodes(w, max),
            ]
        })
        .collect();
    table(&["WAVE", "COUNT", "NODES"], &rows)
}

fn simulated_waves(waves: &[WaveReport], max: usize) -> String {
    if waves.is_empty() {
        return "(nothing to do)\n".into();
    }
    let rows: Vec<Vec<String>> = waves
        .iter()
        .map(|w| {
            vec![
                w.wave.to_string(),
                duration(w.elapsed_seconds.unwrap_or(0)),
                dash(w.state.as_deref()),
                w.created.len().to_string(),
                w.deleted.len().to_string(),
                wave_nodes(w, max),
            ]
        })
        .collect();
    table(
        &["WAVE", "AT", "STATE", "CREATED", "DELETED", "NODES"],
        &rows,
    )
}

/// The nodes of a wave; a wave that only writes ERSs says so.
fn wave_nodes(w: &WaveReport, max: usize) -> String {
    if !w.nodes.is_empty() {
        return names(&w.nodes, max);
    }
    let mut parts = Vec::new();
    if !w.ers_applied.is_empty() {
        parts.push(format!("(ERS {} applied)", w.ers_applied.join(", ")));
    }
    if !w.ers_deleted.is_empty() {
        parts.push(format!("(ERS {} deleted)", w.ers_deleted.join(", ")));
    }
    parts.join(" ")
}

fn summary(report: &PlanReport) -> String {
    if !report.changes {
        return "No changes: the ExtendedDaemonSet and its pods already match.\n".into();
    }
    let count = |k: ActionKind| report.actions.iter().filter(|a| a.action == k).count();
    let (create, replace, delete) = (
        count(ActionKind::Create),
        count(ActionKind::Replace),
        count(ActionKind::Delete),
    );
    let now = create + replace + delete;
    let acting: std::collections::BTreeSet<&str> = report
        .actions
        .iter()
        .filter(|a| {
            matches!(
                a.action,
                ActionKind::Create | ActionKind::Replace | ActionKind::Delete
            )
        })
        .map(|a| a.node.as_str())
        .collect();
    let later = report
        .pod_changes
        .iter()
        .flat_map(|c| &c.nodes)
        .filter(|n| !acting.contains(n.as_str()))
        .count();
    format!(
        "Plan: {now} node{} change now ({create} create, {replace} replace, {delete} delete), {} wait, {} keep, {} skip; {later} node{} change later in the rollout.\n",
        plural(now),
        count(ActionKind::Wait),
        count(ActionKind::Keep),
        count(ActionKind::Skip),
        plural(later),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
