//! `pods --select canary|not-ready`, `canary pods` and `diff`.

use eds::plugin::Error;

use super::support::{self, canary, cluster, crashing_pod, err, mask_age, ok, ready_pod};

/// `foo` during a canary on node-0003 whose pod crash-loops, and an active pod not ready.
async fn canary_with_pods() -> support::Cluster {
    let c = cluster().await;
    let foo_eds = support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.1",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-8z7lr",
        "registry.k8s.io/pause:3.0",
        "active",
        2,
        Some(1),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-xdj4b",
        "registry.k8s.io/pause:3.1",
        "canary",
        1,
        Some(2),
    )
    .await;
    let cl = &c.client;
    support::pod(
        cl,
        "foo",
        "foo-8z7lr",
        "foo-8z7lr-bp9w8",
        "node-0001",
        false,
        ready_pod(),
    )
    .await;
    support::pod(
        cl,
        "foo",
        "foo-8z7lr",
        "foo-8z7lr-jlvrq",
        "node-0002",
        false,
        crashing_pod(1),
    )
    .await;
    support::pod(
        cl,
        "foo",
        "foo-xdj4b",
        "foo-xdj4b-zvss2",
        "node-0003",
        true,
        crashing_pod(4),
    )
    .await;
    support::pod(
        cl,
        "other",
        "other-1",
        "other-1-aaaaa",
        "node-0001",
        false,
        crashing_pod(0),
    )
    .await;
    c
}

#[tokio::test]
async fn canary_pods_both_ways() {
    let c = canary_with_pods().await;
    let via_pods = ok(&c.client, &["pods", "foo", "--select", "canary"]).await;
    let via_canary = ok(&c.client, &["canary", "pods", "foo"]).await;
    assert_eq!(via_pods, via_canary);
    insta::assert_snapshot!(mask_age(&via_pods), @r"
    POD               READY   PHASE     REASON             NOT READY CONTAINERS   RESTARTS   NODE        NODE READY   AGE
    foo-xdj4b-zvss2   0/1     Running   CrashLoopBackOff   daemon                 4          node-0003   true         <age>
    ");
}

#[tokio::test]
async fn not_ready_pods_of_this_eds_only() {
    let c = canary_with_pods().await;
    let out = ok(&c.client, &["pods", "foo", "--select=not-ready"]).await;
    insta::assert_snapshot!(mask_age(&out), @r"
    POD               READY   PHASE     REASON             NOT READY CONTAINERS   RESTARTS   NODE        NODE READY   AGE
    foo-8z7lr-jlvrq   0/1     Running   CrashLoopBackOff   daemon                 1          node-0002   true         <age>
    foo-xdj4b-zvss2   0/1     Running   CrashLoopBackOff   daemon                 4          node-0003   true         <age>
    ");
    let json = ok(
        &c.client,
        &["pods", "foo", "--select", "not-ready", "-o", "json"],
    )
    .await;
    assert_eq!(json.matches("\"kind\": \"Pod\"").count(), 2, "{json}");
}

#[tokio::test]
async fn canary_pods_need_a_canary() {
    let c = cluster().await;
    support::running_foo(&c.client).await;
    let e = err(&c.client, &["canary", "pods", "foo"]).await;
    assert!(matches!(e, Error::NoCanary { .. }));
    assert_eq!(
        e.to_string(),
        "no canary in progress for ExtendedDaemonSet default/foo (state: Running)"
    );
    let none = ok(&c.client, &["pods", "foo", "--select", "not-ready"]).await;
    assert_eq!(
        none,
        "No pods not ready for ExtendedDaemonSet default/foo.\n"
    );
    let e = err(&c.client, &["pods", "ghost", "--select", "canary"]).await;
    assert_eq!(e.to_string(), "ExtendedDaemonSet default/ghost not found");
}

#[tokio::test]
async fn diff_of_active_and_canary_templates() {
    let c = canary_with_pods().await;
    // Templates that differ: the diff is printed and the exit code is 1, as `kubectl diff`.
    let (result, out) = support::run_then(&c.client, &["diff", "foo"], async {}).await;
    let e = result.expect_err("templates differ");
    assert!(matches!(e, Error::TemplatesDiffer(_)), "{e}");
    assert_eq!(e.exit_code(), 1);
    insta::assert_snapshot!(out, @r"
    --- foo-8z7lr (active)
    +++ foo-xdj4b (canary)
    @@ -3,5 +3,5 @@
         app: foo
     spec:
       containers:
    -  - image: registry.k8s.io/pause:3.0
    +  - image: registry.k8s.io/pause:3.1
         name: daemon
    ");
    let c = cluster().await;
    support::running_foo(&c.client).await;
    let e = err(&c.client, &["diff", "foo"]).await;
    assert!(matches!(e, Error::NoCanary { .. }), "{e}");
    assert_eq!(e.exit_code(), 2, "an error is above 1, as `kubectl diff`");
}
