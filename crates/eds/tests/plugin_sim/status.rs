//! `rollout status`, once and with `--watch`.

use eds::plugin::Error;
use eds_api::ExtendedDaemonSet;
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

use super::support::{self, canary, cluster, err, ok, run_then, running};

async fn patch_status(client: &Client, status: Value) {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), "default");
    api.patch_status(
        "foo",
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .expect("status");
}

#[tokio::test]
async fn done_waiting_and_failed() {
    let c = cluster().await;
    support::running_foo(&c.client).await;
    assert_eq!(
        ok(&c.client, &["rollout", "status", "foo"]).await,
        "ExtendedDaemonSet default/foo: successfully rolled out (3 pods, ERS foo-8z7lr)\n"
    );

    patch_status(&c.client, canary("foo-8z7lr", "foo-xdj4b")).await;
    assert_eq!(
        ok(&c.client, &["rollout", "status", "foo", "--watch=false"]).await,
        "ExtendedDaemonSet default/foo: canary foo-xdj4b in progress: 1 of 3 pods updated\n"
    );

    patch_status(
        &c.client,
        json!({"state": "Canary Failed", "reason": "MaxRestartsExceeded"}),
    )
    .await;
    let e = err(&c.client, &["rollout", "status", "foo"]).await;
    assert_eq!(
        e.to_string(),
        "rollout of ExtendedDaemonSet default/foo failed: canary failed (MaxRestartsExceeded)"
    );
    assert_eq!(e.exit_code(), 1);
}

#[tokio::test]
async fn watch_until_done() {
    let c = cluster().await;
    support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.0",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    // The controller's part, once the verb has printed the canary state: promote the canary,
    // then finish the rolling update.
    let controller = async {
        let mut rolling = running("foo-xdj4b");
        rolling["upToDate"] = json!(2);
        rolling["canary"] = Value::Null;
        patch_status(&c.client, rolling).await;
        patch_status(&c.client, json!({"upToDate": 3})).await;
    };
    let args = ["rollout", "status", "foo", "--watch", "--timeout", "2m"];
    let (result, out) = run_then(&c.client, &args, controller).await;
    result.expect("rollout status");
    assert!(
        out.starts_with("ExtendedDaemonSet default/foo: canary foo-xdj4b in progress"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2, "{out}");
    assert_eq!(
        lines.last().copied(),
        Some("ExtendedDaemonSet default/foo: successfully rolled out (3 pods, ERS foo-xdj4b)")
    );
    let mut deduped = lines.clone();
    deduped.dedup();
    assert_eq!(deduped, lines, "each state is printed once");
}

#[tokio::test]
async fn watch_fails_on_stalled() {
    let c = cluster().await;
    let mut status = running("foo-8z7lr");
    status["upToDate"] = json!(1);
    support::eds(&c.client, "default", "foo", "pause:3.0", status).await;
    let stall = async {
        let stalled = json!({"conditions": [{"type": "Stalled", "status": "True",
            "reason": "RolloutBlocked", "message": "node-0002 cannot run the pod"}]});
        patch_status(&c.client, stalled).await;
    };
    let (result, out) = run_then(&c.client, &["rollout", "status", "foo", "-w"], stall).await;
    assert_eq!(
        out,
        "ExtendedDaemonSet default/foo: waiting for the rollout to finish: 1 of 3 pods updated\n"
    );
    let e = result.unwrap_err();
    assert!(matches!(e, Error::RolloutFailed { .. }), "{e}");
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string()
            .ends_with("RolloutBlocked: node-0002 cannot run the pod"),
        "{e}"
    );
}

#[tokio::test]
async fn watch_times_out() {
    let c = cluster().await;
    support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.0",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    let e = err(
        &c.client,
        &["rollout", "status", "foo", "--watch", "--timeout", "1s"],
    )
    .await;
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        e.to_string(),
        "timed out after 1s waiting for the rollout of ExtendedDaemonSet default/foo"
    );
    let e = err(&c.client, &["rollout", "status", "ghost"]).await;
    assert_eq!(e.to_string(), "ExtendedDaemonSet default/ghost not found");
}
