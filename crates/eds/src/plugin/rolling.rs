//! `pause-rolling-update`, `unpause-rolling-update`, `freeze-rollout`, `unfreeze-rollout`: the
//! annotations that hold the rolling update.
//!
//! Pausing or freezing is refused while a canary is in progress, as upstream does (the canary
//! has its own pause); resuming is always allowed, since removing a hold is never unsafe.
//! Resuming removes the annotation instead of writing `"false"`.

use super::{
    annotate::{AnnotationEdit, object_ref},
    error::{Error, Result},
};
use eds_api::{ExtendedDaemonSet, constants::keys};

/// Fails with [`Error::CanaryInProgress`] when the ExtendedDaemonSet runs a canary.
fn refuse_during_canary(eds: &ExtendedDaemonSet) -> Result<()> {
    match eds.status.as_ref().and_then(|s| s.canary.as_ref()) {
        Some(c) if !c.replica_set.is_empty() => Err(Error::CanaryInProgress {
            eds: object_ref(eds),
            canary: c.replica_set.clone(),
        }),
        _ => Ok(()),
    }
}

/// `pause-rolling-update`: no more deletions; new nodes still get pods.
pub fn pause_rolling_update(eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    refuse_during_canary(eds)?;
    Ok(
        AnnotationEdit::new("rolling update paused", "rolling update already paused")
            .set(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, "true"),
    )
}

/// `unpause-rolling-update`: resumes deletions.
pub fn unpause_rolling_update(_eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    Ok(
        AnnotationEdit::new("rolling update resumed", "rolling update is not paused")
            .remove(keys::ROLLING_UPDATE_PAUSED_ANNOTATION),
    )
}

/// `freeze-rollout`: no pod is created or deleted, not even on new nodes.
pub fn freeze_rollout(eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    refuse_during_canary(eds)?;
    Ok(
        AnnotationEdit::new("rollout frozen", "rollout already frozen")
            .set(keys::ROLLOUT_FROZEN_ANNOTATION, "true"),
    )
}

/// `unfreeze-rollout`: resumes creations and deletions.
pub fn unfreeze_rollout(_eds: &ExtendedDaemonSet) -> Result<AnnotationEdit> {
    Ok(
        AnnotationEdit::new("rollout unfrozen", "rollout is not frozen")
            .remove(keys::ROLLOUT_FROZEN_ANNOTATION),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    #[test]
    fn holds_are_refused_during_a_canary() {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        for result in [pause_rolling_update(&eds), freeze_rollout(&eds)] {
            let err = result.unwrap_err();
            assert_eq!(
                err.to_string(),
                "ExtendedDaemonSet default/foo has a canary in progress (foo-xdj4b): \
                 use `kubectl eds canary pause|validate|fail foo` instead"
            );
        }
        assert!(unpause_rolling_update(&eds).is_ok());
        assert!(unfreeze_rollout(&eds).is_ok());
    }

    #[test]
    fn hold_and_release_write_and_remove_one_annotation() {
        let eds = testing::eds("foo");
        let pause = pause_rolling_update(&eds).unwrap();
        assert_eq!(
            pause.patch()["metadata"]["annotations"][keys::ROLLING_UPDATE_PAUSED_ANNOTATION],
            "true"
        );
        let freeze = freeze_rollout(&eds).unwrap();
        assert_eq!(
            freeze.patch()["metadata"]["annotations"][keys::ROLLOUT_FROZEN_ANNOTATION],
            "true"
        );
        let release = unfreeze_rollout(&eds).unwrap();
        assert!(release.holds_on(&eds), "not frozen: unfreeze is a no-op");
        assert!(
            release.patch()["metadata"]["annotations"][keys::ROLLOUT_FROZEN_ANNOTATION].is_null()
        );
    }
}
