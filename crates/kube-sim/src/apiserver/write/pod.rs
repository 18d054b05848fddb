//! Pod rules of the real server that controllers run into: a pod needs containers with valid,
//! unique names, an image and valid resources (see [`super::resources`]); after creation its
//! spec only changes in container images,
//! `activeDeadlineSeconds`, added tolerations and the grace period (controllers replace pods
//! instead, and the simulator holds them to it).
//!
//! A DaemonSet's pod template is held to the same pod rules on every write, and to the
//! DaemonSet's own (`ValidateDaemonSetSpec`): a selector that is not empty and matches the
//! template's labels, restart policy `Always`, no `activeDeadlineSeconds`; its selector is
//! immutable.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};
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

/// Rejects a main-resource update of a pod that changes an immutable part of its spec, or of
/// a DaemonSet that breaks its rules or changes its selector.
/// (Bindings set `spec.nodeName` through their own path.)
pub fn check_update(t: &Target, old: &Value, new: &Value) -> Result<(), ApiError> {
    let info = &t.info;
    if t.sub != Sub::Main {
        return Ok(());
    }
    let (Some(old_spec), Some(new_spec)) = (old.get("spec"), new.get("spec")) else {
        return Ok(());
    };
    if old_spec == new_spec {
        return Ok(());
    }
    let causes = match Kind::of(t) {
        None => return Ok(()),
        Some(Kind::Pod) => {
            let mut causes = spec_causes(t, Kind::Pod, new)?;
            if !mutable_only(old_spec, new_spec) {
                causes.push(Cause {
                    reason: "FieldValueForbidden".into(),
                    message: FORBIDDEN.into(),
                    field: "spec".into(),
                });
            }
            causes
        }
        Some(Kind::DaemonSet) => {
            let mut causes = daemonset_causes(t, new)?;
            let selector = |spec: &Value| normalized_selector(spec.get("selector"));
            if selector(old_spec) != selector(new_spec) {
                causes.push(Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!(
                        "Invalid value: {}: field is immutable",
                        go_selector(new_spec.get("selector"))
                    ),
                    field: "spec.selector".into(),
                });
            }
            causes
        }
    };
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

/// The kinds whose pod spec the server validates here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pod,
    DaemonSet,
}

impl Kind {
    fn of(t: &Target) -> Option<Kind> {
        match (t.info.group.as_str(), t.info.plural.as_str()) {
            ("", "pods") => Some(Kind::Pod),
            ("apps", "daemonsets") => Some(Kind::DaemonSet),
            _ => None,
        }
    }

    /// The JSON pointer and the field path of the pod spec in an object of this kind.
    fn spec_at(self) -> (&'static str, &'static str) {
        match self {
            Kind::Pod => ("/spec", "spec"),
            Kind::DaemonSet => ("/spec/template/spec", "spec.template.spec"),
        }
    }
}

/// Rejects a pod (or DaemonSet) body whose container resources hold a quantity that does not
/// decode, as the real server does before looking at anything else (400, not 422).
pub fn check_decodes(t: &Target, obj: &Value) -> Result<(), ApiError> {
    if let Some(kind) = Kind::of(t) {
        resource_causes(t, kind, obj)?;
    }
    Ok(())
}

/// The causes of the containers' `resources` of the pod spec of `obj`, or the 400 the server
/// gives when one of their quantities does not decode.
fn resource_causes(t: &Target, kind: Kind, obj: &Value) -> Result<Vec<Cause>, ApiError> {
    let (pointer, at) = kind.spec_at();
    let mut causes = Vec::new();
    for list in ["initContainers", "containers"] {
        let items = obj
            .pointer(&format!("{pointer}/{list}"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, c) in items.iter().enumerate() {
            let Some(r) = c.get("resources") else {
                continue;
            };
            resources::decode(r)
                .map_err(|m| resources::decoding_error(&t.info.kind, &t.version, m))?;
            resources::causes(r, &format!("{at}.{list}[{i}].resources"), &mut causes);
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
/// an image, with the causes the real server gives; and a new DaemonSet that breaks its rules.
pub fn validate_create(t: &Target, obj: &Value) -> Result<(), ApiError> {
    let causes = match Kind::of(t) {
        None => return Ok(()),
        Some(Kind::Pod) => spec_causes(t, Kind::Pod, obj)?,
        Some(Kind::DaemonSet) => daemonset_causes(t, obj)?,
    };
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &t.info.kind,
            &t.info.group,
            meta::name(obj),
            causes,
        ))
    }
}

/// The pod spec rules, on the pod spec of `obj`.
fn spec_causes(t: &Target, kind: Kind, obj: &Value) -> Result<Vec<Cause>, ApiError> {
    let (pointer, at) = kind.spec_at();
    let resource_causes = resource_causes(t, kind, obj)?;
    let mut causes = Vec::new();
    let list_of = |list: &str| {
        obj.pointer(&format!("{pointer}/{list}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let containers = list_of("containers");
    if containers.is_empty() {
        causes.push(required(format!("{at}.containers")));
    }
    let init = list_of("initContainers");
    let mut seen = Vec::new();
    for (list, items) in [("initContainers", &init), ("containers", &containers)] {
        for (i, c) in items.iter().enumerate() {
            let at = format!("{at}.{list}[{i}]");
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
    Ok(causes)
}

fn required(field: String) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field,
    }
}

/// `ValidateDaemonSetSpec`: the selector and the template's labels, the template's pod spec,
/// its restart policy and deadline, in the server's order.
fn daemonset_causes(t: &Target, ds: &Value) -> Result<Vec<Cause>, ApiError> {
    let mut causes = Vec::new();
    let selector_value = ds.pointer("/spec/selector").filter(|v| !v.is_null());
    let labels: BTreeMap<String, String> = ds
        .pointer("/spec/template/metadata/labels")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    let selector: Option<LabelSelector> =
        selector_value.and_then(|v| serde_json::from_value(v.clone()).ok());
    // No selector selects nothing; one that does not convert is reported by its own rules.
    let matches = match &selector {
        None => Some(false),
        Some(s) => Selector::try_from(s.clone())
            .ok()
            .map(|s| s.matches(&labels)),
    };
    if matches == Some(false) {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                go_string_map(ds.pointer("/spec/template/metadata/labels"))
            ),
            field: "spec.template.metadata.labels".into(),
        });
    }
    if selector_value.is_some() && normalized_selector(selector_value).is_none() {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: {}: empty selector is invalid for daemonset",
                go_selector(selector_value)
            ),
            field: "spec.selector".into(),
        });
    }
    causes.extend(spec_causes(t, Kind::DaemonSet, ds)?);
    // Absent, the restart policy defaults to `Always`.
    if let Some(policy) = ds
        .pointer("/spec/template/spec/restartPolicy")
        .and_then(Value::as_str)
        .filter(|p| *p != "Always")
    {
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!("Unsupported value: \"{policy}\": supported values: \"Always\""),
            field: "spec.template.spec.restartPolicy".into(),
        });
    }
    if let Some(deadline) = ds
        .pointer("/spec/template/spec/activeDeadlineSeconds")
        .filter(|v| !v.is_null())
    {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: {deadline}: must not be specified"),
            field: "spec.template.spec.activeDeadlineSeconds".into(),
        });
    }
    Ok(causes)
}

/// A selector with its empty parts dropped (the server compares nil and empty as equal), or
/// `None` when nothing is left.
fn normalized_selector(selector: Option<&Value>) -> Option<Value> {
    let mut s = selector?.as_object()?.clone();
    s.retain(|_, v| match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Null => false,
        _ => true,
    });
    (!s.is_empty()).then_some(Value::Object(s))
}

/// A label map as Go's `%#v` prints it in the server's messages.
fn go_string_map(labels: Option<&Value>) -> String {
    match labels.and_then(Value::as_object) {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{:?}:{:?}", k, v.as_str().unwrap_or_default()))
                .collect();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
    }
}

/// A LabelSelector as Go's `%#v` prints it in the server's messages.
fn go_selector(selector: Option<&Value>) -> String {
    let strings = |v: Option<&Value>| match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|s| format!("{:?}", s.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    };
    let expressions = match selector
        .and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
    {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(e) => {
            let items: Vec<String> = e
                .iter()
                .map(|r| {
                    let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{:?}, Operator:{:?}, Values:{}}}",
                        text("key"),
                        text("operator"),
                        strings(r.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{expressions}}}",
        go_string_map(selector.and_then(|s| s.get("matchLabels")))
    )
}

fn dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && meta::valid_name(s)
}
