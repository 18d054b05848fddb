//! `canary validate|pause|unpause|fail` and the rolling-update holds: the annotations they
//! leave on the ExtendedDaemonSet.

use eds::plugin::Error;
use eds_api::constants::keys;

use super::support::{self, annotations, canary, cluster, err, ok};

#[tokio::test]
async fn canary_verbs_write_the_annotations() {
    let c = cluster().await;
    support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.1",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    let cl = &c.client;

    assert_eq!(
        ok(cl, &["canary", "pause", "foo", "--reason", "investigating"]).await,
        "ExtendedDaemonSet default/foo: canary foo-xdj4b paused (reason: investigating)\n"
    );
    let a = annotations(cl, "foo").await;
    assert_eq!(a[keys::CANARY_PAUSED_ANNOTATION], "foo-xdj4b");
    assert_eq!(a[keys::CANARY_PAUSED_REASON_ANNOTATION], "investigating");
    assert!(!a.contains_key(keys::CANARY_UNPAUSED_ANNOTATION));
    assert_eq!(
        ok(cl, &["canary", "pause", "foo", "--reason", "investigating"]).await,
        "ExtendedDaemonSet default/foo: canary foo-xdj4b already paused (no change)\n"
    );

    ok(cl, &["canary", "unpause", "foo"]).await;
    let a = annotations(cl, "foo").await;
    assert_eq!(a[keys::CANARY_UNPAUSED_ANNOTATION], "foo-xdj4b");
    assert!(!a.contains_key(keys::CANARY_PAUSED_ANNOTATION));
    assert!(!a.contains_key(keys::CANARY_PAUSED_REASON_ANNOTATION));

    // Pausing again takes the unpause override away.
    ok(cl, &["canary", "pause", "foo"]).await;
    let a = annotations(cl, "foo").await;
    assert_eq!(a[keys::CANARY_PAUSED_REASON_ANNOTATION], "Manual");
    assert!(!a.contains_key(keys::CANARY_UNPAUSED_ANNOTATION));

    assert_eq!(
        ok(cl, &["canary", "validate", "foo"]).await,
        "ExtendedDaemonSet default/foo: canary foo-xdj4b validated\n"
    );
    assert_eq!(
        annotations(cl, "foo").await[keys::CANARY_VALID_ANNOTATION],
        "foo-xdj4b"
    );

    ok(cl, &["canary", "fail", "foo"]).await;
    assert_eq!(
        annotations(cl, "foo").await[keys::CANARY_FAILED_ANNOTATION],
        "foo-xdj4b"
    );
}

#[tokio::test]
async fn canary_verbs_need_a_canary() {
    let c = cluster().await;
    support::running_foo(&c.client).await;
    for verb in ["validate", "pause", "unpause", "fail"] {
        let e = err(&c.client, &["canary", verb, "foo"]).await;
        assert!(matches!(e, Error::NoCanary { .. }), "{verb}: {e}");
        assert_eq!(e.exit_code(), 2);
    }
    assert!(annotations(&c.client, "foo").await.is_empty());
    let e = err(
        &c.client,
        &["canary", "validate", "-n", "monitoring", "foo"],
    )
    .await;
    assert_eq!(e.to_string(), "ExtendedDaemonSet monitoring/foo not found");
}

#[tokio::test]
async fn rolling_update_pause_and_freeze() {
    let c = cluster().await;
    support::running_foo(&c.client).await;
    let cl = &c.client;

    assert_eq!(
        ok(cl, &["pause-rolling-update", "foo"]).await,
        "ExtendedDaemonSet default/foo: rolling update paused\n"
    );
    assert_eq!(
        annotations(cl, "foo").await[keys::ROLLING_UPDATE_PAUSED_ANNOTATION],
        "true"
    );
    ok(cl, &["freeze-rollout", "foo"]).await;
    assert_eq!(
        annotations(cl, "foo").await[keys::ROLLOUT_FROZEN_ANNOTATION],
        "true"
    );

    ok(cl, &["unpause-rolling-update", "foo"]).await;
    ok(cl, &["unfreeze-rollout", "foo"]).await;
    assert!(annotations(cl, "foo").await.is_empty());
    assert_eq!(
        ok(cl, &["unfreeze-rollout", "foo"]).await,
        "ExtendedDaemonSet default/foo: rollout is not frozen (no change)\n"
    );
}

#[tokio::test]
async fn holds_are_refused_during_a_canary() {
    let c = cluster().await;
    support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.1",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    for verb in ["pause-rolling-update", "freeze-rollout"] {
        let e = err(&c.client, &[verb, "foo"]).await;
        assert!(matches!(e, Error::CanaryInProgress { .. }), "{verb}: {e}");
    }
    assert!(annotations(&c.client, "foo").await.is_empty());
}
