//! Objects a plan writes: pods, ERSs, statuses, events; and snapshots read from files.

use std::sync::Arc;

use eds_api::{
    ExtendedDaemonSetReplicaSet,
    constants::{condition_type, keys, reason, setting_state, state},
};
use eds_plan::{
    EventType, NodeAction, Plan, Snapshot, plan,
    revision::{ers_name, pod_name, template_hash},
    testing::{eds, node, setting, t0},
};
use k8s_openapi::{
    api::core::v1::Pod,
    apimachinery::pkg::{api::resource::Quantity, util::intstr::IntOrString},
};

fn cpu_request(pod: &Pod) -> Option<String> {
    let c = &pod.spec.as_ref()?.containers[0];
    c.resources
        .as_ref()?
        .requests
        .as_ref()?
        .get("cpu")
        .map(|q| q.0.clone())
}

fn condition<'a>(plan: &'a Plan, type_: &str) -> &'a eds_api::Condition {
    plan.eds_status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .expect("condition")
}

#[test]
fn pods_and_erss_carry_upstream_names_labels_annotations_and_owners() {
    let mut sc = eds("foo").nodes(1);
    let first = sc.step();
    let hash = template_hash(&sc.snapshot.eds.spec.template);
    let ers_name = ers_name("foo", &hash);
    assert_eq!(first.target_revision, ers_name);
    let ers: &ExtendedDaemonSetReplicaSet = &first.ers_applies[0];
    assert_eq!(ers.metadata.name.as_deref(), Some(ers_name.as_str()));
    assert_eq!(ers.labels()[keys::EDS_NAME_LABEL], "foo");
    assert_eq!(ers.annotations()[keys::TEMPLATE_HASH_ANNOTATION], hash);
    assert_eq!(ers.annotations()[keys::REVISION_ANNOTATION], "1");
    let owner = &ers.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ExtendedDaemonSet", "foo")
    );
    assert_eq!(owner.uid, "uid-eds-foo");
    assert_eq!(owner.controller, Some(true));
    assert!(
        first
            .events
            .iter()
            .any(|e| e.reason == reason::CREATE_ERS && e.message == format!("default/{ers_name}"))
    );

    let plan = sc.plan();
    let pod = &plan.pod_creates[0];
    assert_eq!(
        pod.metadata.name.as_deref(),
        Some(pod_name(&ers_name, "node-1", 0).as_str())
    );
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[keys::EDS_NAME_LABEL], "foo");
    assert_eq!(labels[keys::ERS_NAME_LABEL], ers_name);
    assert_eq!(labels["app"], "foo", "template labels are kept");
    let annotations = pod.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations[keys::TEMPLATE_HASH_ANNOTATION], hash);
    assert_eq!(
        annotations[keys::AUTOSCALER_DAEMONSET_POD_ANNOTATION],
        "true"
    );
    assert!(!annotations.contains_key(keys::NODE_HASH_ANNOTATION));
    let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("ExtendedDaemonSetReplicaSet", ers_name.as_str())
    );
    assert_eq!(owner.uid, format!("uid-{ers_name}"));
}

use kube::ResourceExt;

#[test]
fn a_rollback_reuses_the_old_ers_with_a_new_revision_number() {
    let mut sc = eds("foo").fast_start(10).nodes(2);
    sc.converge();
    let v1 = sc.active();
    sc.set_image("app:v2");
    sc.converge();
    sc.set_image("app:v1");
    let plan = sc.plan();
    assert_eq!(plan.target_revision, v1, "same template, same ERS");
    let applied = plan
        .ers_applies
        .iter()
        .find(|e| e.name_any() == v1)
        .unwrap();
    assert_eq!(applied.annotations()[keys::REVISION_ANNOTATION], "3");
    sc.converge();
    assert_eq!(sc.active(), v1);
}

#[test]
fn revision_history_limit_keeps_old_erss_without_pods() {
    let mut sc = eds("foo").fast_start(10).history(1).nodes(2);
    sc.converge();
    for image in ["app:v2", "app:v3", "app:v4"] {
        sc.set_image(image);
        sc.converge();
    }
    let mut names: Vec<String> = sc
        .snapshot
        .replica_sets
        .iter()
        .map(|e| e.name_any())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "the active ERS and one old one: {names:?}");
    let v3 = ers_name("foo", &{
        let mut e = sc.snapshot.eds.clone();
        eds_plan::testing::set_image(&mut e, "app:v3");
        template_hash(&e.spec.template)
    });
    assert!(names.contains(&v3));
    assert!(names.contains(&sc.active()));
}

#[test]
fn an_ers_with_pods_is_never_deleted() {
    let mut sc = eds("foo").history(0).nodes(2);
    sc.converge();
    let v1 = sc.active();
    sc.set_image("app:v2");
    sc.step();
    let plan = sc.plan();
    assert!(plan.ers_deletes.is_empty());
    assert!(sc.snapshot.replica_sets.iter().any(|e| e.name_any() == v1));
}

#[test]
fn ers_left_by_the_upstream_controller_are_adopted_without_rolling() {
    let mut sc = eds("foo").fast_start(10).nodes(3);
    sc.converge();
    // Rename everything as the upstream controller would have: random suffix, md5 annotation.
    let ours = sc.active();
    let upstream = "foo-x7k2p";
    for ers in &mut sc.snapshot.replica_sets {
        ers.metadata.name = Some(upstream.into());
        ers.metadata.annotations = Some(
            [(
                keys::TEMPLATE_HASH_ANNOTATION.to_string(),
                "0f343b0931126a20f133d67c2b018a3b".to_string(),
            )]
            .into(),
        );
        ers.status = None;
    }
    for pod in sc.snapshot.pods.iter_mut().map(Arc::make_mut) {
        pod.labels_mut()
            .insert(keys::ERS_NAME_LABEL.into(), upstream.into());
        pod.annotations_mut().insert(
            keys::TEMPLATE_HASH_ANNOTATION.into(),
            "0f343b0931126a20f133d67c2b018a3b".into(),
        );
    }
    sc.snapshot.eds.status.as_mut().unwrap().active_replica_set = upstream.into();
    let plan = sc.plan();
    assert_eq!(plan.target_revision, upstream);
    assert_ne!(ours, upstream);
    assert!(plan.pod_creates.is_empty() && plan.pod_deletes.is_empty());
    assert!(
        plan.ers_applies.iter().all(|e| e.name_any() == upstream),
        "no new ERS"
    );
    assert!(plan.nodes.iter().all(|n| n.action == NodeAction::Keep));
}

#[test]
fn settings_then_node_annotations_set_resources() {
    let prefix = keys::node_resources_annotation("default", "foo", "app");
    let nodes = vec![
        node("plain"),
        node("big").label("size", "big"),
        node("override")
            .label("size", "big")
            .annotate(&prefix, r#"{"requests":{"cpu":"3"}}"#),
        node("broken")
            .label("size", "big")
            .annotate(&prefix, "{not json"),
    ];
    let mut sc = eds("foo").fast_start(10).on(nodes);
    sc.add_setting(setting("big-nodes", "foo", ("size", "big"), "2", 0));
    let first = sc.step();
    let plan = sc.plan();
    let on = |n: &str| {
        plan.pod_creates
            .iter()
            .find(|p| eds_plan::testing::node_of(p).as_deref() == Some(n))
            .unwrap()
    };
    assert_eq!(cpu_request(on("plain")), None);
    assert_eq!(cpu_request(on("big")), Some("2".into()));
    assert_eq!(on("big").labels()[keys::SETTING_NAME_LABEL], "big-nodes");
    assert_eq!(on("big").labels()[keys::SETTING_NAMESPACE_LABEL], "default");
    assert_eq!(cpu_request(on("override")), Some("3".into()));
    assert!(
        on("override")
            .annotations()
            .contains_key(keys::NODE_HASH_ANNOTATION)
    );
    assert_eq!(
        cpu_request(on("broken")),
        Some("2".into()),
        "malformed override ignored"
    );
    let warnings: Vec<_> = plan
        .events
        .iter()
        .filter(|e| e.type_ == EventType::Warning && e.reason == reason::INVALID_NODE_ANNOTATION)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("node broken"));
    assert_eq!(
        first.setting_statuses,
        [(
            "big-nodes".to_string(),
            eds_api::ExtendedDaemonsetSettingStatus {
                status: setting_state::VALID.into(),
                error: None,
            }
        )]
    );
}

#[test]
fn the_newest_of_overlapping_settings_wins() {
    let mut sc = eds("foo")
        .fast_start(10)
        .on(vec![node("a").label("size", "big")]);
    sc.add_setting(setting("older", "foo", ("size", "big"), "1", 0));
    sc.add_setting(setting("newer", "foo", ("size", "big"), "2", 60));
    let first = sc.step();
    let plan = sc.plan();
    assert_eq!(cpu_request(&plan.pod_creates[0]), Some("2".into()));
    assert!(plan.setting_statuses.is_empty(), "stored by the first plan");
    let plan = first;
    let older = plan
        .setting_statuses
        .iter()
        .find(|(n, _)| n == "older")
        .unwrap();
    assert_eq!(older.1.status, setting_state::ERROR);
    assert_eq!(
        older.1.error.as_deref(),
        Some("conflict with another ExtendedDaemonsetSetting: newer")
    );
    assert!(
        plan.events
            .iter()
            .any(|e| e.reason == reason::SETTING_CONFLICT)
    );
}

#[test]
fn a_setting_edited_in_place_replaces_the_pods_it_applies_to() {
    let mut sc = eds("foo")
        .fast_start(10)
        .on(vec![node("a").label("size", "big"), node("b")]);
    sc.add_setting(setting("big-nodes", "foo", ("size", "big"), "1", 0));
    sc.converge();
    assert!(sc.plan().pod_deletes.is_empty());
    let s = &mut sc.snapshot.settings[0];
    s.spec.containers[0].resources.requests =
        Some([("cpu".to_string(), Quantity("4".into()))].into());
    let plan = sc.plan();
    assert_eq!(plan.pod_deletes.len(), 1);
    assert_eq!(plan.pod_deletes[0].node.as_deref(), Some("a"));
    sc.converge();
    assert_eq!(cpu_request(sc.pod_on("a")), Some("4".into()));
}

#[test]
fn an_invalid_spec_stalls_with_a_warning_and_touches_no_pod() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    sc.edit(|e| {
        let ru = e
            .spec
            .strategy
            .rolling_update
            .get_or_insert_with(Default::default);
        ru.max_unavailable = Some(IntOrString::Int(0));
        ru.max_surge = Some(IntOrString::Int(0));
        eds_plan::testing::set_image(e, "app:v2");
    });
    let plan = sc.step();
    assert!(
        plan.pod_creates.is_empty() && plan.pod_deletes.is_empty() && plan.ers_applies.is_empty()
    );
    let stalled = condition(&plan, condition_type::STALLED);
    assert!(stalled.is_true());
    assert_eq!(stalled.reason.as_deref(), Some(reason::INVALID_SPEC));
    assert!(
        stalled
            .message
            .as_ref()
            .unwrap()
            .contains("maxSurge and maxUnavailable cannot both be 0")
    );
    let warnings = plan
        .events
        .iter()
        .filter(|e| e.type_ == EventType::Warning)
        .count();
    assert_eq!(warnings, 1);
    assert_eq!(plan.eds_status.observed_generation, Some(2));
    // The second time nothing new is said.
    let again = sc.plan();
    assert!(again.events.is_empty());
    assert!(!again.has_changes());
}

#[test]
fn a_converged_ers_plans_nothing_and_keeps_its_status_byte_for_byte() {
    let mut sc = eds("foo").canary(1).nodes(3);
    sc.converge();
    let stored = sc.snapshot.eds.status.clone();
    sc.advance(3600);
    let plan = sc.plan();
    assert!(!plan.has_changes(), "{plan:#?}");
    assert_eq!(Some(plan.eds_status.clone()), stored);
    assert_eq!(plan, sc.plan(), "planning twice gives the same plan");
    // Done, yet the full resync stays: upstream reconciles every reconcileFrequency.
    assert_eq!(plan.requeue_after, std::time::Duration::from_secs(10));
    let ready = condition(&plan, condition_type::READY);
    assert!(ready.is_true());
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::RUNNING));
    assert_eq!(
        (
            plan.eds_status.desired,
            plan.eds_status.current,
            plan.eds_status.ready,
            plan.eds_status.available,
            plan.eds_status.up_to_date
        ),
        (3, 3, 3, 3, 3)
    );
}

#[test]
fn status_conditions_follow_the_rollout() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    sc.set_image("app:v2");
    sc.step();
    let plan = sc.step();
    assert!(condition(&plan, condition_type::RECONCILING).is_true());
    assert!(!condition(&plan, condition_type::READY).is_true());
    assert!(!condition(&plan, condition_type::STALLED).is_true());
    let sim = sc.converge();
    let last = sim.last_plan.unwrap();
    assert!(condition(&last, condition_type::READY).is_true());
    assert!(sim.waves.iter().any(|w| !w.created.is_empty()));
    let done_event = sc.snapshot.eds.status.as_ref().unwrap();
    assert_eq!(done_event.up_to_date, 2);
}

#[test]
fn a_snapshot_reads_a_multi_document_yaml_state_file() {
    let mut sc = eds("foo").fast_start(10).nodes(2);
    sc.converge();
    let mut docs = Vec::new();
    let eds_json = serde_json::to_value(&sc.snapshot.eds).unwrap();
    docs.push(eds_json);
    let mut other = sc.snapshot.eds.clone();
    other.metadata.name = Some("other".into());
    docs.push(serde_json::to_value(&other).unwrap());
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": sc.snapshot.pods.iter().map(|p| serde_json::to_value(p).unwrap())
            .chain(sc.snapshot.nodes.iter().map(|n| serde_json::to_value(n).unwrap()))
            .collect::<Vec<_>>(),
    });
    docs.push(list);
    for ers in &sc.snapshot.replica_sets {
        docs.push(serde_json::to_value(ers).unwrap());
    }
    docs.push(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}));
    let yaml: String = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    assert!(
        Snapshot::from_yaml(&yaml, None).is_err(),
        "two ExtendedDaemonSets: ambiguous"
    );
    let snapshot = Snapshot::from_yaml(&yaml, Some("foo")).unwrap();
    assert_eq!(snapshot.nodes.len(), 2);
    assert_eq!(snapshot.pods.len(), 2);
    assert_eq!(snapshot.replica_sets.len(), 1);
    let plan = plan(&snapshot, sc.now);
    assert!(!plan.has_changes());
    assert!(Snapshot::from_yaml("kind: Pod\n", None).is_err());
    let _ = t0();
}

#[test]
fn waiting_for_the_canary_writes_nothing() {
    let mut sc = eds("foo").canary(1).nodes(3);
    sc.converge();
    sc.set_image("app:v2");
    for _ in 0..4 {
        sc.step();
    }
    sc.advance(30);
    sc.settle_pods();
    sc.step();
    sc.advance(60);
    let plan = sc.plan();
    assert_eq!(plan.eds_status.state.as_deref(), Some(state::CANARY));
    assert!(!plan.has_changes(), "{:#?}", plan);
    assert!(plan.requeue_after <= std::time::Duration::from_secs(10));
}

#[test]
fn a_pod_is_of_the_revision_its_label_names_or_else_of_its_owner() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    let target = sc.plan().target_revision;
    // Node 0: the ERS label removed; the owner reference still names the ERS.
    // Node 1: the owner reference removed; the label still names the ERS.
    for (i, pod) in sc.snapshot.pods.iter_mut().map(Arc::make_mut).enumerate() {
        if i == 0 {
            pod.metadata
                .labels
                .as_mut()
                .expect("labels")
                .remove(keys::ERS_NAME_LABEL);
        } else {
            pod.metadata.owner_references = None;
        }
    }
    let plan = sc.plan();
    assert!(plan.pod_deletes.is_empty(), "{:#?}", plan.pod_deletes);
    assert!(plan.nodes.iter().all(|n| n.action == NodeAction::Keep));
    for n in &plan.nodes {
        assert_eq!(
            n.current_revision.as_deref(),
            Some(target.as_str()),
            "{n:?}"
        );
    }
    // Neither: the pod belongs to no revision and is replaced.
    Arc::make_mut(&mut sc.snapshot.pods[0])
        .metadata
        .owner_references = None;
    let plan = sc.plan();
    assert_eq!(plan.pod_deletes.len(), 1, "{:#?}", plan.nodes);
}

/// The requeue is decided once, here; the controller requeues at exactly `plan.requeue_after`.
/// It used to resync a converged ExtendedDaemonSet that the plan said needed no requeue, and to
/// floor a `0s` reconcileFrequency at 100 ms where the simulated clock floored it at 1 s.
#[test]
fn the_requeue_is_the_nearest_deadline_within_the_resync_period_at_least_a_second() {
    use std::time::Duration;
    let secs = |s: u64| eds_api::Duration::from(Duration::from_secs(s));
    let mut sc = eds("foo").nodes(3);
    sc.edit(|e| e.spec.strategy.reconcile_frequency = Some(secs(30)));
    sc.converge();
    assert_eq!(sc.plan().requeue_after, Duration::from_secs(30), "done");
    sc.set_image("app:v2");
    let mut deleted = 0;
    for _ in 0..3 {
        let plan = sc.step();
        deleted += plan.pod_deletes.len();
        assert!(plan.requeue_after <= Duration::from_secs(30));
        assert!(plan.requeue_after >= Duration::from_secs(1));
    }
    assert!(deleted > 0, "the rollout started");
    sc.edit(|e| e.spec.strategy.reconcile_frequency = Some(secs(0)));
    for _ in 0..3 {
        let plan = sc.step();
        assert_eq!(plan.requeue_after, Duration::from_secs(1), "0s is floored");
        sc.advance(1);
        sc.settle_pods();
    }
    sc.edit(|e| {
        e.spec.strategy.reconcile_frequency = Some(secs(20));
        let ru = e
            .spec
            .strategy
            .rolling_update
            .get_or_insert_with(Default::default);
        ru.max_unavailable = Some(IntOrString::Int(0));
        ru.max_surge = Some(IntOrString::Int(0));
    });
    let invalid = sc.step();
    assert!(condition(&invalid, condition_type::STALLED).is_true());
    assert_eq!(invalid.requeue_after, Duration::from_secs(20), "invalid");
}

#[test]
fn the_plan_reports_the_steering_annotations_it_obeyed() {
    let mut sc = eds("foo").nodes(2);
    sc.converge();
    assert_eq!(sc.plan().steering, eds_plan::Steering::default());
    sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, Some("true"));
    sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("yes"));
    sc.annotate(keys::OLD_DAEMONSET_ANNOTATION, Some("agent"));
    sc.set_image("app:v2");
    let plan = sc.plan();
    assert!(plan.steering.rollout_frozen);
    assert!(!plan.steering.rolling_update_paused, "only \"true\" pauses");
    assert_eq!(plan.steering.old_daemonset.as_deref(), Some("agent"));
    assert!(
        plan.pod_deletes.is_empty() && plan.pod_creates.is_empty(),
        "frozen"
    );
}

/// A bad override written on a node that already runs its pod: the pod is replaced (the
/// node's overrides changed) with the template's resources, and the Warning names the node,
/// the annotation and what is allowed.
#[test]
fn a_bad_override_added_later_is_reported_with_what_is_allowed_and_ignored() {
    let mut sc = eds("foo").fast_start(10).nodes(2);
    sc.converge();
    let key = keys::node_resources_annotation("default", "foo", "app");
    sc.node_mut("node-1")
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(key.clone(), r#"{"limits":{"cpu":"lots"}}"#.into());
    let mut warnings = Vec::new();
    let mut created = Vec::new();
    for _ in 0..20 {
        let plan = sc.step();
        sc.advance(10);
        sc.settle_pods();
        warnings.extend(
            plan.events
                .into_iter()
                .filter(|e| e.reason == reason::INVALID_NODE_ANNOTATION)
                .map(|e| e.message),
        );
        created.extend(plan.pod_creates);
    }
    assert_eq!(
        created.len(),
        1,
        "the annotated node's pod is replaced once"
    );
    assert_eq!(
        cpu_request(&created[0]),
        None,
        "the bad override is not applied"
    );
    assert_eq!(
        warnings,
        [format!(
            "node node-1: annotation {key} ignored: limits.cpu: \"lots\" is not a quantity; \
             expected a number with an optional suffix (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, \
             Ei or an exponent), e.g. 100m, 0.5, 256Mi, 1e3"
        )]
    );
}

/// A state file says whether the `old-daemonset` DaemonSet is live, being deleted or absent;
/// the DaemonSet of another namespace or name does not count.
#[test]
fn a_snapshot_reads_the_old_daemonset_state() {
    use eds_plan::OldDaemonSet;
    let eds_doc = serde_json::to_value(
        eds("foo")
            .annotate(keys::OLD_DAEMONSET_ANNOTATION, "legacy")
            .build(),
    )
    .unwrap();
    let ds = |name: &str, ns: &str, deleting: bool| {
        let mut d = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns},
        });
        if deleting {
            d["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z".into();
            d["metadata"]["finalizers"] = serde_json::json!(["example.com/hold"]);
        }
        d
    };
    let read = |extra: Vec<serde_json::Value>| {
        let docs: Vec<String> = std::iter::once(&eds_doc)
            .chain(&extra)
            .map(|d| serde_saphyr::to_string(d).unwrap())
            .collect();
        Snapshot::from_yaml(&docs.join("---\n"), None)
            .unwrap()
            .old_daemonset
    };
    let ns = eds_plan::testing::NAMESPACE;
    assert_eq!(read(vec![]), Some(OldDaemonSet::Missing));
    assert_eq!(
        read(vec![
            ds("legacy", "elsewhere", false),
            ds("other", ns, false)
        ]),
        Some(OldDaemonSet::Missing)
    );
    assert_eq!(
        read(vec![ds("legacy", ns, false)]),
        Some(OldDaemonSet::Live)
    );
    assert_eq!(
        read(vec![ds("legacy", ns, true)]),
        Some(OldDaemonSet::Deleting)
    );
    // Without the annotation the DaemonSet is not looked at.
    let mut plain = eds("foo").build();
    plain.metadata.annotations = None;
    let yaml = serde_saphyr::to_string(&plain).unwrap();
    assert_eq!(
        Snapshot::from_yaml(&yaml, None).unwrap().old_daemonset,
        None
    );
}
