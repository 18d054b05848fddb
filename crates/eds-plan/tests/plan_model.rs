//! State-machine test of the planner: random sequences of what users type and clusters do
//! (templates good, crash-looping or with a bad image, every `kubectl eds` steering command
//! and upstream's forms of them, freeze and pauses, rollout undo, nodes added, removed and
//! cordoned, pods crashing, controller restarts), each followed by plans applied to a model
//! cluster on a simulated clock. The safety rules are checked after every plan, and the
//! rollout must converge at the end when the last template is good and nothing holds it.
//!
//! `PROPTEST_CASES=10000 cargo test -p eds-plan --test plan_model` runs a longer search.

mod model;

use std::collections::{BTreeMap, BTreeSet};

use eds_api::{
    Condition, ExtendedDaemonSetStatus,
    constants::{condition_type, keys, reason},
};
use eds_plan::{
    Plan,
    simulate::{End, SimulationOptions, simulate},
    testing::{eds, node_of},
};
use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::util::intstr::IntOrString};
use model::{Cmd, Model, PAUSE_REASON, Tpl, cmd};
use proptest::prelude::*;

/// What the model knows before a plan, to judge it.
struct Before {
    active: String,
    /// The canary was paused or failed (whatever `status.state` shows, e.g. when frozen).
    stopped: bool,
    available: BTreeSet<String>,
    canary_nodes: BTreeSet<String>,
    canary_pods: BTreeSet<String>,
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn before(m: &Model) -> Before {
    let status = m.sc.snapshot.eds.status.clone().unwrap_or_default();
    let pods = &m.sc.snapshot.pods;
    Before {
        active: status.active_replica_set.clone(),
        stopped: stopped(&status),
        available: pods
            .iter()
            .filter(|p| ready(p))
            .filter_map(|p| node_of(p))
            .collect(),
        canary_nodes: status
            .canary
            .map(|c| c.nodes.into_iter().collect())
            .unwrap_or_default(),
        canary_pods: pods
            .iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.get(keys::CANARY_LABEL).is_some_and(|v| v == "true"))
            })
            .filter_map(|p| p.metadata.name.clone())
            .collect(),
    }
}

/// The canary is paused or failed: its condition on the ExtendedDaemonSet, which holds
/// whatever `status.state` shows.
fn stopped(status: &ExtendedDaemonSetStatus) -> bool {
    condition(status, condition_type::CANARY_PAUSED).is_some()
        || condition(status, condition_type::CANARY_FAILED).is_some()
}

fn condition<'a>(status: &'a ExtendedDaemonSetStatus, type_: &str) -> Option<&'a Condition> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

struct Limits {
    max_unavailable: usize,
    canary: usize,
}

/// The safety rules, for one plan made from the state `b` describes.
fn check(m: &Model, b: &Before, plan: &Plan, lim: &Limits) -> Result<(), TestCaseError> {
    let status = &plan.eds_status;
    let target = &plan.target_revision;
    // The canary never exceeds its size.
    let canary_nodes: BTreeSet<String> = status
        .canary
        .as_ref()
        .map(|c| c.nodes.iter().cloned().collect())
        .unwrap_or_default();
    prop_assert!(canary_nodes.len() <= lim.canary, "canary {canary_nodes:?}");
    // Unavailable nodes, outside canary nodes, within maxUnavailable.
    let runs: BTreeSet<&str> = plan
        .nodes
        .iter()
        .filter(|n| n.target_revision.is_some())
        .map(|n| n.node.as_str())
        .collect();
    let exempt = |n: &str| canary_nodes.contains(n) || b.canary_nodes.contains(n);
    let deleted_available: BTreeSet<String> = plan
        .pod_deletes
        .iter()
        .filter(|d| !b.canary_pods.contains(&d.name))
        .filter_map(|d| d.node.clone())
        .filter(|n| runs.contains(n.as_str()) && !exempt(n) && b.available.contains(n))
        .collect();
    let unavailable = runs
        .iter()
        .filter(|n| !exempt(n) && !b.available.contains(**n))
        .count();
    prop_assert!(
        deleted_available.is_empty()
            || unavailable + deleted_available.len() <= lim.max_unavailable,
        "deleted available pods on {deleted_available:?} with {unavailable} node(s) already \
         unavailable, maxUnavailable {}",
        lim.max_unavailable
    );
    // A paused or failed canary, or a template that cannot run, is never promoted without
    // canary-valid (or, for a pause, canary-unpaused).
    let promoted =
        !b.active.is_empty() && b.active != *target && status.active_replica_set == *target;
    if promoted && !m.app.validated {
        // An unpaused canary goes on, and may be promoted by time as soon as it is unpaused.
        prop_assert!(
            !b.stopped || m.app.unpaused,
            "a paused or failed canary was promoted"
        );
        prop_assert_eq!(m.app.tpl, Some(Tpl::Good), "a broken template was promoted");
    }
    // Manual outcomes only follow the matching command, given for this template.
    let failed_by_hand = status
        .rejected_revision
        .as_ref()
        .is_some_and(|r| r.replica_set == *target && r.reason.as_deref() == Some(reason::MANUAL));
    if failed_by_hand {
        prop_assert!(
            m.app.failed,
            "canary failed by a command given for another template"
        );
    }
    let paused_by_hand = condition(status, condition_type::CANARY_PAUSED)
        .is_some_and(|c| c.reason.as_deref() == Some(PAUSE_REASON));
    if paused_by_hand {
        prop_assert!(
            m.app.paused,
            "canary paused by a command given for another template"
        );
    }
    // Auto-pause and auto-fail are active for every new template: a canary pod that cannot
    // run stops the canary, unless this canary was unpaused or validated.
    let in_canary = status
        .canary
        .as_ref()
        .is_some_and(|c| c.replica_set == *target);
    let broken_canary_pod = m.sc.snapshot.pods.iter().any(|p| {
        p.metadata.deletion_timestamp.is_none()
            && b.canary_pods
                .contains(p.metadata.name.as_deref().unwrap_or_default())
            && p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(keys::ERS_NAME_LABEL))
                == Some(target)
            && model::restarts(p) > 2
    });
    if in_canary && broken_canary_pod && !m.app.unpaused && !m.app.validated {
        prop_assert!(
            stopped(status),
            "a canary pod restarted 3+ times and the canary goes on: {:?}",
            status.state
        );
    }
    if in_canary && matches!(m.app.tpl, Some(Tpl::Bad)) && !m.app.unpaused && !m.app.validated {
        let pulling = m.sc.snapshot.pods.iter().any(|p| {
            b.canary_pods
                .contains(p.metadata.name.as_deref().unwrap_or_default())
                && p.metadata.deletion_timestamp.is_none()
                && p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(keys::ERS_NAME_LABEL))
                    == Some(target)
                && p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some()
        });
        if pulling {
            prop_assert!(
                stopped(status),
                "a canary pod cannot pull its image and the canary goes on: {:?}",
                status.state
            );
        }
    }
    Ok(())
}

/// After the plan is applied: one pod per node, terminating ones included (maxSurge is 0),
/// and the spec as the user left it.
fn check_applied(m: &Model, spec_before: &serde_json::Value) -> Result<(), TestCaseError> {
    let mut per_node: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in &m.sc.snapshot.pods {
        if let Some(n) = node_of(p) {
            per_node
                .entry(n)
                .or_default()
                .push(p.metadata.name.as_deref().unwrap_or_default());
        }
    }
    for (n, pods) in &per_node {
        prop_assert!(pods.len() <= 1, "node {n} has pods {pods:?}");
    }
    let spec = serde_json::to_value(&m.sc.snapshot.eds.spec).unwrap();
    prop_assert_eq!(&spec, spec_before, "the spec was written");
    Ok(())
}

fn run_case(nodes: usize, max_unavailable: i32, cmds: &[Cmd]) -> Result<(), TestCaseError> {
    let sc = eds("model")
        .canary(1)
        .canary_durations("1m", "30s")
        .canary_with(|c| {
            let pause = c.auto_pause.get_or_insert_with(Default::default);
            pause.enabled = Some(true);
            pause.max_restarts = Some(2);
            let fail = c.auto_fail.get_or_insert_with(Default::default);
            fail.enabled = Some(true);
            fail.max_restarts = Some(5);
        })
        .max_unavailable(max_unavailable)
        .rolling(|r| r.slow_start_additive_increase = Some(IntOrString::Int(2)))
        .nodes(nodes);
    let mut m = Model::new(sc, nodes);
    let lim = Limits {
        max_unavailable: max_unavailable as usize,
        canary: 1,
    };
    m.sc.converge();
    for c in cmds {
        m.run(c);
        for _ in 0..3 {
            let b = before(&m);
            let plan = m.sc.plan();
            check(&m, &b, &plan, &lim)?;
            let spec = serde_json::to_value(&m.sc.snapshot.eds.spec).unwrap();
            m.apply(&plan);
            check_applied(&m, &spec)?;
            m.kubelet(5);
        }
    }
    converges(&mut m)
}

/// When the last template is good and nothing holds the rollout, it converges.
fn converges(m: &mut Model) -> Result<(), TestCaseError> {
    let a =
        m.sc.snapshot
            .eds
            .metadata
            .annotations
            .clone()
            .unwrap_or_default();
    let held = [
        keys::ROLLOUT_FROZEN_ANNOTATION,
        keys::ROLLING_UPDATE_PAUSED_ANNOTATION,
    ]
    .iter()
    .any(|k| a.get(*k).is_some_and(|v| v == "true"));
    let app = &m.app;
    if held || app.tpl != Some(Tpl::Good) || app.paused || app.failed || app.crashed {
        return Ok(());
    }
    // Terminations end, and the cluster settles from there.
    for _ in 0..3 {
        m.kubelet(5);
    }
    let options = SimulationOptions {
        max_steps: 2_000,
        ..SimulationOptions::default()
    };
    let sim = simulate(m.sc.snapshot.clone(), m.sc.now, &options);
    prop_assert_eq!(
        &sim.end,
        &End::Converged,
        "state {:?}",
        sim.last_plan
            .map(|p| (p.eds_status.state, p.eds_status.reason))
    );
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn command_sequences_keep_the_rollout_safe(
        nodes in 2..6usize,
        max_unavailable in 1..3i32,
        cmds in prop::collection::vec(cmd(), 1..24),
    ) {
        run_case(nodes, max_unavailable, &cmds)?;
    }
}

/// Shrunk failures, kept as plain tests (the regressions file replays them too).
#[test]
fn regressions() {
    let cases: &[(usize, i32, &[Cmd])] = &[
        // A rolling-update pause held across a promotion: the old ERS kept its flag and an
        // event announced the resume on every plan, so the rollout never settled.
        (
            2,
            1,
            &[
                Cmd::Apply(Tpl::Good),
                Cmd::PauseRolling,
                Cmd::Wait(15),
                Cmd::UnpauseRolling,
            ],
        ),
        // A failed canary of a template that the other nodes still ran (rollout undo
        // mid-rollout): every node running it was "restored" at once, outside maxUnavailable.
        (
            5,
            1,
            &[
                Cmd::Apply(Tpl::Good),
                Cmd::Wait(35),
                Cmd::Undo,
                Cmd::FailTrue,
            ],
        ),
        // A "true" set before any canary paused the next one.
        (2, 1, &[Cmd::PauseTrue, Cmd::Apply(Tpl::Good)]),
    ];
    for (nodes, max_unavailable, cmds) in cases {
        if let Err(e) = run_case(*nodes, *max_unavailable, cmds) {
            panic!("{cmds:?}: {e}");
        }
    }
}
