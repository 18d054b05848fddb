//! Arbitrary node resource-override annotations
//! (`resources.extendeddaemonset.datadoghq.com/<ns>.<eds>.<container>`), planned.
//!
//! Two nodes, the first carrying the fuzzed annotations. Whatever they hold, both nodes get
//! exactly one pod (a bad annotation is reported, never blocks its node), the plain node's pod
//! has no override, and every override that reaches a pod is valid JSON ResourceRequirements
//! of a container of the template.

use arbitrary::{Arbitrary, Unstructured};
use eds_api::constants::keys;
use eds_plan::{
    plan,
    testing::{eds, node, node_of},
};
use k8s_openapi::api::core::v1::{Container, ResourceRequirements};

/// Containers of the template.
const CONTAINERS: [&str; 2] = ["app", "sidecar"];

/// One annotation.
#[derive(Arbitrary, Debug)]
pub enum Annotation {
    /// An override of a container by index in `app`, `sidecar`, `""`, `app.x` (no such container).
    Container(u8, String),
    /// The override prefix of `default.foo.` followed by any text.
    Suffix(String, String),
    /// Any key.
    Key(String, String),
}

/// The fuzzed annotations of the first node.
#[derive(Arbitrary, Debug)]
pub struct Input {
    /// Annotations, in order (a later one replaces an earlier one of the same key).
    pub annotations: Vec<Annotation>,
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    check(&input);
}

/// Plans the input's annotations and checks the outcome.
pub fn check(input: &Input) {
    let prefix = keys::node_resources_annotation("default", "foo", "");
    let mut annotated = node("node-1");
    for a in &input.annotations {
        annotated = match a {
            Annotation::Container(i, value) => {
                let names = ["app", "sidecar", "", "app.x"];
                let container = names[usize::from(*i) % names.len()];
                annotated.annotate(&format!("{prefix}{container}"), value)
            }
            Annotation::Suffix(suffix, value) => {
                annotated.annotate(&format!("{prefix}{suffix}"), value)
            }
            Annotation::Key(key, value) => annotated.annotate(key, value),
        };
    }
    let sc = eds("foo")
        .fast_start(2)
        .pod_spec(|spec| {
            spec.containers.push(Container {
                name: CONTAINERS[1].into(),
                image: Some("sidecar:v1".into()),
                ..Container::default()
            });
        })
        .on(vec![annotated, node("node-2")]);
    // The first plan creates the ERS, the second the pods.
    let mut sc = sc;
    sc.step();
    let plan = plan(&sc.snapshot, sc.now);
    let mut nodes: Vec<String> = plan.pod_creates.iter().filter_map(node_of).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["node-1", "node-2"],
        "one pod per node, whatever the annotations"
    );
    for pod in &plan.pod_creates {
        let spec = pod.spec.as_ref().expect("pod spec");
        for c in &spec.containers {
            let Some(resources) = &c.resources else {
                continue;
            };
            assert_eq!(
                node_of(pod).as_deref(),
                Some("node-1"),
                "override on the plain node"
            );
            let key = format!("{prefix}{}", c.name);
            let value = sc.snapshot.nodes[0]
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(&key))
                .expect("an override comes from an annotation");
            let parsed: ResourceRequirements =
                serde_json::from_str(value).expect("an applied override is valid JSON");
            assert_eq!(&parsed, resources, "the override is applied as written");
        }
    }
}
