//! `eds plan` errors: exit code 2 and a message naming the file, document, object and field.

#[path = "plan_cli/support.rs"]
mod support;

use support::{NOW, fixture, run};

/// Runs a plan expected to fail; returns its message with the fixture directory shortened.
async fn fails(file: &str, state: &str) -> String {
    let (file, state) = (fixture(file), fixture(state));
    let r = run(&["-f", &file, "--state", &state, "--now", NOW]).await;
    assert_eq!(r.code, 2, "expected an error, got {r:?}");
    assert!(r.out.is_empty(), "nothing on stdout on error: {}", r.out);
    let dir = fixture("");
    r.err.expect("an error message").replace(&dir, "")
}

#[tokio::test]
async fn bad_yaml_names_the_file_and_position() {
    let msg = fails("bad-yaml.yaml", "state-3-nodes.yaml").await;
    assert!(msg.starts_with("bad-yaml.yaml: invalid YAML: "), "{msg}");
    insta::assert_snapshot!("bad_yaml", msg);
}

#[tokio::test]
async fn unknown_kind_in_the_file() {
    let msg = fails("deployment.yaml", "state-3-nodes.yaml").await;
    assert_eq!(
        msg,
        "deployment.yaml: no ExtendedDaemonSet (datadoghq.com/v1alpha1) in the file; found \
         Deployment \"foo\" (apps/v1) in deployment.yaml: document 1"
    );
}

#[tokio::test]
async fn missing_eds() {
    let msg = fails("empty.yaml", "state-3-nodes.yaml").await;
    assert_eq!(
        msg,
        "empty.yaml: no ExtendedDaemonSet (datadoghq.com/v1alpha1) in the file"
    );
}

#[tokio::test]
async fn invalid_spec_names_the_field() {
    let msg = fails("invalid-canary.yaml", "state-3-nodes.yaml").await;
    assert!(
        msg.starts_with("invalid-canary.yaml: document 1: ExtendedDaemonSet \"foo\" is invalid: "),
        "{msg}"
    );
    assert!(msg.contains("spec.strategy.canary.replicas"), "{msg}");
    insta::assert_snapshot!("invalid_canary", msg);
}

#[tokio::test]
async fn unknown_kind_in_the_state() {
    let msg = fails("foo-v2.yaml", "state-unknown-kind.yaml").await;
    assert!(
        msg.starts_with("state-unknown-kind.yaml: document 1, item 2: unknown kind \"Service\" (apiVersion \"v1\"); expected Node (v1), Pod (v1)"),
        "{msg}"
    );
}

#[tokio::test]
async fn bad_field_in_the_state_names_the_path() {
    let msg = fails("foo-v2.yaml", "state-bad-field.yaml").await;
    assert!(
        msg.starts_with("state-bad-field.yaml: document 2: Pod \"foo-abc\": field spec.containers[0].ports[0].containerPort: "),
        "{msg}"
    );
    insta::assert_snapshot!("bad_field", msg);
}

#[tokio::test]
async fn missing_state_file() {
    let msg = fails("foo-v2.yaml", "no-such-state.yaml").await;
    assert!(msg.starts_with("cannot read no-such-state.yaml: "), "{msg}");
}

#[tokio::test]
async fn namespace_flag_must_match_the_file() {
    let (file, state) = (fixture("foo-v2.yaml"), fixture("state-3-nodes.yaml"));
    let r = run(&["-f", &file, "--state", &state, "-n", "other"]).await;
    assert_eq!(r.code, 2);
    assert_eq!(
        r.err.as_deref(),
        Some(
            "the namespace of the file (\"default\") does not match --namespace (\"other\"); drop one of them"
        )
    );
}
