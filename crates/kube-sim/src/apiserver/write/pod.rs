//! Pod rules of the real server that controllers run into: a pod needs containers with valid,
//! unique names, an image and valid resources (see [`super::resources`]); after creation its
//! spec only changes in container images,
//! `activeDeadlineSeconds`, added tolerations and the grace period (controllers replace pods
//! instead, and the simulator holds them to it).

use serde_json::Value;

use super::{
    super::{
        core::{Sub, Target},
        error::{ApiError, Cause},
        meta,
    },
    resources,
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
    if old_spec == new_spec {
        return Ok(());
    }
    let mut causes = resource_causes(t, new)?;
    if !mutable_only(old_spec, new_spec) {
        causes.push(Cause {
            reason: "FieldValueForbidden".into(),
            message: FORBIDDEN.into(),
            field: "spec".into(),
        });
    }
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        &info.kind,
        &info.group,
        meta::name(old),
        causes,
    ))
}

/// Rejects a pod body whose container resources hold a quantity that does not decode, as the
/// real server does before looking at anything else (400, not 422).
pub fn check_decodes(t: &Target, obj: &Value) -> Result<(), ApiError> {
    if t.info.group.is_empty() && t.info.plural == "pods" {
        resource_causes(t, obj)?;
    }
    Ok(())
}

/// The causes of the containers' `resources` of `pod`, or the 400 the server gives when one
/// of their quantities does not decode.
fn resource_causes(t: &Target, pod: &Value) -> Result<Vec<Cause>, ApiError> {
    let mut causes = Vec::new();
    for list in ["initContainers", "containers"] {
        let items = pod
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, c) in items.iter().enumerate() {
            let Some(r) = c.get("resources") else {
                continue;
            };
            resources::decode(r)
                .map_err(|m| resources::decoding_error(&t.info.kind, &t.version, m))?;
            resources::causes(r, &format!("spec.{list}[{i}].resources"), &mut causes);
        }
    }
    Ok(causes)
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

/// Rejects a new pod without containers, or with a container lacking a valid unique name or
/// an image, with the causes the real server gives.
pub fn validate_create(t: &Target, obj: &Value) -> Result<(), ApiError> {
    let info = &t.info;
    if !(info.group.is_empty() && info.plural == "pods") {
        return Ok(());
    }
    let resource_causes = resource_causes(t, obj)?;
    let mut causes = Vec::new();
    let required = |field: String| Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field,
    };
    let containers = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if containers.is_empty() {
        causes.push(required("spec.containers".into()));
    }
    let init = obj
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut seen = Vec::new();
    for (list, items) in [("initContainers", &init), ("containers", &containers)] {
        for (i, c) in items.iter().enumerate() {
            let at = format!("spec.{list}[{i}]");
            match c.get("name").and_then(Value::as_str) {
                None | Some("") => causes.push(required(format!("{at}.name"))),
                Some(name) if seen.contains(&name) => causes.push(Cause {
                    reason: "FieldValueDuplicate".into(),
                    message: format!("Duplicate value: \"{name}\""),
                    field: format!("{at}.name"),
                }),
                Some(name) if !dns_label(name) => causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!(
                        "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of \
                         lower case alphanumeric characters or '-', and must start and end with \
                         an alphanumeric character"
                    ),
                    field: format!("{at}.name"),
                }),
                Some(name) => seen.push(name),
            }
            if c.get("image")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                causes.push(required(format!("{at}.image")));
            }
        }
    }
    causes.extend(resource_causes);
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &info.kind,
            &info.group,
            meta::name(obj),
            causes,
        ))
    }
}

fn dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && meta::valid_name(s)
}
