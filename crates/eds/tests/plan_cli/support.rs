//! Running `eds plan` in process, and the fixtures it plans: state files written from planner
//! scenarios (checked in under tests/fixtures/plan/, regenerated with `UPDATE_FIXTURES=1`).

// Each test target uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clap::Parser;
use eds::cli::{PlanArgs, plan::ClusterState, run_with};
use eds_api::ExtendedDaemonSet;
use eds_plan::{
    Snapshot,
    testing::{Scenario, eds},
};
use k8s_openapi::api::core::v1::Toleration;
use serde_json::json;

/// `eds plan` as a command of its own, for parsing and `--help`.
#[derive(Parser, Debug)]
#[command(
    name = "plan",
    bin_name = "eds plan",
    about = eds::cli::plan::ABOUT,
    long_about = eds::cli::plan::LONG_ABOUT
)]
pub struct Cmd {
    #[command(flatten)]
    pub args: PlanArgs,
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (0, 1 or 2).
    pub code: u8,
    /// Standard output.
    pub out: String,
    /// The error message, for exit code 2.
    pub err: Option<String>,
}

/// Runs `eds plan ARGS` (not a terminal: no colour unless asked).
pub async fn run(args: &[&str]) -> Run {
    run_on(args, false).await
}

/// Runs `eds plan ARGS`, telling it whether the output is a terminal.
pub async fn run_on(args: &[&str], terminal: bool) -> Run {
    let cmd = Cmd::try_parse_from(std::iter::once("plan").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("arguments {args:?} rejected: {e}"));
    let mut out = Vec::new();
    let result = run_with(cmd.args, &mut out, terminal).await;
    Run {
        code: eds::cli::exit_code(&result),
        out: String::from_utf8(out).expect("utf-8 output"),
        err: result.err().map(|e| e.to_string()),
    }
}

/// tests/fixtures/plan/NAME.
pub fn fixture(name: &str) -> String {
    fixtures_dir().join(name).display().to_string()
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan")
}

/// Time every fixture state is planned at (`--now`): the end of the converged scenario.
pub const NOW: &str = "2024-01-01T01:00:00Z";

/// A converged `foo` (canary of 1 node, app:v1) on `n` nodes.
pub fn converged(n: usize) -> Scenario {
    let mut sc = eds("foo")
        .canary(1)
        .canary_durations("5m", "2m")
        .fast_start(n as i32)
        .nodes(n);
    sc.converge();
    sc
}

/// Sets (or removes) the tolerations of the pod template.
pub fn set_tolerations(eds: &mut ExtendedDaemonSet, tolerations: Option<Vec<Toleration>>) {
    if let Some(spec) = eds.spec.template.spec.as_mut() {
        spec.tolerations = tolerations;
    }
}

/// `foo` with `tolerations: [{operator: Exists}]`, created by `kubectl apply` (its
/// `kubectl.kubernetes.io/last-applied-configuration` annotation holds the manifest) and
/// converged on 3 nodes.
pub fn applied_with_tolerations() -> Scenario {
    let mut sc = eds("foo")
        .canary(1)
        .canary_durations("5m", "2m")
        .fast_start(3)
        .nodes(3);
    sc.edit(|e| {
        let everything = Toleration {
            operator: Some("Exists".into()),
            ..Toleration::default()
        };
        set_tolerations(e, Some(vec![everything]));
    });
    let text = manifest(&sc.snapshot.eds);
    let value: serde_json::Value = serde_saphyr::from_str(&text).expect("manifest");
    sc.annotate(
        "kubectl.kubernetes.io/last-applied-configuration",
        Some(&value.to_string()),
    );
    sc.converge();
    sc
}

/// The ERS name upstream's controller gives (`generateName: <eds>-`).
pub const UPSTREAM_ERS: &str = "foo-x7k2p";
/// An md5 template hash, as upstream's controller writes it.
pub const UPSTREAM_HASH: &str = "5f1c3e2a9b7d4c6e8f0a1b2c3d4e5f60";

/// A converged snapshot as upstream's controller would have left it: its only ERS renamed
/// [`UPSTREAM_ERS`] with an md5 `templatehash`, its pods named `<ers>-<random>` with the
/// ERS label, owner reference and template hash of upstream.
pub fn upstream_named(snapshot: &Snapshot) -> Snapshot {
    use eds_api::constants::keys::{ERS_NAME_LABEL, REVISION_ANNOTATION, TEMPLATE_HASH_ANNOTATION};
    let mut s = snapshot.clone();
    assert_eq!(s.replica_sets.len(), 1, "one revision to rename");
    let ours = s.replica_sets[0].metadata.name.clone().expect("name");
    let ers = &mut s.replica_sets[0];
    ers.metadata.name = Some(UPSTREAM_ERS.into());
    let annotations = ers
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    annotations.insert(TEMPLATE_HASH_ANNOTATION.into(), UPSTREAM_HASH.into());
    annotations.remove(REVISION_ANNOTATION);
    let suffixes = ["4bq9z", "m2xkd", "t8w5c", "h6r3n", "p9v7l"];
    for (i, pod) in s.pods.iter_mut().enumerate() {
        let pod = std::sync::Arc::make_mut(pod);
        pod.metadata.name = Some(format!("{UPSTREAM_ERS}-{}", suffixes[i % suffixes.len()]));
        pod.metadata.generate_name = Some(format!("{UPSTREAM_ERS}-"));
        if let Some(labels) = pod.metadata.labels.as_mut() {
            labels.insert(ERS_NAME_LABEL.into(), UPSTREAM_ERS.into());
        }
        if let Some(a) = pod.metadata.annotations.as_mut() {
            a.insert(TEMPLATE_HASH_ANNOTATION.into(), UPSTREAM_HASH.into());
        }
        for owner in pod.metadata.owner_references.iter_mut().flatten() {
            if owner.name == ours {
                owner.name = UPSTREAM_ERS.into();
            }
        }
    }
    s
}

/// The 3-node cluster a few steps into the rollout of app:v2: the canary runs on node-1 (its
/// `now` is inside the canary's 5m).
pub fn canary_scenario() -> Scenario {
    let mut sc = converged(3);
    sc.set_image("app:v2");
    for _ in 0..4 {
        sc.step();
        sc.advance(10);
        sc.settle_pods();
    }
    sc
}

/// The state file of a snapshot.
pub fn state_yaml(snapshot: &Snapshot, what: &str) -> String {
    cluster_yaml(&ClusterState::from(snapshot), what)
}

/// The state file of some objects.
pub fn cluster_yaml(state: &ClusterState, what: &str) -> String {
    let body = state.to_yaml().expect("state yaml");
    format!(
        "# {what}\n# Generated by tests/plan_cli.rs (UPDATE_FIXTURES=1 cargo test --test plan_cli).\n{body}"
    )
}

/// The manifest a user applies for `eds`: apiVersion, kind, name, namespace and spec.
pub fn manifest(eds: &ExtendedDaemonSet) -> String {
    let value = json!({
        "apiVersion": "datadoghq.com/v1alpha1",
        "kind": "ExtendedDaemonSet",
        "metadata": { "name": eds.metadata.name, "namespace": eds.metadata.namespace },
        "spec": eds.spec,
    });
    serde_saphyr::to_string(&value).expect("manifest yaml")
}

/// Every generated fixture: file name and contents.
pub fn generated() -> Vec<(&'static str, String)> {
    let sc = converged(3);
    assert_eq!(
        sc.state().as_deref(),
        Some("Running"),
        "fixture must be converged"
    );
    assert!(
        sc.now <= NOW.parse().expect("NOW"),
        "the fixture clock passed NOW"
    );
    let v1 = sc.snapshot.eds.clone();
    let mut v2 = v1.clone();
    eds_plan::testing::set_image(&mut v2, "app:v2");
    let mut files = vec![
        (
            "state-3-nodes.yaml",
            state_yaml(
                &sc.snapshot,
                &format!("foo (app:v1, canary 1) converged on 3 nodes (plan it with --now {NOW})"),
            ),
        ),
        ("foo-v1.yaml", manifest(&v1)),
        ("foo-v2.yaml", manifest(&v2)),
    ];
    let nodes_only = ClusterState {
        nodes: sc.snapshot.nodes.iter().map(|n| (**n).clone()).collect(),
        ..ClusterState::default()
    };
    files.push((
        "state-nodes-only.yaml",
        cluster_yaml(
            &nodes_only,
            &format!("3 nodes and no ExtendedDaemonSet yet (plan it with --now {NOW})"),
        ),
    ));
    let sc = applied_with_tolerations();
    let applied = sc.snapshot.eds.clone();
    let mut no_tolerations = applied.clone();
    set_tolerations(&mut no_tolerations, None);
    files.push((
        "state-applied.yaml",
        state_yaml(
            &sc.snapshot,
            &format!(
                "foo (app:v1, tolerations) applied with kubectl apply, converged on 3 nodes \
                 (plan it with --now {NOW})"
            ),
        ),
    ));
    files.push(("foo-tolerations.yaml", manifest(&applied)));
    files.push(("foo-no-tolerations.yaml", manifest(&no_tolerations)));
    files.push((
        "state-upstream.yaml",
        state_yaml(
            &upstream_named(&converged(3).snapshot),
            &format!(
                "foo (app:v1) converged on 3 nodes by upstream's controller: ERS foo-x7k2p, \
                 pods foo-x7k2p-<random>, md5 template hashes (plan it with --now {NOW})"
            ),
        ),
    ));
    let sc = canary_scenario();
    files.push((
        "state-canary.yaml",
        state_yaml(
            &sc.snapshot,
            &format!(
                "foo rolling out app:v2, canary running on node-1 (plan it with --now {})",
                sc.now
            ),
        ),
    ));
    files
}
