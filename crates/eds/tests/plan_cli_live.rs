//! `eds plan` against a cluster: the embedded API server simulator with the CRDs installed.

#[path = "plan_cli/support.rs"]
mod support;

use eds::render::{ChangeKind, PlanReport};
use eds_api::{ExtendedDaemonSet, crds};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api,
    api::{Patch, PatchParams, PostParams},
};
use kube_sim::apiserver::{Config, SimApiServer};
use support::{NOW, fixture, run};

/// A simulated cluster with the CRDs, 3 nodes, and its kubeconfig written to a temp dir.
struct Cluster {
    server: SimApiServer,
    client: kube::Client,
    kubeconfig: String,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let server = SimApiServer::start(Config::default()).await.expect("start");
    let client = server.client().expect("client");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds() {
        api.create(&PostParams::default(), &crd)
            .await
            .expect("create CRD");
    }
    server.create_nodes("node", 3).expect("nodes");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    Cluster {
        server,
        client,
        kubeconfig: path.display().to_string(),
        _dir: dir,
    }
}

impl Cluster {
    /// Applies fixture `file` as a user would.
    async fn apply(&self, file: &str) {
        let text = std::fs::read_to_string(fixture(file)).expect("fixture");
        let value: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
        let api: Api<ExtendedDaemonSet> = Api::namespaced(self.client.clone(), "default");
        api.patch(
            "foo",
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(&value),
        )
        .await
        .expect("apply");
    }

    async fn plan(&self, file: &str, more: &[&str]) -> support::Run {
        let file = fixture(file);
        let mut args = vec!["-f", &file, "--kubeconfig", &self.kubeconfig, "--now", NOW];
        args.extend_from_slice(more);
        run(&args).await
    }
}

fn json(out: &str) -> PlanReport {
    serde_json::from_str(out).expect("eds.plan/v2 JSON")
}

#[tokio::test]
async fn new_object_is_planned_from_a_dry_run_and_not_stored() {
    let c = cluster().await;
    let r = c.plan("foo-v2.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report = json(&r.out);
    assert_eq!(report.source, "cluster");
    assert_eq!(report.object.change, ChangeKind::Create);
    // The server applied the CRD defaults in the dry run.
    assert!(
        report.object.diff.contains("+  revisionHistoryLimit: 10"),
        "{}",
        report.object.diff
    );
    assert_eq!(report.pod_changes.len(), 1);
    assert_eq!(report.pod_changes[0].change, ChangeKind::Create);
    assert_eq!(
        report.pod_changes[0].nodes,
        ["node-0001", "node-0002", "node-0003"]
    );
    let api: Api<ExtendedDaemonSet> = Api::namespaced(c.client.clone(), "default");
    assert!(
        api.get_opt("foo").await.expect("get").is_none(),
        "a dry run stores nothing"
    );
}

#[tokio::test]
async fn changed_object_diff_comes_from_the_server() {
    let c = cluster().await;
    c.apply("foo-v1.yaml").await;
    let same = c.plan("foo-v1.yaml", &["-o", "json"]).await;
    let same = json(&same.out);
    assert_eq!(same.object.change, ChangeKind::None, "{}", same.object.diff);
    let r = c.plan("foo-v2.yaml", &[]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    insta::assert_snapshot!("live_update_text", r.out);
    let api: Api<ExtendedDaemonSet> = Api::namespaced(c.client.clone(), "default");
    let stored = api.get("foo").await.expect("get");
    let image = stored
        .spec
        .template
        .spec
        .and_then(|s| s.containers[0].image.clone());
    assert_eq!(image.as_deref(), Some("app:v1"), "the cluster keeps v1");
}

#[tokio::test]
async fn server_rejection_names_the_field() {
    let c = cluster().await;
    let r = c.plan("invalid-canary.yaml", &[]).await;
    assert_eq!(r.code, 2);
    let err = r.err.expect("error");
    assert!(
        err.starts_with(
            "the API server rejected ExtendedDaemonSet default/foo (server-side dry run): "
        ),
        "{err}"
    );
    assert!(err.contains("spec.strategy.canary.replicas"), "{err}");
}

#[tokio::test]
async fn dumped_state_plans_like_the_cluster() {
    let c = cluster().await;
    c.apply("foo-v1.yaml").await;
    let dump = run(&[
        "--dump-state",
        "foo",
        "-n",
        "default",
        "--kubeconfig",
        &c.kubeconfig,
    ])
    .await;
    assert_eq!(dump.code, 0, "{:?}", dump.err);
    assert!(dump.out.contains("kind: List"));
    assert!(
        !dump.out.contains("managedFields"),
        "managedFields are stripped"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.yaml");
    std::fs::write(&state, &dump.out).expect("write state");
    let file = fixture("foo-v2.yaml");
    let offline = run(&[
        "-f",
        &file,
        "--state",
        state.to_str().expect("utf-8"),
        "--now",
        NOW,
        "-o",
        "json",
    ])
    .await;
    let live = c.plan("foo-v2.yaml", &["-o", "json"]).await;
    let (mut offline, live) = (json(&offline.out), json(&live.out));
    assert_eq!(offline.source, "state");
    offline.source = live.source.clone();
    offline.object.diff = offline.object.diff.replace("(state)", "(cluster)");
    assert_eq!(
        offline, live,
        "a dumped state plans exactly like the cluster it came from"
    );
}

#[tokio::test]
async fn dump_state_of_a_missing_eds_fails() {
    let c = cluster().await;
    let r = run(&["--dump-state", "nope", "--kubeconfig", &c.kubeconfig]).await;
    assert_eq!(r.code, 2);
    assert_eq!(
        r.err.as_deref(),
        Some("ExtendedDaemonSet default/nope not found")
    );
}

#[tokio::test]
async fn unreachable_cluster_exits_2() {
    let c = cluster().await;
    c.server.stop().await;
    let file = fixture("foo-v2.yaml");
    let r = run(&["-f", &file, "--kubeconfig", &c.kubeconfig]).await;
    assert_eq!(r.code, 2);
    let err = r.err.expect("error");
    assert!(
        err.starts_with("cannot read ExtendedDaemonSet default/foo: "),
        "{err}"
    );
}

impl Cluster {
    /// Creates fixture `file` as `kubectl apply` (client-side) creates an object: with the
    /// last-applied annotation holding the manifest.
    async fn apply_client_side(&self, file: &str) {
        let text = std::fs::read_to_string(fixture(file)).expect("fixture");
        let value: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
        let mut sent = value.clone();
        sent["metadata"]["annotations"] = serde_json::json!({
            eds::cli::plan::LAST_APPLIED: value.to_string(),
        });
        let eds: ExtendedDaemonSet = serde_json::from_value(sent).expect("eds");
        let api: Api<ExtendedDaemonSet> = Api::namespaced(self.client.clone(), "default");
        let params = PostParams {
            field_manager: Some("kubectl-client-side-apply".into()),
            ..PostParams::default()
        };
        api.create(&params, &eds).await.expect("create");
    }
}

/// The object loses its tolerations, and the pods (created from scratch: no controller runs
/// here) get only the default DaemonSet tolerations.
fn tolerations_removed(report: &PlanReport) -> bool {
    report
        .object
        .diff
        .contains("-      tolerations:\n-      - operator: Exists")
        && report.pod_changes.len() == 1
        && !report.pod_changes[0].diff.contains("+  - operator: Exists")
}

#[tokio::test]
async fn removing_a_field_shows_after_a_client_side_apply() {
    let c = cluster().await;
    c.apply_client_side("foo-tolerations.yaml").await;
    let same = c.plan("foo-tolerations.yaml", &["-o", "json"]).await;
    assert_eq!(
        json(&same.out).object.change,
        ChangeKind::None,
        "{}",
        same.out
    );
    let r = c.plan("foo-no-tolerations.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report = json(&r.out);
    assert!(tolerations_removed(&report), "{}", r.out);
}

#[tokio::test]
async fn removing_a_field_shows_after_a_server_side_apply_by_the_same_manager() {
    let c = cluster().await;
    c.apply("foo-tolerations.yaml").await;
    let r = c
        .plan("foo-no-tolerations.yaml", &["--server-side", "-o", "json"])
        .await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    assert!(tolerations_removed(&json(&r.out)), "{}", r.out);
    // Another field manager does not own the tolerations: its apply leaves them.
    let other = c
        .plan(
            "foo-no-tolerations.yaml",
            &["--server-side", "--field-manager", "ci", "-o", "json"],
        )
        .await;
    assert_eq!(other.code, 1, "pods are still to create: {:?}", other.err);
    let other = json(&other.out);
    assert_eq!(
        other.object.change,
        ChangeKind::None,
        "{}",
        other.object.diff
    );
    assert!(other.pod_changes[0].diff.contains("+  - operator: Exists"));
}

#[tokio::test]
async fn typos_are_rejected_by_strict_field_validation() {
    let c = cluster().await;
    for more in [&[][..], &["--server-side"][..]] {
        let r = c.plan("typos.yaml", more).await;
        assert_eq!(r.code, 2, "{more:?}: {}", r.out);
        let err = r.err.expect("error");
        assert!(err.contains("spec.replica"), "{more:?}: {err}");
        assert!(err.contains("spec.stratgy"), "{more:?}: {err}");
        assert!(
            err.contains("spec.template.spec.containers[0].nmae"),
            "{more:?}: {err}"
        );
    }
    c.apply("foo-v1.yaml").await;
    let r = c.plan("typos.yaml", &[]).await;
    let err = r.err.expect("error on update too");
    assert!(
        err.contains("strict decoding error: unknown field \"spec.replica\""),
        "{err}"
    );
}
