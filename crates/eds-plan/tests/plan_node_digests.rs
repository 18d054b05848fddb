//! The planner reads a node the same whether the snapshot carries it decoded (`nodes`, as tests
//! and `eds plan` do) or digested (`digested_nodes`, as the controller's node cache holds it).
//!
//! Random nodes (labels present, absent or empty; taints of every effect; resource-override
//! annotations valid, invalid and for other ExtendedDaemonSets; some being deleted) under a
//! random spec (spec.selector and canary.nodeSelector with every matchExpressions operator,
//! the template's nodeSelector, required node affinity on labels and on `metadata.name`,
//! tolerations, an ExtendedDaemonsetSetting) are planned at several points of a rollout with
//! every node undigested, every node digested, and one in two digested: the plans are equal.
//! And a digest reads of the node what the decoded node holds: its labels, taints,
//! resource-override annotations and deletion.

use std::sync::Arc;

use eds_api::constants::keys;
use eds_plan::{
    digest::NodeDigest,
    testing::{CONTAINER, NAMESPACE, Scenario, eds, node, setting},
};
use k8s_openapi::{
    api::core::v1::{
        Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
        Toleration,
    },
    apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, Time},
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct NodeParams {
    zone: Option<&'static str>,
    disk: Option<&'static str>,
    size: Option<u8>,
    taint: Option<(&'static str, &'static str)>,
    overrides: Option<&'static str>,
    deleting: bool,
}

fn node_params() -> impl Strategy<Value = NodeParams> {
    (
        prop::option::of(prop::sample::select(vec!["a", "b", ""])),
        prop::option::of(prop::sample::select(vec!["ssd", "hdd"])),
        prop::option::of(0u8..10),
        prop::option::weighted(
            0.3,
            (
                prop::sample::select(vec!["infra", ""]),
                prop::sample::select(vec!["NoSchedule", "NoExecute", "PreferNoSchedule"]),
            ),
        ),
        prop::option::weighted(
            0.3,
            prop::sample::select(vec![
                r#"{"requests":{"cpu":"100m"}}"#,
                r#"{"limit":{"cpu":"1"}}"#,
                "not json",
            ]),
        ),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(zone, disk, size, taint, overrides, deleting)| NodeParams {
                zone,
                disk,
                size,
                taint,
                overrides,
                deleting,
            },
        )
}

fn requirement() -> impl Strategy<Value = LabelSelectorRequirement> {
    (
        prop::sample::select(vec!["zone", "disk"]),
        prop::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist"]),
        prop::sample::subsequence(vec!["a", "b", "", "ssd"], 1..3),
    )
        .prop_map(|(key, op, values)| LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: matches!(op, "In" | "NotIn")
                .then(|| values.iter().map(|v| v.to_string()).collect()),
        })
}

fn label_selector() -> impl Strategy<Value = Option<LabelSelector>> {
    prop::option::of(
        (
            prop::option::of(prop::sample::select(vec!["a", "b"])),
            prop::collection::vec(requirement(), 0..3),
        )
            .prop_map(|(zone, exprs)| LabelSelector {
                match_labels: zone.map(|z| [("zone".to_string(), z.to_string())].into()),
                match_expressions: Some(exprs),
            }),
    )
}

fn node_term() -> impl Strategy<Value = NodeSelectorTerm> {
    (
        prop::option::of((prop::sample::select(vec!["Gt", "Lt", "Exists"]), 0u8..10)),
        prop::option::of(prop::sample::subsequence(vec![0usize, 1, 2, 3], 1..3)),
    )
        .prop_map(|(size, names)| NodeSelectorTerm {
            match_expressions: size.map(|(op, bound)| {
                vec![NodeSelectorRequirement {
                    key: "size".into(),
                    operator: op.into(),
                    values: (op != "Exists").then(|| vec![bound.to_string()]),
                }]
            }),
            match_fields: names.map(|names| {
                vec![NodeSelectorRequirement {
                    key: "metadata.name".into(),
                    operator: "In".into(),
                    values: Some(names.iter().map(|i| format!("node-{i}")).collect()),
                }]
            }),
        })
}

#[derive(Clone, Debug)]
struct SpecParams {
    selector: Option<LabelSelector>,
    node_selector: bool,
    terms: Option<Vec<NodeSelectorTerm>>,
    tolerate: Option<Option<&'static str>>,
    setting: bool,
    canary: Option<Option<LabelSelector>>,
}

fn spec_params() -> impl Strategy<Value = SpecParams> {
    (
        label_selector(),
        prop::bool::weighted(0.3),
        prop::option::of(prop::collection::vec(node_term(), 1..3)),
        prop::option::of(prop::option::of(prop::sample::select(vec![
            "NoSchedule",
            "NoExecute",
        ]))),
        any::<bool>(),
        prop::option::of(label_selector()),
    )
        .prop_map(
            |(selector, node_selector, terms, tolerate, setting, canary)| SpecParams {
                selector,
                node_selector,
                terms,
                tolerate,
                setting,
                canary,
            },
        )
}

fn build_node(i: usize, p: &NodeParams) -> Node {
    let mut n = node(&format!("node-{i}"));
    for (key, value) in [("zone", p.zone), ("disk", p.disk)] {
        if let Some(v) = value {
            n = n.label(key, v);
        }
    }
    if let Some(size) = p.size {
        n = n.label("size", &size.to_string());
    }
    if let Some((value, effect)) = p.taint {
        n = n.taint("dedicated", value, effect);
    }
    if let Some(value) = p.overrides {
        let mine = keys::node_resources_annotation(NAMESPACE, "foo", CONTAINER);
        n = n
            .annotate(&mine, value)
            .annotate(
                &keys::node_resources_annotation(NAMESPACE, "other", CONTAINER),
                value,
            )
            .annotate("unrelated", "x");
    }
    let mut node = n.build();
    if p.deleting {
        node.metadata.deletion_timestamp = Some(Time(eds_plan::testing::t0()));
    }
    node
}

fn scenario(nodes: &[NodeParams], s: &SpecParams) -> Scenario {
    let mut builder = eds("foo").fast_start(10).max_unavailable(2);
    if s.node_selector {
        builder = builder.node_selector("disk", "ssd");
    }
    if let Some(canary) = &s.canary {
        let selector = canary.clone();
        builder = builder.canary(2).canary_with(|c| {
            c.node_selector = selector;
            c.node_anti_affinity_keys = Some(vec!["zone".into()]);
        });
    }
    let selector = s.selector.clone();
    let terms = s.terms.clone();
    let tolerate = s.tolerate;
    builder = builder
        .with(|e| e.spec.selector = selector)
        .pod_spec(|spec| {
            spec.affinity = terms.map(|node_selector_terms| Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms,
                    }),
                    ..NodeAffinity::default()
                }),
                ..Affinity::default()
            });
            spec.tolerations = tolerate.map(|effect| {
                vec![Toleration {
                    key: Some("dedicated".into()),
                    operator: Some("Exists".into()),
                    effect: effect.map(Into::into),
                    ..Toleration::default()
                }]
            });
        });
    let nodes = nodes
        .iter()
        .enumerate()
        .map(|(i, p)| build_node(i, p))
        .collect();
    let mut sc = Scenario::new(builder.build(), nodes);
    if s.setting {
        sc.add_setting(setting("big", "foo", ("zone", "a"), "2", 0));
    }
    sc
}

/// The plan of `sc` now, with its nodes undigested, all digested, and one in two digested.
fn plans_agree(sc: &Scenario) -> Result<(), TestCaseError> {
    let raw = sc.plan();
    let mut all = sc.snapshot.clone();
    all.digest_nodes();
    prop_assert_eq!(&raw, &eds_plan::plan(&all, sc.now));
    let mut half = sc.snapshot.clone();
    let nodes = std::mem::take(&mut half.nodes);
    for (i, n) in nodes.into_iter().enumerate() {
        if i % 2 == 0 {
            half.digested_nodes.push(Arc::new(NodeDigest::new(&n)));
        } else {
            half.nodes.push(n);
        }
    }
    prop_assert_eq!(&raw, &eds_plan::plan(&half, sc.now));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_digest_reads_what_the_node_holds(
        params in prop::collection::vec(node_params(), 1..4),
    ) {
        for (i, p) in params.iter().enumerate() {
            let node = build_node(i, p);
            let d = NodeDigest::new(&node);
            let meta = &node.metadata;
            prop_assert_eq!(d.name(), meta.name.as_deref().unwrap_or_default());
            let labels = meta.labels.clone().unwrap_or_default();
            let read: Vec<(&str, &str)> = d.labels().collect();
            let expected: Vec<(&str, &str)> =
                labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            prop_assert_eq!(read, expected);
            for key in ["zone", "disk", "size", "missing", ""] {
                prop_assert_eq!(d.label(key), labels.get(key).map(String::as_str));
            }
            let taints: Vec<(String, String, String)> = d
                .taints()
                .map(|t| (t.key.into(), t.value.into(), t.effect.into()))
                .collect();
            let expected: Vec<(String, String, String)> = node
                .spec
                .iter()
                .flat_map(|s| s.taints.iter().flatten())
                .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default(), t.effect.clone()))
                .collect();
            prop_assert_eq!(taints, expected);
            let overrides: Vec<(&str, &str)> = d.override_annotations().collect();
            let expected: Vec<(&str, &str)> = meta
                .annotations
                .iter()
                .flatten()
                .filter(|(k, _)| k.starts_with(keys::NODE_RESOURCES_ANNOTATION_PREFIX))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            prop_assert_eq!(overrides, expected);
            prop_assert_eq!(d.deleting(), meta.deletion_timestamp.is_some());
        }
    }

    #[test]
    fn digested_nodes_plan_the_same(
        nodes in prop::collection::vec(node_params(), 1..6),
        spec in spec_params(),
        steps in 0usize..4,
    ) {
        let mut sc = scenario(&nodes, &spec);
        plans_agree(&sc)?;
        for _ in 0..3 {
            sc.step();
        }
        sc.set_image("app:v2");
        for _ in 0..steps {
            plans_agree(&sc)?;
            sc.step();
        }
        plans_agree(&sc)?;
    }
}
