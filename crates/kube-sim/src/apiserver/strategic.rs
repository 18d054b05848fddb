//! Strategic merge patch for the built-in kinds.
//!
//! Like a JSON merge patch, except that lists with a patch merge key (containers by `name`,
//! conditions by `type`, ...) merge item by item, `finalizers` merges as a set, and the
//! directives kubectl sends are honoured: `$patch: replace|delete|merge`,
//! `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` and `$retainKeys`.

use serde_json::{Map, Value};

use super::fieldset::{self, ListType};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";
const ELEMENT_ORDER: &str = "$setElementOrder/";

/// The `patchMergeKey` / `patchStrategy` of a field in the Kubernetes types, by field name
/// (one key per list, unlike the apply list-map keys). Tolerations and taints have no merge
/// key: they are replaced.
fn strategy(field: &str) -> ListType {
    let key = |k: &str| ListType::Map(vec![k.to_string()]);
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => key("name"),
        "volumeMounts" => key("mountPath"),
        "volumeDevices" => key("devicePath"),
        "ports" => key("containerPort"),
        "conditions" | "addresses" => key("type"),
        "ownerReferences" => key("uid"),
        "hostAliases" => key("ip"),
        "topologySpreadConstraints" => key("topologyKey"),
        "finalizers" => ListType::Set,
        _ => ListType::Atomic,
    }
}

/// Applies a strategic merge `patch` to `orig` in place.
pub fn patch(orig: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !orig.is_object() {
                *orig = Value::Object(Map::new());
            }
            if let Value::Object(o) = orig {
                patch_map(o, p);
            }
        }
        other => *orig = other.clone(),
    }
}

fn patch_map(orig: &mut Map<String, Value>, patch: &Map<String, Value>) {
    if patch.get(PATCH).and_then(Value::as_str) == Some("replace") {
        *orig = clean_map(patch);
        return;
    }
    let mut orders: Vec<(&str, &Vec<Value>)> = Vec::new();
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE) {
            if let (Some(Value::Array(list)), Value::Array(gone)) = (orig.get_mut(field), v) {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        if let Some(field) = k.strip_prefix(ELEMENT_ORDER) {
            if let Value::Array(order) = v {
                orders.push((field, order));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                orig.remove(k);
            }
            Value::Object(pm) => {
                if pm.get(PATCH).and_then(Value::as_str) == Some("delete") {
                    orig.remove(k);
                    continue;
                }
                let entry = orig
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(om) = entry {
                    patch_map(om, pm);
                }
            }
            Value::Array(items) => {
                let merged = match orig.remove(k) {
                    Some(Value::Array(existing)) => patch_list(k, existing, items),
                    _ => clean_list(k, items),
                };
                orig.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                orig.insert(k.clone(), scalar.clone());
            }
        }
    }
    if let Some(Value::Array(keys)) = patch.get(RETAIN_KEYS) {
        orig.retain(|k, _| keys.iter().any(|x| x.as_str() == Some(k)));
    }
    for (field, order) in orders {
        if let Some(Value::Array(list)) = orig.get_mut(field) {
            reorder(field, list, order);
        }
    }
}

fn patch_list(field: &str, mut orig: Vec<Value>, items: &[Value]) -> Vec<Value> {
    if items
        .iter()
        .any(|i| i.get(PATCH).and_then(Value::as_str) == Some("replace"))
    {
        return clean_list(field, items);
    }
    match strategy(field) {
        ListType::Map(keys) => {
            for item in items {
                let key = fieldset::item_key(item, &keys);
                let pos = key.as_ref().and_then(|k| {
                    orig.iter()
                        .position(|o| fieldset::item_key(o, &keys).as_ref() == Some(k))
                });
                let delete = item.get(PATCH).and_then(Value::as_str) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        orig.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => patch(&mut orig[i], item),
                    (None, false) => {
                        let mut fresh = Value::Object(Map::new());
                        patch(&mut fresh, item);
                        orig.push(fresh);
                    }
                }
            }
            orig
        }
        ListType::Set => {
            for item in items {
                if !orig.contains(item) {
                    orig.push(item.clone());
                }
            }
            orig
        }
        ListType::Atomic => clean_list(field, items),
    }
}

/// A patch value without directives, as stored when there is nothing to merge with.
fn clean_list(field: &str, items: &[Value]) -> Vec<Value> {
    let keyed = matches!(strategy(field), ListType::Map(_));
    items
        .iter()
        .filter(|i| i.get(PATCH).is_none() || i.as_object().is_some_and(|m| m.len() > 1))
        .filter(|i| !(keyed && i.get(PATCH).and_then(Value::as_str) == Some("delete")))
        .map(|i| match i {
            Value::Object(m) => Value::Object(clean_map(m)),
            other => other.clone(),
        })
        .collect()
}

fn clean_map(m: &Map<String, Value>) -> Map<String, Value> {
    let mut fresh = Map::new();
    let mut patch_without = m.clone();
    patch_without.remove(PATCH);
    patch_map(&mut fresh, &patch_without);
    fresh
}

/// Orders `list` as `order` says (by merge key or value); items not named keep their place
/// after the named ones.
fn reorder(field: &str, list: &mut [Value], order: &[Value]) {
    let key_of = |v: &Value| match strategy(field) {
        ListType::Map(keys) => fieldset::item_key(v, &keys),
        _ => Some(v.to_string()),
    };
    let rank: Vec<Option<String>> = order.iter().map(key_of).collect();
    list.sort_by_key(|item| {
        let k = key_of(item);
        rank.iter()
            .position(|r| r.is_some() && *r == k)
            .unwrap_or(usize::MAX)
    });
}

#[cfg(test)]
mod tests;
