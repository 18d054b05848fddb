//! Node builder.

use k8s_openapi::api::core::v1::{Node, NodeSpec, Taint};

/// Builder of a Node.
#[derive(Clone, Debug)]
pub struct NodeBuilder {
    node: Node,
}

/// A schedulable node named `name`, without labels or taints.
pub fn node(name: &str) -> NodeBuilder {
    let mut node = Node::default();
    node.metadata.name = Some(name.into());
    node.metadata.uid = Some(format!("uid-node-{name}"));
    NodeBuilder { node }
}

impl NodeBuilder {
    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        let labels = self
            .node
            .metadata
            .labels
            .get_or_insert_with(Default::default);
        labels.insert(key.into(), value.into());
        self
    }

    /// Adds an annotation.
    pub fn annotate(mut self, key: &str, value: &str) -> Self {
        let annotations = self
            .node
            .metadata
            .annotations
            .get_or_insert_with(Default::default);
        annotations.insert(key.into(), value.into());
        self
    }

    /// Adds a taint (`effect`: NoSchedule, NoExecute, PreferNoSchedule).
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        let spec = self.node.spec.get_or_insert_with(NodeSpec::default);
        spec.taints.get_or_insert_with(Vec::new).push(Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    /// The Node.
    pub fn build(self) -> Node {
        self.node
    }
}

impl From<NodeBuilder> for Node {
    fn from(b: NodeBuilder) -> Self {
        b.build()
    }
}
