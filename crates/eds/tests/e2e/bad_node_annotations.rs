//! The node-annotation part of the bad-input corpus (`tests/bad-input/node-annotations/`):
//! malformed resource overrides on a node are reported by a Warning event that names the node,
//! each annotation and what is allowed (every `# expect:` line of the case), within the API
//! server's limit of an event's note, and ignored: the nodes still run their pods, with the
//! template's resources, and the other node is served.

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

/// Bad annotations per node: a node's Warning names all of them while its note fits the API
/// server's limit (1,024 bytes); beyond, the note is cut and says so (the crowded node below).
const PER_NODE: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_node_resource_overrides_are_reported_and_ignored() {
    let cases = cases();
    assert!(cases.len() >= 8, "{} node-annotation cases", cases.len());
    let batches: Vec<&[Loaded]> = cases.chunks(PER_NODE).collect();
    // A node per batch, one with every bad annotation, and one left alone.
    let nodes = batches.len() + 2;
    let tc = TestCluster::start("bad-node-annotations", nodes).await;
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
    let v1 = tc.wait_available("multi", nodes as i32).await;
    let key = |c: &Loaded| keys::node_resources_annotation(&ns, "multi", &c.container);
    let annotate = |node: String, cases: &[Loaded]| {
        let annotations = cases.iter().map(|c| (key(c), c.value.clone())).collect();
        let kubelet = &tc.kubelet;
        async move { kubelet.set_annotations(&node, annotations).await.unwrap() }
    };
    for (batch, node) in batches.iter().zip(&tc.node_names) {
        annotate(node.clone(), batch).await;
    }
    let crowded = tc.node_names[batches.len()].clone();
    annotate(crowded.clone(), &cases).await;

    // A Warning per node (the recorder merges events by related object and reason), naming
    // the node and each of its bad annotations.
    let events = Api::<Event>::namespaced(tc.client.clone(), &ns);
    let heading = |node: &str| format!("node {node}: ");
    let warnings: Vec<String> = tc
        .wait_for("a Warning per node with bad annotations", || async {
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
            let named = batches.iter().zip(&tc.node_names).all(|(batch, node)| {
                batch.iter().all(|c| {
                    messages
                        .iter()
                        .any(|m| m.starts_with(&heading(node)) && m.contains(&key(c)))
                })
            });
            let crowded_warned = messages.iter().any(|m| m.starts_with(&heading(&crowded)));
            (named && crowded_warned).then_some(messages)
        })
        .await;
    let mut wrong = Vec::new();
    for (batch, node) in batches.iter().zip(&tc.node_names) {
        for case in *batch {
            let message = warnings
                .iter()
                .find(|m| m.starts_with(&heading(node)) && m.contains(&key(case)))
                .expect("waited for");
            let missing: Vec<&String> = case
                .expect
                .iter()
                .filter(|f| !message.contains(f.as_str()))
                .collect();
            if !missing.is_empty() {
                wrong.push(format!("{}: {message:?} lacks {missing:?}", case.file));
            }
        }
    }
    // The crowded node's Warning fits the limit: it names every bad annotation, or is cut and
    // says so.
    let message = warnings
        .iter()
        .find(|m| m.starts_with(&heading(&crowded)))
        .expect("waited for");
    assert!(message.len() <= 1024, "{} bytes: {message}", message.len());
    assert!(
        message.ends_with(" …") || cases.iter().all(|c| message.contains(&key(c))),
        "{message}"
    );
    // Ignored, never fatal: the annotated nodes run a new pod (their annotations changed) with
    // the template's resources, and every node is available.
    tc.wait_eds(
        "multi",
        "every node served after the bad annotations",
        |e| {
            e.status
                .as_ref()
                .is_some_and(|s| s.up_to_date == nodes as i32 && s.available == nodes as i32)
        },
    )
    .await;
    let by_node = tc.pods_by_node("multi").await;
    for node in &tc.node_names[..=batches.len()] {
        let pods = &by_node[node];
        assert_eq!(pods.len(), 1, "one pod on {node}");
        let annotated = pods[0].spec.as_ref().unwrap();
        for c in &annotated.containers {
            let requests = c.resources.as_ref().and_then(|r| r.requests.clone());
            let expected = (c.name != "daemon").then(|| cpu.clone());
            assert_eq!(
                requests, expected,
                "container {} on {node} keeps the template's resources",
                c.name
            );
        }
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
