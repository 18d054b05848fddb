//! Command sequences a user types over a week, through the real controller: a steering
//! command given for one canary must not steer the next one.

use eds_api::{
    ExtendedDaemonSet,
    constants::{keys, state},
};
use serde_json::json;

use super::harness::TestCluster;

fn state_of(e: &ExtendedDaemonSet) -> Option<&str> {
    e.status.as_ref().and_then(|s| s.state.as_deref())
}

fn canary_ers(e: &ExtendedDaemonSet) -> Option<String> {
    e.status
        .as_ref()
        .and_then(|s| s.canary.as_ref())
        .map(|c| c.replica_set.clone())
}

/// Upstream-style `"true"` values (set by hand or by upstream's plugin) stay on the
/// ExtendedDaemonSet; each applies to the canary in progress when it was written, never to a
/// later template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_values_do_not_leak_into_later_canaries() {
    let tc = TestCluster::start("steerscope", 3).await;
    let strategy = json!({
        "canary": { "replicas": 1, "duration": "1h", "noRestartsDuration": "1s" },
        "reconcileFrequency": "1s"
    });
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    tc.wait_available("foo", 3).await;

    // A bad image pauses its canary; the user fails it by hand.
    tc.apply(&tc.eds(
        "foo",
        "registry.k8s.io/pause:does-not-exist",
        strategy.clone(),
    ))
    .await;
    tc.wait_eds("foo", "bad image paused", |e| {
        state_of(e) == Some(state::CANARY_PAUSED)
    })
    .await;
    tc.annotate("foo", keys::CANARY_FAILED_ANNOTATION, Some("true"))
        .await;
    let failed = tc
        .wait_eds("foo", "canary failed by hand", |e| {
            state_of(e) == Some(state::CANARY_FAILED)
        })
        .await;
    let rejected = failed
        .status
        .unwrap()
        .rejected_revision
        .unwrap()
        .replica_set;

    // A fixed template: its canary runs, although canary-failed is still "true".
    tc.apply(&tc.eds("foo", "registry.k8s.io/pause:3.1", strategy.clone()))
        .await;
    let running = tc
        .wait_eds("foo", "a new canary", |e| {
            state_of(e) == Some(state::CANARY) && canary_ers(e).is_some_and(|c| c != rejected)
        })
        .await;
    let fixed = canary_ers(&running).unwrap();
    // The unpause given now applies to this canary only; then it is validated.
    tc.annotate("foo", keys::CANARY_UNPAUSED_ANNOTATION, Some("true"))
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        state_of(&tc.get_eds("foo").await),
        Some(state::CANARY),
        "the canary-failed given for {rejected} failed {fixed}"
    );
    tc.annotate("foo", keys::CANARY_VALID_ANNOTATION, Some(&fixed))
        .await;
    tc.wait_eds("foo", "fixed template everywhere", |e| {
        e.status.as_ref().is_some_and(|s| {
            s.active_replica_set == fixed
                && s.state.as_deref() == Some(state::RUNNING)
                && s.up_to_date == 3
                && s.available == 3
        })
    })
    .await;

    // Another bad image: auto-pause still works (the unpause was for the previous canary).
    tc.apply(&tc.eds("foo", "registry.k8s.io/bad-image:2", strategy))
        .await;
    tc.wait_eds("foo", "the next bad image paused", |e| {
        state_of(e) == Some(state::CANARY_PAUSED)
    })
    .await;
    tc.finish().await;
}
