//! `eds plan` on a 1,000-node state, generated here from a planner scenario (not checked in).

#[path = "plan_cli/support.rs"]
mod support;

use eds::render::{ActionKind, ChangeKind, PlanReport, SimulationEnd};
use eds_plan::testing::set_image;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use support::{converged, manifest, run, state_yaml};

const NODES: usize = 1000;

/// Writes the converged 1,000-node state and a proposal (app:v2, maxUnavailable 10%) to a temp
/// dir; returns it with the state's time.
fn files() -> (tempfile::TempDir, String, String, String) {
    let sc = converged(NODES);
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.yaml");
    std::fs::write(&state, state_yaml(&sc.snapshot, "1,000 nodes")).expect("state");
    let mut v2 = sc.snapshot.eds.clone();
    set_image(&mut v2, "app:v2");
    let rolling = v2
        .spec
        .strategy
        .rolling_update
        .get_or_insert_with(Default::default);
    rolling.max_unavailable = Some(IntOrString::String("10%".into()));
    let proposal = dir.path().join("foo-v2.yaml");
    std::fs::write(&proposal, manifest(&v2)).expect("proposal");
    let path = |p: std::path::PathBuf| p.display().to_string();
    (dir, path(state), path(proposal), sc.now.to_string())
}

#[tokio::test]
async fn thousand_nodes_text_and_json() {
    let (_dir, state, proposal, now) = files();
    let args = ["-f", proposal.as_str(), "--state", &state, "--now", &now];
    let text = run(&args).await;
    assert_eq!(text.code, 1, "{:?}", text.err);
    insta::assert_snapshot!("thousand_nodes_text", text.out);
    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    let r = run(&json_args).await;
    let report: PlanReport = serde_json::from_str(&r.out).expect("json");
    assert_eq!(report.actions.len(), NODES);
    assert_eq!(report.budget.desired, NODES as i32);
    assert_eq!(report.budget.max_unavailable, 100, "10% of 1,000");
    assert_eq!(report.object.change, ChangeKind::Update);
    // One image change on every node: a single diff naming all 1,000.
    assert_eq!(report.pod_changes.len(), 1);
    assert_eq!(report.pod_changes[0].nodes.len(), NODES);
}

#[tokio::test]
async fn thousand_nodes_full_rollout() {
    let (_dir, state, proposal, now) = files();
    let args = [
        "-f",
        proposal.as_str(),
        "--state",
        &state,
        "--now",
        &now,
        "--full",
        "-o",
        "json",
    ];
    let r = run(&args).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report: PlanReport = serde_json::from_str(&r.out).expect("json");
    let sim = report.simulation.as_ref().expect("simulation");
    assert_eq!(sim.end, SimulationEnd::Converged);
    let created: usize = report.waves.iter().map(|w| w.created.len()).sum();
    assert_eq!(created, NODES, "every node gets its new pod once");
    // maxUnavailable 10%: no wave deletes more than 100 pods.
    assert!(report.waves.iter().all(|w| w.deleted.len() <= 100));
    assert!(sim.canary.is_some());
    assert!(report.actions.iter().any(|a| a.action == ActionKind::Wait));
}
