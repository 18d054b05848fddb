//! Server-side apply: merge an applied configuration into the live object, with field
//! ownership.
//!
//! - The applier owns exactly the fields of its configuration; a field it applied before and
//!   omits now is removed from the object unless another manager owns it too.
//! - A field another manager owns with a different value is a conflict (409) unless the
//!   apply is forced, which takes the field over.
//! - Maps merge field by field, associative lists item by item (by key), sets by value, and
//!   everything else is replaced.

use serde_json::{Map, Value};

use super::{
    fieldset::{self, Elem, FieldSet, Leaf, ListType, Path, Scope},
    lists::Lists,
    managed::{Entry, Operation, Writer},
};

/// A field owned by another manager that the apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// apiVersion of its entry.
    pub api_version: String,
    /// The field.
    pub path: Path,
}

/// Applies `config` for `writer` onto `live` (absent = create). Returns the merged object
/// and the new managedFields entries, or the conflicts when not forced.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    mut entries: Vec<Entry>,
    writer: &Writer,
    force: bool,
) -> Result<(Value, Vec<Entry>), Vec<Conflict>> {
    let config = scoped(config, writer.scope);
    let cfg_leaves = fieldset::leaves(&config, writer.scope, writer.lists);
    let live_leaves = live
        .map(|l| fieldset::leaves(l, writer.scope, writer.lists))
        .unwrap_or_default();
    let mine = |e: &Entry| e.is(writer.manager, Operation::Apply, writer.subresource);

    let mut conflicts = Vec::new();
    for e in entries.iter().filter(|e| !mine(e)) {
        for (path, leaf) in &cfg_leaves {
            if !e.set().contains(path) {
                continue;
            }
            if let (Leaf::Value(want), Some(Leaf::Value(have))) = (leaf, live_leaves.get(path))
                && !super::same::same(want, have)
            {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    api_version: e.api_version.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(conflicts);
        }
        for c in &conflicts {
            for e in entries.iter_mut().filter(|e| e.manager == c.manager) {
                e.set_mut().remove(&c.path);
            }
        }
    }

    let new_set: FieldSet = cfg_leaves.keys().cloned().collect();
    let previous: FieldSet = entries
        .iter()
        .filter(|e| mine(e))
        .flat_map(|e| e.set().iter().cloned())
        .collect();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !mine(e))
        .flat_map(|e| e.set().iter().cloned())
        .collect();

    let mut merged = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    // Shortest paths first: a dropped list item goes whole. The key fields of an item that
    // stays are never removed on their own (they identify it).
    let mut dropped: Vec<&Path> = previous
        .iter()
        .filter(|p| !new_set.contains(*p) && !others.contains(*p) && !is_item_key(p))
        .collect();
    dropped.sort_by_key(|p| p.len());
    for path in dropped {
        remove_path(&mut merged, path, writer.lists);
    }
    merge_into(&mut merged, &config, writer.lists, &mut Vec::new());

    entries.retain(|e| !mine(e));
    entries.push(Entry::new(
        writer.manager,
        Operation::Apply,
        writer.api_version,
        writer.now,
        writer.subresource,
        new_set,
    ));
    entries.retain(|e| !e.set().is_empty());
    Ok((merged, entries))
}

/// Whether `path` is a key field of an associative list item (`...k:{"name":"a"}.f:name`).
fn is_item_key(path: &Path) -> bool {
    match path.as_slice() {
        [.., Elem::Key(key), Elem::Field(field)] => {
            serde_json::from_str::<Map<String, Value>>(key).is_ok_and(|k| k.contains_key(field))
        }
        _ => false,
    }
}

/// The part of `config` a write in `scope` may change (identity fields always kept).
fn scoped(config: &Value, scope: Scope) -> Value {
    let Some(map) = config.as_object() else {
        return config.clone();
    };
    let kept = map
        .iter()
        .filter(|(k, _)| match k.as_str() {
            "apiVersion" | "kind" => true,
            "metadata" => scope != Scope::StatusOnly,
            "status" => scope != Scope::NoStatus,
            _ => scope != Scope::StatusOnly,
        })
        .map(|(k, v)| {
            let v = if k == "metadata" {
                let mut m = v.clone();
                if let Some(o) = m.as_object_mut() {
                    o.remove("managedFields");
                }
                m
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(kept)
}

/// Structural merge of `cfg` into `live`; `names` are the field names leading to them (they
/// decide, through `lists`, how a list merges).
pub fn merge_into<'c>(live: &mut Value, cfg: &'c Value, lists: &Lists, names: &mut Vec<&'c str>) {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) => {
            for (k, v) in c {
                // An explicit null clears the field, as decoding into the typed object (or
                // pruning a non-nullable CRD field) does on the real server.
                if v.is_null() {
                    l.remove(k);
                    continue;
                }
                match l.get_mut(k) {
                    Some(existing) => {
                        names.push(k);
                        merge_into(existing, v, lists, names);
                        names.pop();
                    }
                    None => {
                        l.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(c)) => match lists.of(names) {
            ListType::Map(keys) => {
                for item in c {
                    let key = fieldset::item_key(item, &keys);
                    let found = key.as_ref().and_then(|k| {
                        l.iter_mut()
                            .find(|i| fieldset::item_key(i, &keys).as_ref() == Some(k))
                    });
                    match found {
                        Some(existing) => merge_into(existing, item, lists, names),
                        None => l.push(item.clone()),
                    }
                }
            }
            ListType::Set => {
                for item in c {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
            }
            ListType::Atomic => *l = c.clone(),
        },
        (live, cfg) => *live = cfg.clone(),
    }
}

/// Removes the field, list item or set value at `path`; absent paths are ignored. Maps
/// left empty by the removal go too, as upstream's structured merge does.
pub fn remove_path(obj: &mut Value, path: &[Elem], lists: &Lists) {
    remove_in(obj, &mut Vec::new(), path, lists);
}

/// Removes `path` below `cur` (reached through the field `names`); returns whether `cur` is
/// now a map emptied by the removal.
fn remove_in<'p>(
    cur: &mut Value,
    names: &mut Vec<&'p str>,
    path: &'p [Elem],
    lists: &Lists,
) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        match first {
            Elem::Field(f) => {
                if let Some(m) = cur.as_object_mut() {
                    return m.remove(f).is_some() && m.is_empty();
                }
            }
            Elem::Key(k) => {
                if let (ListType::Map(keys), Some(a)) = (lists.of(names), cur.as_array_mut()) {
                    a.retain(|i| fieldset::item_key(i, &keys).as_deref() != Some(k.as_str()));
                }
            }
            Elem::Value(v) => {
                let gone: Option<Value> = serde_json::from_str(v).ok();
                if let Some(a) = cur.as_array_mut() {
                    a.retain(|i| gone.as_ref() != Some(i));
                }
            }
        }
        return false;
    }
    match first {
        Elem::Field(f) => {
            let Some(m) = cur.as_object_mut() else {
                return false;
            };
            names.push(f);
            let emptied = m
                .get_mut(f.as_str())
                .is_some_and(|child| remove_in(child, names, rest, lists));
            names.pop();
            if emptied {
                m.remove(f.as_str());
                return m.is_empty();
            }
            false
        }
        Elem::Key(k) => {
            if let Some(item) = find_item(cur, lists.of(names), k) {
                remove_in(item, names, rest, lists);
            }
            false
        }
        Elem::Value(_) => false,
    }
}

fn find_item<'a>(list: &'a mut Value, list_type: ListType, key: &str) -> Option<&'a mut Value> {
    let ListType::Map(keys) = list_type else {
        return None;
    };
    list.as_array_mut()?
        .iter_mut()
        .find(|i| fieldset::item_key(i, &keys).as_deref() == Some(key))
}
