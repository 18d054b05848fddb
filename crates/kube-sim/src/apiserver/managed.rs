//! `metadata.managedFields`: which manager owns which fields, updated on every write.
//!
//! An `Update` (create, update, non-apply patch) gives the writer the fields it changed and
//! takes them from everyone else; an `Apply` is handled by [`super::apply`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{
    fieldset::{self, FieldSet, Path, Scope},
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Owned fields, shared with the stored object's parsed entries until they change.
    set: Arc<FieldSet>,
    /// The index of the stored object's `managedFields` item this entry was read from, while
    /// its fields have not changed: that item is written back as it is instead of being
    /// rebuilt.
    from: Option<usize>,
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
            set: Arc::new(set),
            from: None,
        }
    }

    /// Owned fields.
    pub fn set(&self) -> &FieldSet {
        &self.set
    }

    /// Owned fields, to change.
    pub fn set_mut(&mut self) -> &mut FieldSet {
        self.from = None;
        Arc::make_mut(&mut self.set)
    }

    /// Whether this entry belongs to `manager` writing with `operation` on `subresource`.
    pub fn is(&self, manager: &str, operation: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// The entries of an object's `metadata.managedFields`.
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = stored_list(obj) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                _ => Operation::Update,
            };
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let set: FieldSet = e
                .get("fieldsV1")
                .map(fieldset::from_fields_v1)
                .unwrap_or_default();
            Some(Entry {
                manager: s("manager"),
                operation,
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: s("subresource"),
                set: Arc::new(set),
                // An entry whose fields do not change is written back as it was read.
                from: Some(i),
            })
        })
        .collect()
}

fn stored_list(obj: &Value) -> Option<&Vec<Value>> {
    obj.get("metadata")?.get("managedFields")?.as_array()
}

/// Writes `entries` (dropping empty ones) as `metadata.managedFields` of `obj`; `old` is the
/// stored object they were read from, if any. Returns the entries as written, to be read
/// back instead of parsing `obj` again ([`Parsed`]).
///
/// An entry read from `old` and left as it was is written as `old` holds it: moved from the
/// list `obj` already holds when that list has the same item at the same place (a patch
/// starts from a copy of the stored object), copied from `old` otherwise.
pub fn write(obj: &mut Value, entries: Vec<Entry>, old: Option<&Value>) -> Vec<Entry> {
    let stored = old.and_then(stored_list);
    let mut given = match obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("managedFields"))
    {
        Some(Value::Array(items)) => std::mem::take(items),
        _ => Vec::new(),
    };
    let mut list = Vec::with_capacity(entries.len());
    let mut written = Vec::with_capacity(entries.len());
    for mut e in entries.into_iter().filter(|e| !e.set.is_empty()) {
        let read_from = e.from.and_then(|i| Some((i, stored?.get(i)?)));
        let item = match read_from {
            Some((i, item)) if written_as(item, &e) => match given.get_mut(i) {
                Some(same) if *same == *item => std::mem::take(same),
                _ => item.clone(),
            },
            // Same fields, written at another time: the stored fields are moved or copied
            // as above.
            Some((i, item)) => {
                let stored = item.get("fieldsV1");
                let fields = match given.get_mut(i).and_then(|g| g.get_mut("fieldsV1")) {
                    Some(same) if Some(&*same) == stored => Some(std::mem::take(same)),
                    _ => stored.cloned(),
                };
                build(&e, fields)
            }
            None => build(&e, None),
        };
        e.from = Some(list.len());
        list.push(item);
        written.push(e);
    }
    let value = if list.is_empty() {
        Value::Null
    } else {
        Value::Array(list)
    };
    super::meta::set_meta(obj, "managedFields", value);
    written
}

fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::Apply => "Apply",
        Operation::Update => "Update",
    }
}

/// Whether the stored `item` is what [`build`] would write for `e`, whose fields were read
/// from it.
fn written_as(item: &Value, e: &Entry) -> bool {
    let s = |k: &str| item.get(k).and_then(Value::as_str);
    s("manager") == Some(e.manager.as_str())
        && s("operation") == Some(operation_name(e.operation))
        && s("apiVersion") == Some(e.api_version.as_str())
        && s("time") == Some(e.time.as_str())
        && s("fieldsType") == Some("FieldsV1")
        && s("subresource").unwrap_or("") == e.subresource
        && item.get("fieldsV1").is_some()
        && item
            .as_object()
            .is_some_and(|m| m.len() == 6 + usize::from(!e.subresource.is_empty()))
}

/// The `managedFields` item of `e`, with `fields_v1` as its fields when given.
fn build(e: &Entry, fields_v1: Option<Value>) -> Value {
    let mut v = Map::new();
    v.insert("manager".into(), Value::String(e.manager.clone()));
    v.insert("operation".into(), operation_name(e.operation).into());
    v.insert("apiVersion".into(), Value::String(e.api_version.clone()));
    v.insert("time".into(), Value::String(e.time.clone()));
    v.insert("fieldsType".into(), "FieldsV1".into());
    let fields_v1 = fields_v1.unwrap_or_else(|| fieldset::to_fields_v1(&e.set));
    v.insert("fieldsV1".into(), fields_v1);
    if !e.subresource.is_empty() {
        v.insert("subresource".into(), Value::String(e.subresource.clone()));
    }
    Value::Object(v)
}

/// The managedFields entries of a stored object as [`write`] returned them, kept next to
/// the object so the next write does not parse its `fieldsV1` again.
pub type Parsed = Arc<[Entry]>;

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
    let pos = entries
        .iter()
        .position(|e| e.is(writer.manager, Operation::Update, writer.subresource));
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) == pos {
            continue;
        }
        let gone = |p: &Path| changed.contains(p) || removed.contains(p);
        // Most entries own none of the fields: they keep their set, shared with the stored
        // object's parsed entries, and their stored item.
        let touched = if e.set.len() <= changed.len() + removed.len() {
            e.set.iter().any(gone)
        } else {
            changed.iter().chain(&removed).any(|p| e.set.contains(p))
        };
        if touched {
            e.set_mut().retain(|p| !gone(p));
        }
    }
    let gains = !changed.is_empty();
    match pos {
        // The writer keeps what it owned but the removed fields, and gains the changed ones;
        // its set (and stored fields) stay as they are when it already owns all of them.
        Some(i) => {
            let e = &mut entries[i];
            let loses = removed.iter().any(|p| e.set.contains(p));
            if loses || changed.iter().any(|p| !e.set.contains(p)) {
                let set = e.set_mut();
                if loses {
                    set.retain(|p| !removed.contains(p));
                }
                set.extend(changed);
            }
            if gains {
                e.time = writer.now.to_string();
                e.api_version = writer.api_version.to_string();
            }
        }
        None if gains => entries.push(Entry::new(
            writer.manager,
            Operation::Update,
            writer.api_version,
            writer.now,
            writer.subresource,
            changed,
        )),
        None => {}
    }
    entries.retain(|e| !e.set.is_empty());
}

#[cfg(test)]
mod tests;
