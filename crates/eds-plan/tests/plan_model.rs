//! State-machine test of the planner: random sequences of what users type and clusters do
//! (templates good, crash-looping or with a bad image, every `kubectl eds` steering command
//! and upstream's forms of them, freeze and pauses, rollout undo, nodes added, removed,
//! cordoned and tainted, pods crashing, controller restarts), each followed by plans applied to a model
//! cluster on a simulated clock. The safety rules are checked after every plan, and the
//! rollout must converge at the end when the last template is good and nothing holds it.
//!
//! `PROPTEST_CASES=10000 cargo test -p eds-plan --test plan_model` runs a longer search.

mod model;

use eds_api::constants::keys;
use eds_plan::{
    simulate::{End, SimulationOptions, simulate},
    testing::eds,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use model::{
    Cmd, Model, Tpl, cmd,
    invariants::{Limits, before, check, check_applied},
};
use proptest::prelude::*;

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
            // The controller's plan is the same without the explanations.
            let changes = eds_plan::plan_changes(&m.sc.snapshot, m.sc.now);
            prop_assert_eq!(
                changes,
                eds_plan::Plan {
                    nodes: Vec::new(),
                    ..plan.clone()
                }
            );
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
    // Every node tainted out of new pods: no canary can run (it is refused, never promoted
    // on no node), so the rollout holds until a node takes pods again.
    let tainted_out = |n: &k8s_openapi::api::core::v1::Node| {
        n.spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|t| t.iter().any(|t| t.key == model::OUT_OF_ROLLOUT_TAINT))
    };
    if m.sc.snapshot.nodes.iter().all(|n| tainted_out(n)) {
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
        // The one canary node was tainted out of new pods after its old pod went: the canary
        // ran on no node and was promoted by time, untested.
        (
            1,
            1,
            &[Cmd::Apply(Tpl::Crash), Cmd::Taint(0), Cmd::Wait(20)],
        ),
        // A canary node tainted out while its canary pod runs stays a canary node: no second
        // canary pod elsewhere.
        (
            3,
            1,
            &[
                Cmd::Apply(Tpl::Crash),
                Cmd::Wait(5),
                Cmd::Taint(0),
                Cmd::Wait(5),
            ],
        ),
    ];
    for (nodes, max_unavailable, cmds) in cases {
        if let Err(e) = run_case(*nodes, *max_unavailable, cmds) {
            panic!("{cmds:?}: {e}");
        }
    }
}
