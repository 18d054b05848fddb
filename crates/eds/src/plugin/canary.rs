//! `canary validate|pause|unpause|fail`: the annotations that steer a canary in progress.
//! (`canary pods` is in [`super::pods`].)
//!
//! Each refuses with [`Error::NoCanary`](super::Error::NoCanary) when no canary is in progress,
//! and is a no-op (exit 0) when the annotations already say what was asked. Each writes the
//! canary ERS name as the value, so the command steers that canary only: the controller
//! ignores a value naming another revision, and a later template gets a fresh canary.

use super::{annotate::AnnotationEdit, error::Result, pods::canary_ers};
use eds_api::{ExtendedDaemonSet, constants::keys};

/// `canary validate`: `canary-valid=<canary ERS>` promotes the canary now.
pub fn validate(eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    let canary = canary_ers(eds)?;
    Ok(AnnotationEdit::new(
        format!("canary {canary} validated"),
        format!("canary {canary} already validated"),
    )
    .set(keys::CANARY_VALID_ANNOTATION, canary))
}

/// `canary pause`: `canary-paused=<canary ERS>` with the reason; drops a `canary-unpaused` that would
/// override it.
pub fn pause(eds: &ExtendedDaemonSet, reason: &str) -> Result<AnnotationEdit> {
    let canary = canary_ers(eds)?;
    Ok(AnnotationEdit::new(
        format!("canary {canary} paused (reason: {reason})"),
        format!("canary {canary} already paused"),
    )
    .set(keys::CANARY_PAUSED_ANNOTATION, canary.clone())
    .set(keys::CANARY_PAUSED_REASON_ANNOTATION, reason)
    .remove(keys::CANARY_UNPAUSED_ANNOTATION))
}

/// `canary unpause`: `canary-unpaused=<canary ERS>` (which also overrides an automatic pause) and drops
/// the manual pause and its reason.
pub fn unpause(eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    let canary = canary_ers(eds)?;
    Ok(AnnotationEdit::new(
        format!("canary {canary} unpaused"),
        format!("canary {canary} already unpaused"),
    )
    .set(keys::CANARY_UNPAUSED_ANNOTATION, canary.clone())
    .remove(keys::CANARY_PAUSED_ANNOTATION)
    .remove(keys::CANARY_PAUSED_REASON_ANNOTATION))
}

/// `canary fail`: `canary-failed=<canary ERS>`; the controller rejects the canary's template and puts
/// the active one back on the canary nodes.
pub fn fail(eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    let canary = canary_ers(eds)?;
    Ok(AnnotationEdit::new(
        format!("canary {canary} failed"),
        format!("canary {canary} already failed"),
    )
    .set(keys::CANARY_FAILED_ANNOTATION, canary.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::{error::Error, testing};

    #[test]
    fn every_verb_needs_a_canary_in_progress() {
        let eds = testing::eds("foo");
        for result in [validate(&eds), pause(&eds, "x"), unpause(&eds), fail(&eds)] {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::NoCanary { .. }), "{err}");
            assert_eq!(
                err.to_string(),
                "no canary in progress for ExtendedDaemonSet default/foo (state: Running)"
            );
        }
    }

    #[test]
    fn validate_names_the_canary_ers() {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        let edit = validate(&eds).unwrap();
        assert_eq!(
            edit.changes[keys::CANARY_VALID_ANNOTATION].as_deref(),
            Some("foo-xdj4b")
        );
        assert_eq!(edit.done, "canary foo-xdj4b validated");
    }

    #[test]
    fn pause_and_unpause_swap_the_annotations() {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        let p = pause(&eds, "investigating").unwrap();
        assert_eq!(
            p.patch()["metadata"]["annotations"],
            serde_json::json!({
                keys::CANARY_PAUSED_ANNOTATION: "foo-xdj4b",
                keys::CANARY_PAUSED_REASON_ANNOTATION: "investigating",
                keys::CANARY_UNPAUSED_ANNOTATION: null,
            })
        );
        let u = unpause(&eds).unwrap();
        assert_eq!(
            u.patch()["metadata"]["annotations"],
            serde_json::json!({
                keys::CANARY_UNPAUSED_ANNOTATION: "foo-xdj4b",
                keys::CANARY_PAUSED_ANNOTATION: null,
                keys::CANARY_PAUSED_REASON_ANNOTATION: null,
            })
        );
    }

    #[test]
    fn fail_names_the_canary_ers() {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        let edit = fail(&eds).unwrap();
        assert_eq!(
            edit.changes[keys::CANARY_FAILED_ANNOTATION].as_deref(),
            Some("foo-xdj4b")
        );
    }
}
