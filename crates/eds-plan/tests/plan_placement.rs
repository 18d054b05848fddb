//! Which nodes run a pod, and how pods are pinned to them.

use eds_api::constants::taints;
use eds_plan::{
    NodeAction, Plan,
    testing::{eds, node},
};
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
};

fn action(plan: &Plan, node: &str) -> NodeAction {
    plan.nodes
        .iter()
        .find(|n| *n.node == *node)
        .expect("node")
        .action
}

fn created_on(plan: &Plan) -> Vec<String> {
    plan.pod_creates
        .iter()
        .map(|p| eds_plan::testing::node_of(p).unwrap())
        .collect()
}

fn term(key: &str, op: &str, values: &[&str]) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: Some(vec![NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }]),
        match_fields: None,
    }
}

fn required(terms: Vec<NodeSelectorTerm>) -> Option<Affinity> {
    Some(Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: terms,
            }),
            ..NodeAffinity::default()
        }),
        ..Affinity::default()
    })
}

#[test]
fn node_selector_and_eds_selector_filter_nodes() {
    let nodes = vec![
        node("a").label("disk", "ssd").label("pool", "x"),
        node("b").label("disk", "hdd").label("pool", "x"),
        node("c").label("disk", "ssd").label("pool", "y"),
    ];
    let mut sc = eds("foo")
        .fast_start(10)
        .node_selector("disk", "ssd")
        .with(|e| {
            e.spec.selector = Some(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                    match_labels: Some([("pool".to_string(), "x".to_string())].into()),
                    match_expressions: None,
                },
            )
        })
        .on(nodes);
    sc.step();
    let plan = sc.plan();
    assert_eq!(created_on(&plan), ["a"]);
    assert_eq!(action(&plan, "b"), NodeAction::Skip);
    assert_eq!(action(&plan, "c"), NodeAction::Skip);
    assert_eq!(plan.eds_status.desired, 1);
}

#[test]
fn required_node_affinity_excludes_nodes() {
    let nodes = vec![
        node("a"),
        node("b").label("extendeddaemonset.datadoghq.com/exclude", "foo"),
    ];
    let mut sc = eds("foo")
        .fast_start(10)
        .pod_spec(|s| {
            s.affinity = required(vec![term(
                "extendeddaemonset.datadoghq.com/exclude",
                "NotIn",
                &["foo"],
            )])
        })
        .on(nodes);
    sc.step();
    assert_eq!(created_on(&sc.plan()), ["a"]);
}

#[test]
fn pods_are_pinned_with_a_match_field_in_every_required_term() {
    let nodes = vec![node("a").label("zone", "1")];
    let mut sc = eds("foo")
        .pod_spec(|s| {
            s.affinity = required(vec![term("zone", "In", &["1"]), term("zone", "In", &["2"])])
        })
        .on(nodes);
    sc.step();
    let plan = sc.plan();
    let pod: &Pod = &plan.pod_creates[0];
    let terms = &pod
        .spec
        .as_ref()
        .unwrap()
        .affinity
        .as_ref()
        .unwrap()
        .node_affinity
        .as_ref()
        .unwrap()
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .unwrap()
        .node_selector_terms;
    assert_eq!(terms.len(), 2);
    for t in terms {
        let fields = t.match_fields.as_ref().unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].key, "metadata.name");
        assert_eq!(fields[0].operator, "In");
        assert_eq!(fields[0].values.as_deref(), Some(&["a".to_string()][..]));
        assert!(t.match_expressions.is_some(), "label requirements are kept");
    }
    assert_eq!(
        pod.spec.as_ref().unwrap().node_name,
        None,
        "the scheduler binds it"
    );
}

#[test]
fn untolerated_no_schedule_keeps_existing_pods_and_no_execute_removes_them() {
    let mut sc = eds("foo").fast_start(10).nodes(3);
    sc.converge();
    let taint = |sc: &mut eds_plan::testing::Scenario, name: &str, effect: &str| {
        sc.node_mut(name)
            .spec
            .get_or_insert_with(Default::default)
            .taints = Some(vec![k8s_openapi::api::core::v1::Taint {
            key: "dedicated".into(),
            value: Some("db".into()),
            effect: effect.into(),
            time_added: None,
        }]);
    };
    taint(&mut sc, "node-1", taints::NO_SCHEDULE);
    taint(&mut sc, "node-2", taints::NO_EXECUTE);
    let plan = sc.plan();
    assert_eq!(action(&plan, "node-1"), NodeAction::Keep);
    assert_eq!(action(&plan, "node-2"), NodeAction::Delete);
    assert_eq!(plan.pod_deletes.len(), 1);
    assert_eq!(plan.eds_status.desired, 1);
    // A new node with the NoSchedule taint gets nothing.
    sc.add_node(node("node-4").taint("dedicated", "db", taints::NO_SCHEDULE));
    assert_eq!(action(&sc.plan(), "node-4"), NodeAction::Skip);
}

#[test]
fn daemonset_default_tolerations_include_pid_pressure() {
    let nodes = vec![
        node("a").taint(taints::PID_PRESSURE, "", taints::NO_SCHEDULE),
        node("b").taint(taints::NOT_READY, "", taints::NO_EXECUTE),
        node("c").taint(taints::UNSCHEDULABLE, "", taints::NO_SCHEDULE),
        node("d").taint("custom", "", taints::NO_SCHEDULE),
    ];
    let mut sc = eds("foo").fast_start(10).on(nodes);
    sc.step();
    let plan = sc.plan();
    assert_eq!(created_on(&plan), ["a", "b", "c"]);
    let tolerations = plan.pod_creates[0]
        .spec
        .as_ref()
        .unwrap()
        .tolerations
        .clone()
        .unwrap();
    for key in [
        taints::NOT_READY,
        taints::UNREACHABLE,
        taints::DISK_PRESSURE,
        taints::MEMORY_PRESSURE,
        taints::PID_PRESSURE,
        taints::UNSCHEDULABLE,
        taints::NETWORK_UNAVAILABLE,
    ] {
        assert!(
            tolerations.iter().any(|t| t.key.as_deref() == Some(key)),
            "missing toleration {key}"
        );
    }
}

#[test]
fn template_tolerations_allow_tainted_nodes() {
    let nodes = vec![node("a").taint("dedicated", "db", taints::NO_SCHEDULE)];
    let mut sc = eds("foo")
        .pod_spec(|s| {
            s.tolerations = Some(vec![k8s_openapi::api::core::v1::Toleration {
                key: Some("dedicated".into()),
                operator: Some("Equal".into()),
                value: Some("db".into()),
                effect: Some(taints::NO_SCHEDULE.into()),
                toleration_seconds: None,
            }])
        })
        .on(nodes);
    sc.step();
    assert_eq!(created_on(&sc.plan()), ["a"]);
}
