//! Events as `kubectl describe eds` shows them, over successive rollouts and pauses.

use eds_api::constants::{keys, reason};
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use serde_json::json;

use super::harness::TestCluster;

/// The events regarding ExtendedDaemonSet `name`, oldest first, as
/// `(type, reason, related object, count, message)`.
async fn events(tc: &TestCluster, name: &str) -> Vec<(String, String, String, i32, String)> {
    let api = kube::Api::<Event>::namespaced(tc.client.clone(), &tc.namespace);
    let mut list: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect();
    list.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    list.into_iter()
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.related.and_then(|r| r.name).unwrap_or_else(|| "-".into()),
                e.series.map_or(1, |s| s.count),
                e.note.unwrap_or_default(),
            )
        })
        .collect()
}

/// Two successive rollouts give two `RolloutDone` events, each naming its own revision and
/// related to its own ERS (they never merge into one counted line with a stale message); a
/// rolling-update pause and its removal are Normal events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rollouts_give_distinct_events_and_pauses_are_normal_events() {
    let tc = TestCluster::start("events", 3).await;
    let mut revisions = Vec::new();
    for image in ["pause:3.0", "pause:3.1", "pause:3.2"] {
        tc.apply(&tc.eds("foo", &format!("registry.k8s.io/{image}"), json!({})))
            .await;
        let done = tc
            .wait_eds("foo", image, |e| {
                e.status.as_ref().is_some_and(|s| {
                    !revisions.contains(&s.active_replica_set)
                        && s.up_to_date == 3
                        && s.available == 3
                        && s.conditions
                            .iter()
                            .any(|c| c.type_ == "Ready" && c.is_true())
                })
            })
            .await;
        revisions.push(done.status.unwrap().active_replica_set);
    }
    tc.annotate("foo", keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"))
        .await;
    tc.wait_for("the RollingUpdatePaused event", || async {
        events(&tc, "foo")
            .await
            .iter()
            .any(|e| e.1 == reason::ROLLING_UPDATE_PAUSED)
            .then_some(())
    })
    .await;
    tc.annotate("foo", keys::ROLLING_UPDATE_PAUSED_ANNOTATION, None)
        .await;
    let all = tc
        .wait_for("the RollingUpdateResumed event", || async {
            let all = events(&tc, "foo").await;
            all.iter()
                .any(|e| e.1 == reason::ROLLING_UPDATE_RESUMED)
                .then_some(all)
        })
        .await;
    // What `kubectl describe eds foo` lists under Events (related object added).
    println!("Events of ExtendedDaemonSet {}/foo:", tc.namespace);
    println!(
        "  {:<8} {:<36} {:<16} {:>5}  Message",
        "Type", "Reason", "Related", "Count"
    );
    for (type_, why, related, count, note) in &all {
        println!("  {type_:<8} {why:<36} {related:<16} {count:>5}  {note}");
    }
    for rev in &revisions[1..] {
        let done: Vec<_> = all
            .iter()
            .filter(|e| e.1 == reason::ROLLOUT_DONE && &e.2 == rev)
            .collect();
        assert_eq!(done.len(), 1, "one RolloutDone for {rev}: {all:#?}");
        assert_eq!(done[0].3, 1, "not merged with another rollout's: {all:#?}");
        assert!(done[0].4.contains(rev.as_str()), "{all:#?}");
        assert!(
            all.iter()
                .any(|e| e.1 == reason::CREATE_ERS && &e.2 == rev && e.4.contains(rev.as_str())),
            "{all:#?}"
        );
    }
    for (type_, why, ..) in &all {
        if [
            reason::ROLLING_UPDATE_PAUSED,
            reason::ROLLING_UPDATE_RESUMED,
        ]
        .contains(&why.as_str())
        {
            assert_eq!(type_, "Normal");
        }
    }
    tc.finish().await;
}
