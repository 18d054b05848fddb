//! Rolling-update rules of the planner, one scenario per rule.

use std::sync::Arc;

use eds_api::constants::{condition_type, keys, reason, state};
use eds_plan::{
    NodeAction, OldDaemonSet, Plan,
    testing::{Scenario, crash, daemonset_pod, eds, fail, node, set_unready, t0},
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Converges `sc` on v1, then changes the image and runs the plan that creates the new ERS.
fn new_revision(sc: &mut Scenario) {
    sc.converge();
    sc.set_image("app:v2");
    let plan = sc.step();
    assert_eq!(plan.ers_applies.len(), 1, "first plan creates the new ERS");
    assert!(plan.pod_deletes.is_empty() && plan.pod_creates.is_empty());
}

fn action(plan: &Plan, node: &str) -> (NodeAction, String) {
    let n = plan
        .nodes
        .iter()
        .find(|n| *n.node == *node)
        .expect("node explained");
    (n.action, n.reason.to_string())
}

fn deleted_nodes(plan: &Plan) -> Vec<String> {
    plan.pod_deletes
        .iter()
        .filter_map(|d| d.node.clone())
        .collect()
}

#[test]
fn max_unavailable_limits_deletions_in_node_order() {
    let mut sc = eds("foo").max_unavailable(2).nodes(5);
    new_revision(&mut sc);
    let plan = sc.plan();
    assert_eq!(deleted_nodes(&plan), ["node-1", "node-2"]);
    assert_eq!(plan.budget.max_unavailable, 2);
    let (act, why) = action(&plan, "node-3");
    assert_eq!(act, NodeAction::Wait);
    assert_eq!(why, "wait (maxUnavailable 2/2 used by node-1, node-2)");
}

#[test]
fn percentage_max_unavailable_rounds_up() {
    let mut sc = eds("foo")
        .rolling(|r| r.max_unavailable = Some(IntOrString::String("40%".into())))
        .nodes(4);
    new_revision(&mut sc);
    assert_eq!(
        sc.plan().budget.max_unavailable,
        2,
        "40% of 4 = 1.6, rounded up"
    );
}

#[test]
fn an_unready_old_pod_uses_the_budget_and_is_replaced_for_free() {
    // k/k#123232: the DaemonSet controller ignores old unready pods in the budget and takes
    // another node down; the strict budget counts them.
    let mut sc = eds("foo").max_unavailable(1).nodes(4);
    new_revision(&mut sc);
    set_unready(sc.pod_mut("node-3"));
    let plan = sc.plan();
    assert_eq!(
        deleted_nodes(&plan),
        ["node-3"],
        "only the unavailable pod goes"
    );
    assert_eq!(action(&plan, "node-3").0, NodeAction::Replace);
    assert_eq!(
        action(&plan, "node-1"),
        (
            NodeAction::Wait,
            "wait (maxUnavailable 1/1 used by node-3)".to_string()
        )
    );
}

#[test]
fn a_rollout_is_not_blocked_by_pods_already_failing() {
    // Upstream e2e scenario 6.
    let mut sc = eds("foo").max_unavailable(1).nodes(3);
    new_revision(&mut sc);
    for n in ["node-2", "node-3"] {
        crash(sc.pod_mut(n), 7, "Error", t0());
        set_unready(sc.pod_mut(n));
    }
    let plan = sc.plan();
    assert_eq!(deleted_nodes(&plan), ["node-2", "node-3"]);
    sc.converge();
    for n in ["node-1", "node-2", "node-3"] {
        assert_eq!(
            sc.revision_on(n).as_deref(),
            Some(plan.target_revision.as_str())
        );
    }
}

#[test]
fn surge_creates_the_new_pod_first_and_removes_the_old_once_available() {
    let mut sc = eds("foo").max_surge(1).max_unavailable(0).nodes(3);
    new_revision(&mut sc);
    let plan = sc.step();
    assert!(
        plan.pod_deletes.is_empty(),
        "nothing is deleted before the new pod is up"
    );
    assert_eq!(plan.pod_creates.len(), 1);
    assert_eq!(action(&plan, "node-2").1, "wait (maxSurge 1/1 in use)");
    assert_eq!(sc.pods_on("node-1").len(), 2, "old and new side by side");
    // Not available yet: the old pod stays.
    assert!(sc.step().pod_deletes.is_empty());
    sc.advance(10);
    sc.settle_pods();
    let plan = sc.plan();
    assert_eq!(deleted_nodes(&plan), ["node-1"]);
    assert!(
        plan.pod_deletes[0]
            .reason
            .contains("replaced by available pod")
    );
}

#[test]
fn min_ready_seconds_delays_the_next_replacement() {
    let mut sc = eds("foo").max_unavailable(1).min_ready_seconds(30).nodes(2);
    new_revision(&mut sc);
    sc.step(); // delete the pod on node-1
    sc.step(); // create the new one
    sc.advance(10);
    sc.settle_pods(); // ready now, available in 30 s
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty(), "node-1 is not available yet");
    let requeue = plan.requeue_after.as_secs();
    assert!(requeue <= 30, "requeue {requeue}s");
    sc.advance(31);
    assert_eq!(deleted_nodes(&sc.plan()), ["node-2"]);
}

#[test]
fn slow_start_grows_the_number_of_pods_started_at_once() {
    let mut sc = eds("foo").nodes(10);
    assert_eq!(sc.step().pod_creates.len(), 0, "first plan creates the ERS");
    assert_eq!(sc.step().pod_creates.len(), 1, "1 pod in the first minute");
    assert_eq!(sc.step().pod_creates.len(), 0, "it is still starting");
    sc.advance(10);
    sc.settle_pods();
    assert_eq!(sc.step().pod_creates.len(), 1);
    sc.advance(60);
    sc.settle_pods();
    let plan = sc.step();
    assert_eq!(
        plan.pod_creates.len(),
        2,
        "2 pods per step after one interval"
    );
    assert!(
        plan.nodes
            .iter()
            .any(|n| &*n.reason == "wait (slow start: 2 pods starting at once)")
    );
}

#[test]
fn max_parallel_pod_creation_caps_creations() {
    let mut sc = eds("foo")
        .rolling(|r| {
            r.slow_start_additive_increase = Some(IntOrString::Int(100));
            r.max_parallel_pod_creation = Some(3);
        })
        .nodes(10);
    sc.step();
    let plan = sc.plan();
    assert_eq!(plan.pod_creates.len(), 3);
    assert_eq!(plan.budget.max_creation, 3);
}

#[test]
fn rolling_update_paused_creates_but_never_deletes() {
    let mut sc = eds("foo").fast_start(10).nodes(3);
    sc.converge();
    sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"));
    sc.set_image("app:v2");
    sc.add_node(node("node-4"));
    sc.step();
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty());
    assert_eq!(plan.pod_creates.len(), 1, "the new node still gets its pod");
    assert_eq!(
        plan.eds_status.state.as_deref(),
        Some(state::ROLLING_UPDATE_PAUSED)
    );
    // A pause a user asked for is not a failure: Reconciling (kstatus InProgress), not Stalled.
    let find = |plan: &Plan, t: &str| {
        plan.eds_status
            .conditions
            .iter()
            .find(|c| c.type_ == t)
            .cloned()
            .unwrap()
    };
    assert!(!find(&plan, condition_type::STALLED).is_true());
    let reconciling = find(&plan, condition_type::RECONCILING);
    assert!(reconciling.is_true());
    assert_eq!(
        reconciling.reason.as_deref(),
        Some(reason::ROLLING_UPDATE_PAUSED)
    );
    sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, None);
    let resumed = sc.step();
    let normal = |plan: &Plan| -> Vec<String> {
        plan.events
            .iter()
            .filter(|e| e.type_ == eds_plan::EventType::Normal)
            .map(|e| e.reason.clone())
            .collect()
    };
    assert_eq!(normal(&resumed), [reason::ROLLING_UPDATE_RESUMED]);
    sc.converge();
}

#[test]
fn pause_and_freeze_emit_normal_events_once_each_way() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    let reasons = |plan: &Plan| -> Vec<(String, Option<String>)> {
        plan.events
            .iter()
            .map(|e| (e.reason.clone(), e.revision.clone()))
            .collect()
    };
    let active = sc.active();
    sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"));
    assert_eq!(
        reasons(&sc.step()),
        [(
            reason::ROLLING_UPDATE_PAUSED.to_string(),
            Some(active.clone())
        )]
    );
    assert!(sc.step().events.is_empty(), "no repeat while it holds");
    sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, Some("true"));
    assert_eq!(
        reasons(&sc.step()),
        [(reason::ROLLOUT_FROZEN.to_string(), Some(active.clone()))]
    );
    sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, None);
    sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, None);
    let mut both: Vec<String> = sc.step().events.into_iter().map(|e| e.reason).collect();
    both.sort();
    assert_eq!(
        both,
        [reason::ROLLING_UPDATE_RESUMED, reason::ROLLOUT_UNFROZEN]
    );
    assert!(sc.step().events.is_empty());
}

#[test]
fn events_of_two_rollouts_name_their_own_revision() {
    let mut sc = eds("foo").nodes(3);
    let mut events = Vec::new();
    for image in ["app:v2", "app:v3"] {
        sc.converge();
        sc.set_image(image);
        let target = sc.plan().target_revision;
        while events
            .iter()
            .all(|(r, _, _): &(String, _, _)| r != &format!("{}:{target}", reason::ROLLOUT_DONE))
        {
            let plan = sc.step();
            sc.settle_pods();
            sc.advance(60);
            for e in plan.events {
                assert_eq!(e.revision.as_deref(), Some(target.as_str()), "{e:?}");
                assert!(e.message.contains(&target), "{e:?}");
                events.push((format!("{}:{target}", e.reason), e.revision, e.message));
            }
            assert!(
                events.len() < 20,
                "rollout of {image} never finished: {events:?}"
            );
        }
    }
    let done: Vec<_> = events
        .iter()
        .filter(|(r, _, _)| r.starts_with(reason::ROLLOUT_DONE))
        .collect();
    assert_eq!(done.len(), 2, "{events:?}");
    assert_ne!(done[0].1, done[1].1, "two revisions, two related objects");
}

#[test]
fn rollout_frozen_does_nothing() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, Some("true"));
    sc.set_image("app:v2");
    sc.add_node(node("node-3"));
    sc.step();
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty() && plan.pod_creates.is_empty());
    assert_eq!(
        plan.eds_status.state.as_deref(),
        Some(state::ROLLOUT_FROZEN)
    );
    assert_eq!(
        action(&plan, "node-3"),
        (
            NodeAction::Wait,
            "rollout frozen (rollout-frozen annotation)".to_string()
        )
    );
    // Unfreezing resumes the rollout (upstream envtest scenario).
    sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, None);
    sc.converge();
    assert_eq!(sc.snapshot.pods.len(), 3);
    assert_eq!(sc.state().as_deref(), Some(state::RUNNING));
}

#[test]
fn on_delete_replaces_a_pod_only_after_it_is_deleted() {
    let mut sc = eds("foo").on_delete().nodes(2);
    new_revision(&mut sc);
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty());
    // The user deletes the pod on node-1.
    sc.snapshot
        .pods
        .retain(|p| eds_plan::testing::node_of(p).as_deref() != Some("node-1"));
    let plan = sc.plan();
    assert_eq!(plan.pod_creates.len(), 1);
    assert_eq!(action(&plan, "node-1").0, NodeAction::Create);
    assert_eq!(action(&plan, "node-2").0, NodeAction::Wait);
}

#[test]
fn failed_pods_are_deleted_with_a_doubling_backoff() {
    let mut sc = eds("foo").nodes(1);
    sc.converge();
    fail(sc.pod_mut("node-1"));
    let plan = sc.step();
    assert_eq!(deleted_nodes(&plan), ["node-1"]);
    assert_eq!(plan.state.failed_pod_backoff["node-1"].delay.as_secs(), 10);
    assert_eq!(
        sc.step().pod_creates.len(),
        1,
        "replaced after the deletion"
    );
    fail(sc.pod_mut("node-1"));
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty(), "held back by the backoff");
    assert!(plan.requeue_after.as_secs() <= 8);
    sc.advance(10);
    let plan = sc.plan();
    assert_eq!(deleted_nodes(&plan), ["node-1"]);
    assert_eq!(plan.state.failed_pod_backoff["node-1"].delay.as_secs(), 20);
}

#[test]
fn duplicate_pods_keep_the_scheduled_then_oldest_then_first_by_name() {
    let mut sc = eds("foo").nodes(1);
    sc.converge();
    let original = sc.pod_on("node-1").clone();
    let mut younger = original.clone();
    younger.metadata.name = Some("zz-younger".into());
    younger.metadata.creation_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(sc.now));
    let mut unscheduled = original.clone();
    unscheduled.metadata.name = Some("aa-unscheduled".into());
    unscheduled.metadata.creation_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t0()));
    unscheduled.spec.as_mut().unwrap().node_name = None;
    sc.snapshot.pods.push(Arc::new(younger));
    sc.snapshot.pods.push(Arc::new(unscheduled));
    let mut names: Vec<String> = sc.plan().pod_deletes.into_iter().map(|d| d.name).collect();
    names.sort();
    assert_eq!(names, ["aa-unscheduled", "zz-younger"]);
}

#[test]
fn unresponsive_nodes_block_the_budget_unless_max_pod_scheduler_failure_allows() {
    let build = |tolerated: i32| {
        let mut sc = eds("foo")
            .max_unavailable(1)
            .rolling(|r| r.max_pod_scheduler_failure = Some(IntOrString::Int(tolerated)))
            .nodes(3);
        new_revision(&mut sc);
        // A new pod on node-3 stays unscheduled for 11 minutes.
        sc.snapshot
            .pods
            .retain(|p| eds_plan::testing::node_of(p).as_deref() != Some("node-3"));
        let plan = sc.step();
        assert_eq!(plan.pod_creates.len(), 1);
        let pod = sc.pod_mut("node-3");
        pod.spec.as_mut().unwrap().node_name = None;
        sc.advance(660);
        sc
    };
    let plan = build(0).plan();
    assert!(plan.pod_deletes.is_empty(), "node-3 holds the whole budget");
    let stalled = plan
        .eds_status
        .conditions
        .iter()
        .find(|c| c.type_ == condition_type::STALLED)
        .unwrap();
    assert!(stalled.is_true());
    assert_eq!(stalled.reason.as_deref(), Some(reason::ROLLOUT_BLOCKED));
    let plan = build(1).plan();
    assert_eq!(deleted_nodes(&plan), ["node-1"]);
    assert_eq!(plan.eds_status.ignored_unresponsive_nodes, 1);
}

#[test]
fn old_daemonset_pods_are_migrated_within_the_budget() {
    let mut sc = eds("foo")
        .annotate(keys::OLD_DAEMONSET_ANNOTATION, "legacy")
        .max_unavailable(1)
        .nodes(3);
    for n in ["node-1", "node-2", "node-3"] {
        sc.snapshot
            .old_daemonset_pods
            .push(Arc::new(daemonset_pod("legacy", n, t0())));
    }
    sc.step(); // creates the ERS
    let plan = sc.plan();
    assert_eq!(deleted_nodes(&plan), ["node-1"]);
    assert_eq!(
        plan.nodes[0].current_revision.as_deref(),
        Some("daemonset/legacy")
    );
    sc.converge();
    assert!(sc.snapshot.old_daemonset_pods.is_empty());
    assert_eq!(sc.snapshot.pods.len(), 3);
}

/// A migration scenario: `nodes` nodes, a ready pod of DaemonSet `legacy` on each of `legacy`
/// of them, and the DaemonSet in `state`.
fn migration(nodes: usize, legacy: usize, state: Option<OldDaemonSet>, surge: bool) -> Scenario {
    let mut b = eds("foo")
        .annotate(keys::OLD_DAEMONSET_ANNOTATION, "legacy")
        .max_unavailable(1);
    if surge {
        b = b.max_surge(1);
    }
    let mut sc = b.nodes(nodes);
    for i in 1..=legacy {
        sc.snapshot.old_daemonset_pods.push(Arc::new(daemonset_pod(
            "legacy",
            &format!("node-{i}"),
            t0(),
        )));
    }
    sc.snapshot.old_daemonset = state;
    sc
}

/// Steps `sc` `n` times (pods get ready as time passes); returns every plan's events.
fn steps(sc: &mut Scenario, n: usize) -> Vec<eds_plan::PlannedEvent> {
    let mut events = Vec::new();
    for _ in 0..n {
        let plan = sc.step();
        events.extend(plan.events);
        sc.advance(10);
        sc.settle_pods();
    }
    events
}

fn condition<'a>(plan: &'a Plan, type_: &str) -> &'a eds_api::Condition {
    plan.eds_status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition"))
}

/// A live DaemonSet re-creates every pod deleted: none of its pods is deleted, none is
/// created beside them (with or without surge), the rollout is Stalled with the fix, and the
/// Warning event comes once. A node without a pod of it gets ours. Once the DaemonSet is being
/// deleted, the migration proceeds within the budget.
#[test]
fn old_daemonset_live_keeps_its_pods_and_says_why() {
    for surge in [false, true] {
        let mut sc = migration(4, 3, Some(OldDaemonSet::Live), surge);
        let events = steps(&mut sc, 20);
        assert_eq!(
            sc.snapshot.old_daemonset_pods.len(),
            3,
            "surge {surge}: no pod of a live DaemonSet is deleted"
        );
        for n in ["node-1", "node-2", "node-3"] {
            assert_eq!(
                sc.pods_on(n).len(),
                1,
                "surge {surge}: nothing beside {n}'s"
            );
        }
        assert_eq!(sc.snapshot.pods.len(), 1, "node-4 gets a pod");
        let warnings: Vec<_> = events
            .iter()
            .filter(|e| e.reason == reason::OLD_DAEMONSET_LIVE)
            .collect();
        assert_eq!(
            warnings.len(),
            1,
            "one Warning, not one per plan: {events:?}"
        );
        assert_eq!(warnings[0].type_, eds_plan::EventType::Warning);
        let plan = sc.plan();
        assert!(plan.pod_deletes.is_empty() && plan.pod_creates.is_empty());
        let stalled = condition(&plan, condition_type::STALLED);
        assert!(stalled.is_true());
        assert_eq!(stalled.reason.as_deref(), Some(reason::OLD_DAEMONSET_LIVE));
        let message = stalled.message.clone().unwrap_or_default();
        assert!(
            message.contains("DaemonSet default/legacy")
                && message.contains("finalizer")
                && message.contains("Migrating from a DaemonSet"),
            "{message}"
        );
        assert!(!condition(&plan, condition_type::READY).is_true());
        assert!(!condition(&plan, condition_type::RECONCILING).is_true());
        let migration = condition(&plan, condition_type::MIGRATION);
        assert!(!migration.is_true());
        assert_eq!(
            migration.reason.as_deref(),
            Some(reason::OLD_DAEMONSET_LIVE)
        );
        assert_eq!(plan.eds_status.state.as_deref(), Some(state::RUNNING));
        let (act, why) = action(&plan, "node-1");
        assert_eq!(act, NodeAction::Wait);
        assert!(why.contains("not being deleted"), "{why}");

        // The user deletes the DaemonSet with a finalizer held: the migration proceeds.
        sc.snapshot.old_daemonset = Some(OldDaemonSet::Deleting);
        let plan = sc.plan();
        let acted = if surge {
            // Surge: the new pod first, beside the old one.
            plan.pod_creates
                .iter()
                .filter_map(|p| eds_plan::pod_node(p).map(str::to_string))
                .collect()
        } else {
            deleted_nodes(&plan)
        };
        assert_eq!(acted, ["node-1"], "surge {surge}");
        assert!(condition(&plan, condition_type::MIGRATION).is_true());
        let events = steps(&mut sc, 1);
        assert_eq!(
            events
                .iter()
                .filter(|e| e.reason == reason::OLD_DAEMONSET_DELETING)
                .count(),
            1
        );
        sc.converge();
        assert!(sc.snapshot.old_daemonset_pods.is_empty());
        assert_eq!(sc.snapshot.pods.len(), 4);
        let plan = sc.plan();
        assert!(condition(&plan, condition_type::READY).is_true());
        assert!(plan.events.is_empty(), "{:?}", plan.events);
    }
}

/// A live DaemonSet's pods are kept even where the ExtendedDaemonSet would delete them for
/// free: not available, or on a node the ExtendedDaemonSet does not run on.
#[test]
fn old_daemonset_live_keeps_even_free_deletes() {
    let mut sc = eds("foo")
        .annotate(keys::OLD_DAEMONSET_ANNOTATION, "legacy")
        .node_selector("role", "agent")
        .on(vec![node("node-1").label("role", "agent"), node("node-2")]);
    for n in ["node-1", "node-2"] {
        sc.snapshot
            .old_daemonset_pods
            .push(Arc::new(daemonset_pod("legacy", n, t0())));
    }
    sc.snapshot.old_daemonset = Some(OldDaemonSet::Live);
    set_unready(Arc::make_mut(&mut sc.snapshot.old_daemonset_pods[0]));
    for _ in 0..5 {
        sc.step();
        sc.advance(10);
    }
    assert_eq!(sc.snapshot.old_daemonset_pods.len(), 2);
    assert!(sc.snapshot.pods.is_empty());
    // Being deleted, both go: the unavailable one at once, the other node's for free.
    sc.snapshot.old_daemonset = Some(OldDaemonSet::Deleting);
    assert_eq!(sc.plan().pod_deletes.len(), 2);
}

/// A DaemonSet that does not exist: a Warning (condition and one event), nothing else changes.
#[test]
fn old_daemonset_missing_warns_once() {
    let mut sc = migration(3, 0, Some(OldDaemonSet::Missing), false);
    let events = steps(&mut sc, 3);
    sc.converge();
    assert_eq!(sc.snapshot.pods.len(), 3);
    let warnings: Vec<_> = events
        .iter()
        .filter(|e| e.reason == reason::OLD_DAEMONSET_NOT_FOUND)
        .collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    assert_eq!(warnings[0].type_, eds_plan::EventType::Warning);
    assert!(warnings[0].message.contains("DaemonSet default/legacy"));
    let plan = sc.plan();
    assert!(condition(&plan, condition_type::READY).is_true());
    assert!(!condition(&plan, condition_type::STALLED).is_true());
    let migration = condition(&plan, condition_type::MIGRATION);
    assert!(!migration.is_true());
    assert_eq!(
        migration.reason.as_deref(),
        Some(reason::OLD_DAEMONSET_NOT_FOUND)
    );
    assert!(plan.events.is_empty());
    // Same pods as without the annotation.
    let mut plain = eds("foo").max_unavailable(1).nodes(3);
    plain.converge();
    let names = |s: &Scenario| {
        let mut n: Vec<_> = s
            .snapshot
            .pods
            .iter()
            .map(|p| p.metadata.name.clone())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&sc), names(&plain));
    // Removing the annotation removes the condition.
    sc.annotate(keys::OLD_DAEMONSET_ANNOTATION, None);
    let plan = sc.plan();
    assert!(
        plan.eds_status
            .conditions
            .iter()
            .all(|c| c.type_ != condition_type::MIGRATION)
    );
}

/// Being deleted (the documented procedure): the migration proceeds as it always did, with
/// `Migration` `True` and no warning.
#[test]
fn old_daemonset_deleting_migrates_without_warning() {
    let mut sc = migration(3, 3, Some(OldDaemonSet::Deleting), false);
    let events = steps(&mut sc, 2);
    assert!(
        events
            .iter()
            .all(|e| e.type_ != eds_plan::EventType::Warning),
        "{events:?}"
    );
    sc.converge();
    assert!(sc.snapshot.old_daemonset_pods.is_empty());
    let plan = sc.plan();
    assert!(condition(&plan, condition_type::MIGRATION).is_true());
    assert!(condition(&plan, condition_type::READY).is_true());
    // The user removes the finalizer: the DaemonSet is gone, the migration over, no warning.
    sc.snapshot.old_daemonset = Some(OldDaemonSet::Missing);
    let events = steps(&mut sc, 3);
    assert!(events.is_empty(), "{events:?}");
    let migration = condition(&sc.plan(), condition_type::MIGRATION).clone();
    assert!(migration.is_true());
    assert_eq!(
        migration.reason.as_deref(),
        Some(reason::OLD_DAEMONSET_DELETED)
    );
}

/// A live DaemonSet that disappears without being deleted through the procedure (orphan
/// delete): pods it orphaned may remain, so that is a Warning.
#[test]
fn old_daemonset_gone_from_live_warns() {
    let mut sc = migration(2, 2, Some(OldDaemonSet::Live), false);
    steps(&mut sc, 2);
    sc.snapshot.old_daemonset = Some(OldDaemonSet::Missing);
    sc.snapshot.old_daemonset_pods.clear();
    let events = steps(&mut sc, 3);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.reason == reason::OLD_DAEMONSET_NOT_FOUND)
            .count(),
        1,
        "{events:?}"
    );
}
