//! The waves of a rollout: estimated from one plan's per-node waves, or simulated (`--full`).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{
    SimulationInput, pod_node,
    report::{NodePod, PhaseSpan, SimulationEnd, SimulationReport, WaveReport},
};
use eds_api::constants::state;
use eds_plan::{Plan, simulate::End};

/// Waves as this plan estimates them: wave 0 is what the plan does now (with its pods), later
/// waves list the nodes whose turn is estimated to come at that step.
pub fn estimated(plan: &Plan) -> Vec<WaveReport> {
    let mut nodes: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for n in &plan.nodes {
        if let Some(w) = n.wave {
            nodes.entry(w).or_default().insert(n.node.to_string());
        }
    }
    let created: Vec<NodePod> = plan
        .pod_creates
        .iter()
        .filter_map(|p| {
            Some(NodePod {
                node: pod_node(p)?.to_string(),
                pod: p.metadata.name.clone()?,
            })
        })
        .collect();
    let deleted: Vec<NodePod> = plan
        .pod_deletes
        .iter()
        .filter_map(|d| {
            Some(NodePod {
                node: d.node.clone()?,
                pod: d.name.clone(),
            })
        })
        .collect();
    let ers_applied: Vec<String> = plan
        .ers_applies
        .iter()
        .filter_map(|e| e.metadata.name.clone())
        .collect();
    let ers_deleted: Vec<String> = plan.ers_deletes.iter().map(|e| e.name.clone()).collect();
    if !created.is_empty() || !deleted.is_empty() || !ers_applied.is_empty() {
        let first = nodes.entry(0).or_default();
        first.extend(created.iter().chain(&deleted).map(|p| p.node.clone()));
    }
    nodes
        .into_iter()
        .map(|(wave, nodes)| {
            let now = wave == 0;
            WaveReport {
                wave,
                elapsed_seconds: None,
                state: None,
                canary: false,
                nodes: nodes.into_iter().collect(),
                created: if now { sorted(created.clone()) } else { vec![] },
                deleted: if now { sorted(deleted.clone()) } else { vec![] },
                ers_applied: if now { ers_applied.clone() } else { vec![] },
                ers_deleted: if now { ers_deleted.clone() } else { vec![] },
            }
        })
        .collect()
}

/// Waves of a simulated rollout and its summary.
pub fn simulated(
    input: SimulationInput<'_>,
    started_at: Timestamp,
) -> (Vec<WaveReport>, Option<SimulationReport>) {
    let sim = input.simulation;
    let pairs = |list: &[(String, String)]| {
        sorted(
            list.iter()
                .map(|(node, pod)| NodePod {
                    node: node.clone(),
                    pod: pod.clone(),
                })
                .collect(),
        )
    };
    let waves: Vec<WaveReport> = sim
        .waves
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let created = pairs(&w.created);
            let deleted = pairs(&w.deleted);
            let nodes: BTreeSet<String> = created
                .iter()
                .chain(&deleted)
                .map(|p| p.node.clone())
                .collect();
            WaveReport {
                wave: u32::try_from(i).unwrap_or(u32::MAX),
                elapsed_seconds: Some(w.elapsed_secs),
                canary: w.state.as_deref().is_some_and(is_canary_state),
                state: w.state.clone(),
                nodes: nodes.into_iter().collect(),
                created,
                deleted,
                ers_applied: w.ers_applied.clone(),
                ers_deleted: w.ers_deleted.clone(),
            }
        })
        .collect();
    let waves = merge_replacements(waves);
    let canary = canary_span(&waves);
    let (end, stalled_reason) = match &sim.end {
        End::Converged => (SimulationEnd::Converged, None),
        End::Stalled(reason) => (SimulationEnd::Stalled, Some(reason.clone())),
        End::StepLimit => (SimulationEnd::StepLimit, None),
    };
    let duration = sim.finished_at.duration_since(started_at).as_secs();
    let summary = SimulationReport {
        assume_ready_after_seconds: input.ready_after.as_secs(),
        converged: sim.converged(),
        end,
        stalled_reason,
        steps: sim.steps,
        estimated_duration_seconds: u64::try_from(duration).unwrap_or(0),
        canary,
    };
    (waves, Some(summary))
}

/// A replacement is one wave: the simulation deletes a node's old pod in one step and creates
/// its new pod in a later one (when the old pod is gone); the creation is shown in the wave of
/// the deletion, and waves left empty are dropped and the rest renumbered.
fn merge_replacements(mut waves: Vec<WaveReport>) -> Vec<WaveReport> {
    // Node -> index of the wave that deleted its pod, while no pod has been created since.
    let mut deleted_in: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..waves.len() {
        let created = std::mem::take(&mut waves[i].created);
        let mut kept = Vec::new();
        for pod in created {
            match deleted_in.remove(&pod.node) {
                Some(j) if j < i => waves[j].created.push(pod),
                _ => kept.push(pod),
            }
        }
        waves[i].created = kept;
        for pod in &waves[i].deleted {
            deleted_in.insert(pod.node.clone(), i);
        }
    }
    let mut out: Vec<WaveReport> = waves
        .into_iter()
        .filter(|w| {
            !(w.created.is_empty()
                && w.deleted.is_empty()
                && w.ers_applied.is_empty()
                && w.ers_deleted.is_empty())
        })
        .collect();
    for (i, w) in out.iter_mut().enumerate() {
        w.wave = u32::try_from(i).unwrap_or(u32::MAX);
        w.created.sort();
        let nodes: BTreeSet<String> = w
            .created
            .iter()
            .chain(&w.deleted)
            .map(|p| p.node.clone())
            .collect();
        w.nodes = nodes.into_iter().collect();
    }
    out
}

/// Each node's first wave of a simulated rollout and its simulated seconds from the start.
pub fn node_waves(waves: &[WaveReport]) -> BTreeMap<String, (u32, u64)> {
    let mut out = BTreeMap::new();
    for w in waves {
        for node in &w.nodes {
            out.entry(node.clone())
                .or_insert((w.wave, w.elapsed_seconds.unwrap_or(0)));
        }
    }
    out
}

/// `status.state` values of the canary phase.
fn is_canary_state(s: &str) -> bool {
    [state::CANARY, state::CANARY_PAUSED, state::CANARY_FAILED].contains(&s)
}

fn canary_span(waves: &[WaveReport]) -> Option<PhaseSpan> {
    let first = waves.iter().position(|w| w.canary)?;
    let last = waves.iter().rposition(|w| w.canary)?;
    let end = waves
        .get(last + 1)
        .unwrap_or(&waves[last])
        .elapsed_seconds
        .unwrap_or(0);
    Some(PhaseSpan {
        first_wave: waves[first].wave,
        last_wave: waves[last].wave,
        start_seconds: waves[first].elapsed_seconds.unwrap_or(0),
        end_seconds: end,
    })
}

fn sorted(mut pods: Vec<NodePod>) -> Vec<NodePod> {
    pods.sort();
    pods
}
