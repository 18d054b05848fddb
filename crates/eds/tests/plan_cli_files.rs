//! `eds plan` offline on what users really apply: a field removed from a manifest applied with
//! `kubectl apply`, typos and duplicate keys, and files holding several objects (a directory,
//! multi-document YAML, `kind: List`, other kinds beside the ExtendedDaemonSets).

#[path = "plan_cli/support.rs"]
mod support;

use eds::{
    cli::plan::{LIST_KIND, PlanList},
    render::{ChangeKind, PlanReport},
};
use support::{NOW, fixture, run};

async fn plan(file: &str, state: &str, more: &[&str]) -> support::Run {
    let state = fixture(state);
    let mut args = vec!["-f", file, "--state", &state, "--now", NOW];
    args.extend_from_slice(more);
    run(&args).await
}

#[tokio::test]
async fn removing_tolerations_from_an_applied_manifest_removes_them_everywhere() {
    let same = plan(&fixture("foo-tolerations.yaml"), "state-applied.yaml", &[]).await;
    assert_eq!(same.code, 0, "{:?}\n{}", same.err, same.out);
    let r = plan(
        &fixture("foo-no-tolerations.yaml"),
        "state-applied.yaml",
        &["-o", "json"],
    )
    .await;
    assert_eq!(r.code, 1, "{:?}\n{}", r.err, r.out);
    let report: PlanReport = serde_json::from_str(&r.out).expect("plan JSON");
    assert_eq!(report.object.change, ChangeKind::Update);
    assert!(
        report.object.diff.contains("-      tolerations:"),
        "{}",
        report.object.diff
    );
    assert_eq!(report.pod_changes.len(), 1, "{:?}", report.pod_changes);
    assert_eq!(report.pod_changes[0].nodes.len(), 3);
    assert!(report.pod_changes[0].diff.contains("-  - operator: Exists"));
    let text = plan(
        &fixture("foo-no-tolerations.yaml"),
        "state-applied.yaml",
        &[],
    )
    .await;
    insta::assert_snapshot!("tolerations_removed_text", text.out);
}

#[tokio::test]
async fn server_side_keeps_what_the_file_does_not_set_offline() {
    // Without managedFields in the state file, `--server-side` takes the file's spec and
    // keeps the labels and annotations it does not set.
    let r = plan(
        &fixture("foo-tolerations.yaml"),
        "state-applied.yaml",
        &["--server-side"],
    )
    .await;
    assert_eq!(r.code, 0, "{:?}\n{}", r.err, r.out);
}

#[tokio::test]
async fn typos_are_errors_naming_every_field() {
    let r = plan(&fixture("typos.yaml"), "state-3-nodes.yaml", &[]).await;
    assert_eq!(r.code, 2, "{}", r.out);
    let err = r.err.expect("error");
    for field in [
        "spec.replica",
        "spec.stratgy",
        "spec.template.spec.containers[0].nmae",
    ] {
        assert!(err.contains(&format!("unknown field \"{field}\"")), "{err}");
    }
    insta::assert_snapshot!("typos", err.replace(&fixture(""), ""));
}

#[tokio::test]
async fn duplicate_keys_are_errors_naming_the_key() {
    let r = plan(&fixture("duplicate-key.yaml"), "state-3-nodes.yaml", &[]).await;
    assert_eq!(r.code, 2, "{}", r.out);
    let err = r.err.expect("error");
    assert!(err.contains("image"), "{err}");
    insta::assert_snapshot!("duplicate_key", err.replace(&fixture(""), ""));
}

/// A manifest of ExtendedDaemonSet `name` running `image`.
fn eds_doc(name: &str, image: &str) -> String {
    std::fs::read_to_string(fixture("foo-v1.yaml"))
        .expect("fixture")
        .replace("name: foo", &format!("name: {name}"))
        .replace("app: foo", &format!("app: {name}"))
        .replace("image: app:v1", &format!("image: {image}"))
}

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: foo-config\ndata:\n  a: b\n";

#[tokio::test]
async fn a_kustomize_build_output_plans_every_extended_daemon_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- {}",
        serde_json::to_string(
            &serde_saphyr::from_str::<serde_json::Value>(&eds_doc("baz", "baz:v1")).unwrap()
        )
        .unwrap()
    );
    let text = [
        eds_doc("foo", "app:v1"),
        CONFIG_MAP.to_string(),
        eds_doc("bar", "bar:v1"),
        list,
    ]
    .join("---\n");
    let path = dir.path().join("all.yaml");
    std::fs::write(&path, &text).expect("write");
    let path = path.display().to_string();
    let r = plan(&path, "state-3-nodes.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 1, "bar and baz are new: {:?}\n{}", r.err, r.out);
    let list: PlanList = serde_json::from_str(&r.out).expect("list JSON");
    assert_eq!(list.kind, LIST_KIND);
    let names: Vec<&str> = list.items.iter().map(|i| i.eds.name.as_str()).collect();
    assert_eq!(names, ["foo", "bar", "baz"]);
    assert!(!list.items[0].changes, "foo is unchanged");
    assert_eq!(list.items[1].object.change, ChangeKind::Create);
    assert_eq!(list.skipped.len(), 1);
    assert_eq!(list.skipped[0].kind, "ConfigMap");
    let text = plan(&path, "state-3-nodes.yaml", &[]).await;
    assert_eq!(text.code, 1);
    assert!(
        text.out.contains(
            "Summary: 3 ExtendedDaemonSets: 2 with changes, 1 without, 0 failed; 1 other object skipped."
        ),
        "{}",
        text.out
    );
    assert!(
        text.out
            .contains("Skipped ConfigMap \"foo-config\" (all.yaml: document 2)")
            || text.out.contains("Skipped ConfigMap \"foo-config\" ("),
        "{}",
        text.out
    );
}

#[tokio::test]
async fn a_directory_is_read_file_by_file_and_one_bad_object_fails_only_its_section() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a-foo.yaml"), eds_doc("foo", "app:v1")).unwrap();
    std::fs::write(dir.path().join("b-config.yml"), CONFIG_MAP).unwrap();
    std::fs::write(
        dir.path().join("c-typo.yaml"),
        eds_doc("typo", "app:v1").replace("replicas: 1", "replica: 1"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
    let path = dir.path().display().to_string();
    let r = plan(&path, "state-3-nodes.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 2, "one section failed: {}", r.out);
    let list: PlanList = serde_json::from_str(&r.out).expect("list JSON");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].eds.name, "foo");
    assert_eq!(list.errors.len(), 1);
    assert_eq!(list.errors[0].name, "typo");
    assert!(
        list.errors[0]
            .message
            .contains("unknown field \"spec.strategy.canary.replica\""),
        "{:?}",
        list.errors
    );
    assert_eq!(list.skipped.len(), 1);
}

#[tokio::test]
async fn a_large_file_of_many_extended_daemon_sets() {
    let docs: Vec<String> = (1..=20)
        .map(|i| {
            let name = if i == 1 {
                "foo".to_string()
            } else {
                format!("agent-{i:02}")
            };
            eds_doc(&name, &format!("registry.example/agent:v{}", i % 3 + 1))
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, docs.join("---\n")).expect("write");
    let path = path.display().to_string();
    let r = plan(&path, "state-3-nodes.yaml", &[]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    assert_eq!(r.out.matches("=== ExtendedDaemonSet ").count(), 20);
    assert!(
        r.out
            .contains("Summary: 20 ExtendedDaemonSets: 20 with changes, 0 without, 0 failed"),
        "{}",
        r.out
    );
    let dir_shown = dir.path().display().to_string();
    insta::assert_snapshot!("fleet_text", r.out.replace(&dir_shown, "<dir>"));
}

#[tokio::test]
async fn taking_over_an_upstream_ers_with_the_same_template_changes_nothing() {
    let r = plan(&fixture("foo-v1.yaml"), "state-upstream.yaml", &[]).await;
    assert_eq!(r.code, 0, "{:?}\n{}", r.err, r.out);
    assert!(r.out.contains("Pod changes: none"), "{}", r.out);
    assert!(
        r.out.contains("Revision: foo-x7k2p (unchanged)"),
        "{}",
        r.out
    );
    insta::assert_snapshot!("upstream_adoption_text", r.out);
    let full = plan(&fixture("foo-v1.yaml"), "state-upstream.yaml", &["--full"]).await;
    assert_eq!(full.code, 0, "{:?}\n{}", full.err, full.out);
}

#[tokio::test]
async fn values_print_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bar.yaml");
    let text = eds_doc("bar", "bar:v1")
        .replace("duration: 300s", "duration: 5m")
        .replace("noRestartsDuration: 120s", "noRestartsDuration: 2m");
    assert!(text.contains("duration: 5m"), "{text}");
    std::fs::write(&path, text).expect("write");
    let r = plan(
        &path.display().to_string(),
        "state-3-nodes.yaml",
        &["-o", "json"],
    )
    .await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report: PlanReport = serde_json::from_str(&r.out).expect("plan JSON");
    assert!(
        report.object.diff.contains("+      duration: 5m\n"),
        "{}",
        report.object.diff
    );
    assert!(
        report
            .object
            .diff
            .contains("+      noRestartsDuration: 2m\n")
    );
    assert!(
        !report.object.diff.contains("300s"),
        "{}",
        report.object.diff
    );
}
