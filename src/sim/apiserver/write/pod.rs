//! Pod spec immutability: after creation, the real server only lets a pod's spec change in
//! container images, `activeDeadlineSeconds`, added tolerations and the grace period.
//! Controllers must replace pods instead, and the simulator holds them to it.

use serde_json::Value;

use super::super::{
    core::{Sub, Target},
    error::{ApiError, Cause},
    meta,
};

const FORBIDDEN: &str = "Forbidden: pod updates may not change fields other than \
    `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,\
    `spec.tolerations` (only additions to existing tolerations),\
    `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Rejects a main-resource update of a pod that changes an immutable part of its spec.
/// (Bindings set `spec.nodeName` through their own path.)
pub fn check_update(t: &Target, old: &Value, new: &Value) -> Result<(), ApiError> {
    let info = &t.info;
    if !(info.group.is_empty() && info.plural == "pods" && t.sub == Sub::Main) {
        return Ok(());
    }
    let (Some(old_spec), Some(new_spec)) = (old.get("spec"), new.get("spec")) else {
        return Ok(());
    };
    if old_spec == new_spec || mutable_only(old_spec, new_spec) {
        return Ok(());
    }
    Err(ApiError::invalid(
        &info.kind,
        &info.group,
        meta::name(old),
        vec![Cause {
            reason: "FieldValueForbidden".into(),
            message: FORBIDDEN.into(),
            field: "spec".into(),
        }],
    ))
}

/// Whether `new` differs from `old` only where updates are allowed.
fn mutable_only(old: &Value, new: &Value) -> bool {
    let old_tolerations = old.get("tolerations").and_then(Value::as_array);
    let new_tolerations = new.get("tolerations").and_then(Value::as_array);
    let kept = old_tolerations
        .into_iter()
        .flatten()
        .all(|t| new_tolerations.is_some_and(|n| n.contains(t)));
    if !kept {
        return false;
    }
    // Bring the mutable fields of `new` into a copy of `old`; anything left over differs.
    let mut patched = old.clone();
    for field in [
        "activeDeadlineSeconds",
        "tolerations",
        "terminationGracePeriodSeconds",
    ] {
        match new.get(field) {
            Some(v) => patched[field] = v.clone(),
            None => {
                if let Some(m) = patched.as_object_mut() {
                    m.remove(field);
                }
            }
        }
    }
    for list in ["containers", "initContainers"] {
        let images: Vec<Option<Value>> = new
            .get(list)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|c| c.get("image").cloned()).collect())
            .unwrap_or_default();
        if let Some(containers) = patched.get_mut(list).and_then(Value::as_array_mut) {
            if containers.len() != images.len() {
                return false;
            }
            for (c, image) in containers.iter_mut().zip(images) {
                if let Some(image) = image {
                    c["image"] = image;
                }
            }
        }
    }
    patched == *new
}
