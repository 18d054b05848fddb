//! Canary steering annotations scoped to one canary.
//!
//! `kubectl eds canary validate|fail|pause|unpause` write the canary ERS name as the value, so
//! a value naming another revision is ignored. Upstream's `"true"` values (written by its
//! plugin or by hand) applied to whatever canary came next, until upstream's controller
//! deleted them; we never write the user's annotations (a GitOps tool would put them back, and
//! the two would fight). Instead the status records, per annotation and value, the canary in
//! progress when the value was first seen ([`SteeringRecord`]); a value applies to that canary
//! only. When the canary ends, or another one starts, the record is emptied and the value
//! applies to no canary until it changes. So a `"true"` set before a canary, or left over from
//! an earlier one, never steers a new template, and a `rollout undo` back to a template whose
//! canary was validated (same ERS name) gets a fresh canary.

use std::collections::BTreeMap;

use eds_api::{SteeringRecord, constants::keys};

/// The annotations scoped to one canary (`canary-paused-reason` follows `canary-paused`).
pub const SCOPED: [&str; 4] = [
    keys::CANARY_VALID_ANNOTATION,
    keys::CANARY_FAILED_ANNOTATION,
    keys::CANARY_PAUSED_ANNOTATION,
    keys::CANARY_UNPAUSED_ANNOTATION,
];

/// The steering annotations in force for this plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CanarySteering {
    /// Records to store in the status.
    pub records: Vec<SteeringRecord>,
}

impl CanarySteering {
    /// Updates the stored records with the annotations present now; `canary` is the canary
    /// ERS in progress in this plan, if any.
    pub fn new(
        annotations: &BTreeMap<String, String>,
        stored: &[SteeringRecord],
        canary: Option<&str>,
    ) -> Self {
        let current = canary.unwrap_or_default();
        let records = SCOPED
            .iter()
            .filter_map(|&key| {
                let value = annotations.get(key)?;
                let seen_for = stored
                    .iter()
                    .find(|r| r.annotation == key && r.value == *value)
                    .map_or(current, |r| if r.canary == current { current } else { "" });
                Some(SteeringRecord {
                    annotation: key.to_string(),
                    value: value.clone(),
                    canary: seen_for.to_string(),
                })
            })
            .collect();
        Self { records }
    }

    /// Whether annotation `key` steers canary `ers`: its value is `"true"` or names `ers`, and
    /// it was first seen while `ers` was the canary in progress.
    pub fn applies(&self, key: &str, ers: &str) -> bool {
        self.records.iter().any(|r| {
            r.annotation == key
                && !r.canary.is_empty()
                && r.canary == ers
                && (r.value == "true" || r.value == ers)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_value_applies_to_the_canary_it_was_first_seen_for_only() {
        let failed = keys::CANARY_FAILED_ANNOTATION;
        let a = annotations(&[(failed, "true")]);
        let during_b = CanarySteering::new(&a, &[], Some("foo-b"));
        assert!(during_b.applies(failed, "foo-b"));
        // Still there when canary foo-c starts: it steers nothing, now or later.
        let during_c = CanarySteering::new(&a, &during_b.records, Some("foo-c"));
        assert!(!during_c.applies(failed, "foo-c"));
        let later = CanarySteering::new(&a, &during_c.records, Some("foo-c"));
        assert!(!later.applies(failed, "foo-c"));
        // Written again (another value) during foo-c: it applies.
        let again = CanarySteering::new(
            &annotations(&[(failed, "foo-c")]),
            &later.records,
            Some("foo-c"),
        );
        assert!(again.applies(failed, "foo-c"));
    }

    #[test]
    fn a_value_seen_without_canary_or_naming_another_applies_to_none() {
        let paused = keys::CANARY_PAUSED_ANNOTATION;
        let a = annotations(&[(paused, "true")]);
        let before = CanarySteering::new(&a, &[], None);
        assert!(!CanarySteering::new(&a, &before.records, Some("foo-b")).applies(paused, "foo-b"));
        let other = annotations(&[(paused, "foo-x")]);
        assert!(!CanarySteering::new(&other, &[], Some("foo-b")).applies(paused, "foo-b"));
    }
}
