//! Label selectors matched against a node digest.
//!
//! kube's `Selector` matches a decoded object's label map only; the planner reads a node's
//! labels from its [`NodeDigest`]. A [`LabelMatcher`] holds the selector's expressions and
//! applies them with kube's semantics (the same six operators, looked up by key), to any
//! [`Labels`].

use std::collections::BTreeMap;

use kube::core::{Expression, Selector};

use crate::digest::NodeDigest;

/// Labels read by key: all a label selector or a node selector term asks of an object.
pub trait Labels {
    /// The value of label `key`.
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for NodeDigest {
    fn label(&self, key: &str) -> Option<&str> {
        NodeDigest::label(self, key)
    }
}

/// A compiled label selector (every expression must match; none matches everything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelMatcher(Vec<Expression>);

impl From<Selector> for LabelMatcher {
    fn from(selector: Selector) -> Self {
        Self(selector.into_iter().collect())
    }
}

impl LabelMatcher {
    /// Whether `labels` match, as kube's `Selector::matches` decides on a label map.
    pub fn matches(&self, labels: &(impl Labels + ?Sized)) -> bool {
        self.0.iter().all(|e| match e {
            Expression::In(key, values) => labels.label(key).is_some_and(|v| values.contains(v)),
            Expression::NotIn(key, values) => labels.label(key).is_none_or(|v| !values.contains(v)),
            Expression::Exists(key) => labels.label(key).is_some(),
            Expression::DoesNotExist(key) => labels.label(key).is_none(),
            Expression::Equal(key, value) => labels.label(key) == Some(value.as_str()),
            Expression::NotEqual(key, value) => labels.label(key) != Some(value.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::node;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
    use kube::core::SelectorExt;
    use proptest::prelude::*;

    fn requirement() -> impl Strategy<Value = LabelSelectorRequirement> {
        (
            "[abc]",
            prop::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist"]),
            prop::collection::vec("[xy]?", 0..3),
        )
            .prop_map(|(key, op, values)| LabelSelectorRequirement {
                key,
                operator: op.to_string(),
                values: Some(values),
            })
    }

    proptest! {
        /// On a node digest, a matcher decides as kube's `Selector` does on the node's label
        /// map: matchLabels and every matchExpressions operator, present, absent and empty
        /// values.
        #[test]
        fn matches_as_kube_selector_does(
            labels in prop::collection::btree_map("[abc]", "[xy]?", 0..4),
            match_labels in prop::option::of(prop::collection::btree_map("[abc]", "[xy]?", 0..3)),
            exprs in prop::option::of(prop::collection::vec(requirement(), 0..3)),
        ) {
            let selector = Selector::try_from(LabelSelector {
                match_labels,
                match_expressions: exprs,
            });
            let Ok(selector) = selector else { return Ok(()) };
            let mut n = node("n");
            for (k, v) in &labels {
                n = n.label(k, v);
            }
            let digest = NodeDigest::new(&n.build());
            let matcher = LabelMatcher::from(selector.clone());
            prop_assert_eq!(matcher.matches(&digest), selector.matches(&labels));
            prop_assert_eq!(matcher.matches(&labels), selector.matches(&labels));
        }
    }
}
