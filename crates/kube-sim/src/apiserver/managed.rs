//! `metadata.managedFields`: which manager owns which fields, updated on every write.
//!
//! An `Update` (create, update, non-apply patch) gives the writer the fields it changed and
//! takes them from everyone else; an `Apply` is handled by [`super::apply`].

use serde_json::{Map, Value};

use super::{
    fieldset::{self, FieldSet, Scope},
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
    set: FieldSet,
    /// `set` as read from the stored object's `fieldsV1`, while it has not changed: written
    /// back as it is instead of being rebuilt.
    read_as: Option<Value>,
}

impl Entry {
    /// A new entry owning `set`.
    pub fn new(
        manager: &str,
        operation: Operation,
        api_version: &str,
        time: &str,
        subresource: &str,
        set: FieldSet,
    ) -> Self {
        Entry {
            manager: manager.to_string(),
            operation,
            api_version: api_version.to_string(),
            time: time.to_string(),
            subresource: subresource.to_string(),
            set,
            read_as: None,
        }
    }

    /// Owned fields.
    pub fn set(&self) -> &FieldSet {
        &self.set
    }

    /// Owned fields, to change.
    pub fn set_mut(&mut self) -> &mut FieldSet {
        self.read_as = None;
        &mut self.set
    }

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
            let set: FieldSet = e
                .get("fieldsV1")
                .map(fieldset::from_fields_v1)
                .unwrap_or_default();
            // An entry whose fields do not change is written back as it was read.
            let read_as = e.get("fieldsV1").cloned();
            Some(Entry {
                manager: s("manager"),
                operation,
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: s("subresource"),
                set,
                read_as,
            })
        })
        .collect()
}

/// Writes `entries` (dropping empty ones) as `metadata.managedFields` of `obj`.
pub fn write(obj: &mut Value, entries: Vec<Entry>) {
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let fields_v1 = match e.read_as {
                Some(v) => v,
                None => fieldset::to_fields_v1(&e.set),
            };
            let mut v = Map::new();
            v.insert("manager".into(), Value::String(e.manager));
            let operation = match e.operation {
                Operation::Apply => "Apply",
                Operation::Update => "Update",
            };
            v.insert("operation".into(), operation.into());
            v.insert("apiVersion".into(), Value::String(e.api_version));
            v.insert("time".into(), Value::String(e.time));
            v.insert("fieldsType".into(), "FieldsV1".into());
            v.insert("fieldsV1".into(), fields_v1);
            if !e.subresource.is_empty() {
                v.insert("subresource".into(), Value::String(e.subresource));
            }
            Value::Object(v)
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
    let (changed, removed) = fieldset::changes(old, new, writer.scope, writer.lists);
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    for e in entries.iter_mut() {
        let before = e.set.len();
        e.set
            .retain(|p| !changed.contains(p) && !removed.contains(p));
        if e.set.len() != before {
            e.read_as = None;
        }
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
            entries.push(Entry::new(
                writer.manager,
                Operation::Update,
                writer.api_version,
                "",
                writer.subresource,
                FieldSet::new(),
            ));
            let last = entries.len() - 1;
            &mut entries[last]
        }
    };
    entry.set_mut().extend(changed);
    entry.time = writer.now.to_string();
    entry.api_version = writer.api_version.to_string();
    entries.retain(|e| !e.set.is_empty());
}

#[cfg(test)]
mod tests;
