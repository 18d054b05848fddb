//! `metadata.managedFields`: which manager owns which fields, updated on every write.
//!
//! An `Update` (create, update, non-apply patch) gives the writer the fields it changed and
//! takes them from everyone else; an `Apply` is handled by [`super::apply`].

use serde_json::{Value, json};

use super::{
    fieldset::{self, FieldSet, Leaf, Scope},
    lists::Lists,
};

/// How a manager last wrote its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

/// One entry of `metadata.managedFields`.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// Operation.
    pub operation: Operation,
    /// apiVersion the fields were written with.
    pub api_version: String,
    /// Time of the last write (RFC 3339).
    pub time: String,
    /// `status` for the status subresource, empty for the main resource.
    pub subresource: String,
    /// Owned fields.
    pub set: FieldSet,
}

impl Entry {
    /// Whether this entry belongs to `manager` writing with `operation` on `subresource`.
    pub fn is(&self, manager: &str, operation: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// The entries of an object's `metadata.managedFields`.
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                _ => Operation::Update,
            };
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Some(Entry {
                manager: s("manager"),
                operation,
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: s("subresource"),
                set: e
                    .get("fieldsV1")
                    .map(fieldset::from_fields_v1)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Writes `entries` (dropping empty ones) as `metadata.managedFields` of `obj`.
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": match e.operation {
                    Operation::Apply => "Apply",
                    Operation::Update => "Update",
                },
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fieldset::to_fields_v1(&e.set),
            });
            if !e.subresource.is_empty() {
                v["subresource"] = Value::String(e.subresource.clone());
            }
            v
        })
        .collect();
    let value = if list.is_empty() {
        Value::Null
    } else {
        Value::Array(list)
    };
    super::meta::set_meta(obj, "managedFields", value);
}

/// Who writes, for field ownership.
pub struct Writer<'a> {
    /// Field manager.
    pub manager: &'a str,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// `status` or empty.
    pub subresource: &'a str,
    /// Fields this write covers.
    pub scope: Scope,
    /// Time of the write.
    pub now: &'a str,
    /// How the lists of the resource merge.
    pub lists: &'a Lists,
}

/// Records an `Update` by `writer` that turned `old` into `new`: the writer gains the fields
/// it set or changed, everyone loses the fields that changed or disappeared.
pub fn track_update(entries: &mut Vec<Entry>, old: Option<&Value>, new: &Value, writer: &Writer) {
    let old_leaves = old
        .map(|o| fieldset::leaves(o, writer.scope, writer.lists))
        .unwrap_or_default();
    let new_leaves = fieldset::leaves(new, writer.scope, writer.lists);
    let changed: FieldSet = new_leaves
        .iter()
        .filter(|(p, v)| match (old_leaves.get(*p), v) {
            (Some(Leaf::Item), Leaf::Item) => false,
            (Some(Leaf::Value(a)), Leaf::Value(b)) => a != b,
            _ => true,
        })
        .map(|(p, _)| p.clone())
        .collect();
    let removed: FieldSet = old_leaves
        .keys()
        .filter(|p| !new_leaves.contains_key(*p))
        .cloned()
        .collect();
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    for e in entries.iter_mut() {
        e.set
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    if changed.is_empty() {
        entries.retain(|e| !e.set.is_empty());
        return;
    }
    let pos = entries
        .iter()
        .position(|e| e.is(writer.manager, Operation::Update, writer.subresource));
    let entry = match pos {
        Some(i) => &mut entries[i],
        None => {
            entries.push(Entry {
                manager: writer.manager.to_string(),
                operation: Operation::Update,
                api_version: writer.api_version.to_string(),
                time: String::new(),
                subresource: writer.subresource.to_string(),
                set: FieldSet::new(),
            });
            let last = entries.len() - 1;
            &mut entries[last]
        }
    };
    entry.set.extend(changed);
    entry.time = writer.now.to_string();
    entry.api_version = writer.api_version.to_string();
    entries.retain(|e| !e.set.is_empty());
}
