//! The node-annotation part of the bad-input corpus (`tests/bad-input/node-annotations/`):
//! malformed resource overrides on a node are reported by a Warning event that names the node,
//! each annotation and what is allowed (every `# expect:` line of the case), and ignored: the
//! node still runs its pod, with the template's resources, and the other node is served.

use std::collections::BTreeMap;

use eds_api::constants::{keys, reason};
use k8s_openapi::{
    api::{core::v1::Container, events::v1::Event},
    apimachinery::pkg::api::resource::Quantity,
};
use kube::{Api, api::ListParams};
use serde::Deserialize;
use serde_json::json;

use super::{corpus, harness::TestCluster};

/// One case file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The container the annotation names; by default one of the case's own, added to the
    /// template so every case has an annotation key of its own.
    container: Option<String>,
    /// The annotation value.
    value: String,
}

struct Loaded {
    file: String,
    expect: Vec<String>,
    container: String,
    /// Whether the container is in the template.
    own: bool,
    value: String,
}

fn cases() -> Vec<Loaded> {
    corpus::read("node-annotations")
        .into_iter()
        .map(|c| {
            let case: Case = serde_saphyr::from_str(&c.text)
                .unwrap_or_else(|e| panic!("{} is not a case: {e}", c.file));
            let number = c.file.split('-').next().unwrap_or_default();
            Loaded {
                own: case.container.is_none(),
                container: case.container.unwrap_or_else(|| format!("c{number}")),
                file: c.file,
                expect: c.expect,
                value: case.value,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_node_resource_overrides_are_reported_and_ignored() {
    let cases = cases();
    assert!(cases.len() >= 8, "{} node-annotation cases", cases.len());
    let tc = TestCluster::start("bad-node-annotations", 2).await;
    let ns = tc.namespace.clone();
    let mut eds = tc.eds(
        "multi",
        "registry.k8s.io/pause:3.0",
        json!({ "reconcileFrequency": "1s", "rollingUpdate": { "maxUnavailable": 2 } }),
    );
    let spec = eds.spec.template.spec.as_mut().unwrap();
    let cpu = BTreeMap::from([("cpu".to_string(), Quantity("10m".into()))]);
    for case in cases.iter().filter(|c| c.own) {
        spec.containers.push(Container {
            name: case.container.clone(),
            image: Some("registry.k8s.io/pause:3.0".into()),
            resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
                requests: Some(cpu.clone()),
                ..Default::default()
            }),
            ..Container::default()
        });
    }
    tc.apply(&eds).await;
    let v1 = tc.wait_available("multi", 2).await;
    let node = tc.node_names[0].clone();
    let key = |c: &Loaded| keys::node_resources_annotation(&ns, "multi", &c.container);
    let annotations = cases.iter().map(|c| (key(c), c.value.clone())).collect();
    tc.kubelet
        .set_annotations(&node, annotations)
        .await
        .unwrap();

    // A Warning on the node (one per node: the recorder merges events by related object and
    // reason), naming every bad annotation.
    let events = Api::<Event>::namespaced(tc.client.clone(), &ns);
    let warnings: Vec<String> = tc
        .wait_for("a Warning per bad node annotation", || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            let messages: Vec<String> = list
                .items
                .into_iter()
                .filter(|e| {
                    e.type_.as_deref() == Some("Warning")
                        && e.reason.as_deref() == Some(reason::INVALID_NODE_ANNOTATION)
                })
                .filter_map(|e| e.note)
                .collect();
            cases
                .iter()
                .all(|c| messages.iter().any(|m| m.contains(&key(c))))
                .then_some(messages)
        })
        .await;
    let mut wrong = Vec::new();
    for case in &cases {
        let message = warnings
            .iter()
            .find(|m| m.contains(&key(case)))
            .expect("waited for");
        let missing: Vec<&String> = case
            .expect
            .iter()
            .filter(|f| !message.contains(f.as_str()))
            .collect();
        if !message.contains(&format!("node {node}")) || !missing.is_empty() {
            wrong.push(format!("{}: {message:?} lacks {missing:?}", case.file));
        }
    }
    // Ignored, never fatal: the annotated node runs a new pod (its annotations changed) with
    // the template's resources, and both nodes are available.
    tc.wait_eds(
        "multi",
        "both nodes served after the bad annotations",
        |e| {
            e.status
                .as_ref()
                .is_some_and(|s| s.up_to_date == 2 && s.available == 2)
        },
    )
    .await;
    let by_node = tc.pods_by_node("multi").await;
    let pods = &by_node[&node];
    assert_eq!(pods.len(), 1, "one pod on {node}");
    let annotated = pods[0].spec.as_ref().unwrap();
    for c in &annotated.containers {
        let requests = c.resources.as_ref().and_then(|r| r.requests.clone());
        let expected = (c.name != "daemon").then(|| cpu.clone());
        assert_eq!(
            requests, expected,
            "container {} keeps the template's resources",
            c.name
        );
    }
    assert_eq!(
        tc.get_eds("multi").await.status.unwrap().active_replica_set,
        v1
    );
    tc.finish().await;
    assert!(
        wrong.is_empty(),
        "{} of {} node-annotation cases not reported as expected:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
