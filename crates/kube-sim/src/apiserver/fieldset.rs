//! Field sets: the paths of an object a field manager owns, in the `FieldsV1` format of
//! `metadata.managedFields`.
//!
//! Maps are walked field by field; lists are atomic (one leaf), associative (items keyed by
//! merge keys, `k:{"name":"app"}`) or sets of scalars (`v:"x"`), as the resource declares
//! them (see [`super::lists`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::lists::Lists;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Elem {
    /// A map field, `f:name`.
    Field(String),
    /// An associative list item by its key fields (canonical JSON), `k:{...}`.
    Key(String),
    /// A set list item by its value (JSON), `v:...`.
    Value(String),
}

/// A path from the object root.
pub type Path = Vec<Elem>;

/// A set of owned paths.
pub type FieldSet = BTreeSet<Path>;

/// How a list field merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items matched by these key fields.
    Map(Vec<String>),
    /// Scalars merged as a set.
    Set,
}

/// Canonical JSON of an item's key fields, or `None` when it has none of them.
pub fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    let obj = item.as_object()?;
    let mut key = Map::new();
    for k in keys {
        if let Some(v) = obj.get(k) {
            key.insert(k.clone(), v.clone());
        }
    }
    if key.is_empty() {
        None
    } else {
        Some(Value::Object(key).to_string())
    }
}

/// What a path of an object holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Leaf<'a> {
    /// A value (scalar, atomic list, or empty map).
    Value(&'a Value),
    /// An associative list item (its fields are paths of their own).
    Item,
}

/// Which part of an object a field set covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything but `status` (main endpoint of a kind with a status subresource).
    NoStatus,
    /// Everything (kinds without a status subresource).
    All,
    /// Only `status` (the `/status` subresource).
    StatusOnly,
}

/// The metadata fields that are owned like user fields.
const OWNED_META: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// Whether the top-level field `key` is owned within `scope`.
fn in_scope(key: &str, scope: Scope) -> bool {
    match key {
        "apiVersion" | "kind" => false,
        "status" => scope != Scope::NoStatus,
        _ => scope != Scope::StatusOnly,
    }
}

/// Every owned path of `obj` within `scope`, with what it holds; `lists` says how its lists
/// merge.
pub fn leaves<'a>(obj: &'a Value, scope: Scope, lists: &Lists) -> BTreeMap<Path, Leaf<'a>> {
    let mut out = BTreeMap::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        if !in_scope(k, scope) {
            continue;
        }
        let mut path = vec![Elem::Field(k.clone())];
        if k == "metadata" {
            if let Some(m) = v.as_object() {
                for f in OWNED_META {
                    if let Some(fv) = m.get(*f) {
                        let mut p = path.clone();
                        p.push(Elem::Field((*f).to_string()));
                        walk(lists, &mut vec!["metadata", f], fv, &mut p, &mut out);
                    }
                }
            }
            continue;
        }
        walk(lists, &mut vec![k.as_str()], v, &mut path, &mut out);
    }
    out
}

/// What an update of `old` (none for a create) into `new` does to the owned paths within
/// `scope`: the paths of `new` that `old` does not hold with the same value (changed or
/// added), and the paths of `old` that `new` no longer has (removed). The same as comparing
/// the [`leaves`] of both, without walking the parts that are equal.
pub fn changes(
    old: Option<&Value>,
    new: &Value,
    scope: Scope,
    lists: &Lists,
) -> (FieldSet, FieldSet) {
    let mut diff = Diff {
        lists,
        changed: FieldSet::new(),
        removed: FieldSet::new(),
    };
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    for k in union(old, new) {
        if !in_scope(k, scope) {
            continue;
        }
        if k == "metadata" {
            let old_meta = old.get(k).and_then(Value::as_object);
            let new_meta = new.get(k).and_then(Value::as_object);
            for f in OWNED_META {
                let (o, n) = (
                    old_meta.and_then(|m| m.get(*f)),
                    new_meta.and_then(|m| m.get(*f)),
                );
                if o == n {
                    continue;
                }
                let mut path = vec![Elem::Field(k.clone()), Elem::Field((*f).to_string())];
                diff.diff(o, n, &mut path, &mut vec!["metadata", f]);
            }
            continue;
        }
        let (o, n) = (old.get(k), new.get(k));
        if o != n {
            diff.diff(
                o,
                n,
                &mut vec![Elem::Field(k.clone())],
                &mut vec![k.as_str()],
            );
        }
    }
    (diff.changed, diff.removed)
}

/// The keys of `a`, then those of `b` that `a` does not have.
fn union<'a>(
    a: &'a Map<String, Value>,
    b: &'a Map<String, Value>,
) -> impl Iterator<Item = &'a String> {
    a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)))
}

struct Diff<'l> {
    lists: &'l Lists,
    changed: FieldSet,
    removed: FieldSet,
}

impl Diff<'_> {
    /// Compares what `old` and `new` hold at `path`, which differ: maps field by field,
    /// anything else (lists, scalars, a map on one side only) by their leaves.
    fn diff<'a>(
        &mut self,
        old: Option<&'a Value>,
        new: Option<&'a Value>,
        path: &mut Path,
        names: &mut Vec<&'a str>,
    ) {
        if let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new)
            && !o.is_empty()
            && !n.is_empty()
        {
            self.diff_fields(o, n, path, names);
            return;
        }
        if let (Some(Value::Array(o)), Some(Value::Array(n))) = (old, new)
            && !o.is_empty()
            && !n.is_empty()
            && let ListType::Map(keys) = self.lists.of(names)
            && let (Some(old_items), Some(new_items)) = (keyed(o, &keys), keyed(n, &keys))
        {
            self.diff_items(&old_items, &new_items, path, names);
            return;
        }
        // A field on one side only: all its leaves are added, or all removed.
        let (o, n) = match (old, new) {
            (None, Some(n)) => return walk(self.lists, names, n, path, &mut self.changed),
            (Some(o), None) => return walk(self.lists, names, o, path, &mut self.removed),
            (None, None) => return,
            (Some(o), Some(n)) => (o, n),
        };
        let mut old_leaves = BTreeMap::new();
        walk(self.lists, names, o, path, &mut old_leaves);
        let mut new_leaves = BTreeMap::new();
        walk(self.lists, names, n, path, &mut new_leaves);
        for (p, v) in &new_leaves {
            let differs = match (old_leaves.get(p), v) {
                (Some(Leaf::Item), Leaf::Item) => false,
                (Some(Leaf::Value(a)), Leaf::Value(b)) => a != b,
                _ => true,
            };
            if differs {
                self.changed.insert(p.clone());
            }
        }
        for p in old_leaves.into_keys() {
            if !new_leaves.contains_key(&p) {
                self.removed.insert(p);
            }
        }
    }

    /// Compares the fields of two maps found at `path`, each like a map field.
    fn diff_fields<'a>(
        &mut self,
        old: &'a Map<String, Value>,
        new: &'a Map<String, Value>,
        path: &mut Path,
        names: &mut Vec<&'a str>,
    ) {
        for k in union(old, new) {
            let (o, n) = (old.get(k), new.get(k));
            if o == n {
                continue;
            }
            path.push(Elem::Field(k.clone()));
            names.push(k);
            self.diff(o, n, path, names);
            names.pop();
            path.pop();
        }
    }

    /// Compares two associative lists item by item: an item on both sides is the same leaf,
    /// and its fields are compared like map fields; an item on one side only is walked.
    fn diff_items<'a>(
        &mut self,
        old: &BTreeMap<String, &'a Map<String, Value>>,
        new: &BTreeMap<String, &'a Map<String, Value>>,
        path: &mut Path,
        names: &mut Vec<&'a str>,
    ) {
        for (key, item) in new {
            match old.get(key) {
                Some(before) if before == item => {}
                Some(before) => {
                    path.push(Elem::Key(key.clone()));
                    self.diff_fields(before, item, path, names);
                    path.pop();
                }
                None => {
                    path.push(Elem::Key(key.clone()));
                    walk_item(self.lists, names, item, path, &mut self.changed);
                    path.pop();
                }
            }
        }
        for (key, item) in old {
            if !new.contains_key(key) {
                path.push(Elem::Key(key.clone()));
                walk_item(self.lists, names, item, path, &mut self.removed);
                path.pop();
            }
        }
    }
}

/// The items of an associative list by key, or `None` when an item has no key or two items
/// have the same one (then the list is compared by its leaves).
fn keyed<'a>(
    items: &'a [Value],
    keys: &[String],
) -> Option<BTreeMap<String, &'a Map<String, Value>>> {
    let mut out = BTreeMap::new();
    for item in items {
        let key = item_key(item, keys)?;
        if out.insert(key, item.as_object()?).is_some() {
            return None;
        }
    }
    Some(out)
}

/// Where a walk records the leaves it finds.
trait Leaves<'a> {
    fn put(&mut self, path: Path, leaf: Leaf<'a>);
}

/// Every leaf with what it holds.
impl<'a> Leaves<'a> for BTreeMap<Path, Leaf<'a>> {
    fn put(&mut self, path: Path, leaf: Leaf<'a>) {
        self.insert(path, leaf);
    }
}

/// Only the paths of the leaves.
impl<'a> Leaves<'a> for FieldSet {
    fn put(&mut self, path: Path, _: Leaf<'a>) {
        self.insert(path);
    }
}

/// Records the leaves of the associative list item `item`, found at `path` (its key).
fn walk_item<'a, 'n>(
    lists: &Lists,
    names: &mut Vec<&'n str>,
    item: &'a Map<String, Value>,
    path: &mut Path,
    out: &mut impl Leaves<'a>,
) where
    'a: 'n,
{
    walk_fields(lists, names, item, path, out);
    out.put(path.clone(), Leaf::Item);
}

/// Records the leaves of each field of `map`, found at `path`.
fn walk_fields<'a, 'n>(
    lists: &Lists,
    names: &mut Vec<&'n str>,
    map: &'a Map<String, Value>,
    path: &mut Path,
    out: &mut impl Leaves<'a>,
) where
    'a: 'n,
{
    for (k, child) in map {
        path.push(Elem::Field(k.clone()));
        names.push(k);
        walk(lists, names, child, path, out);
        names.pop();
        path.pop();
    }
}

/// Records the leaves of `v`, found at `path`; `names` are the field names leading to it.
/// `path` is a stack: only the paths of leaves are copied.
fn walk<'a, 'n>(
    lists: &Lists,
    names: &mut Vec<&'n str>,
    v: &'a Value,
    path: &mut Path,
    out: &mut impl Leaves<'a>,
) where
    'a: 'n,
{
    match v {
        Value::Object(m) if !m.is_empty() => walk_fields(lists, names, m, path, out),
        Value::Array(items) if !items.is_empty() => match lists.of(names) {
            ListType::Map(keys) => {
                if items.iter().any(|i| item_key(i, &keys).is_none()) {
                    out.put(path.clone(), Leaf::Value(v));
                    return;
                }
                for item in items {
                    let Some(key) = item_key(item, &keys) else {
                        continue;
                    };
                    path.push(Elem::Key(key));
                    if let Some(m) = item.as_object() {
                        walk_item(lists, names, m, path, out);
                    } else {
                        out.put(path.clone(), Leaf::Item);
                    }
                    path.pop();
                }
            }
            ListType::Set => {
                for item in items {
                    path.push(Elem::Value(item.to_string()));
                    out.put(path.clone(), Leaf::Value(item));
                    path.pop();
                }
            }
            ListType::Atomic => {
                out.put(path.clone(), Leaf::Value(v));
            }
        },
        _ => {
            out.put(path.clone(), Leaf::Value(v));
        }
    }
}

/// The `FieldsV1` object of a field set.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    // A set iterates in order, so the paths under one prefix are next to each other, right
    // after the prefix itself when it is owned too.
    let paths: Vec<&[Elem]> = set
        .iter()
        .map(Vec::as_slice)
        .filter(|p| !p.is_empty())
        .collect();
    let mut root = Map::new();
    fields_v1_level(&paths, 0, &mut root);
    Value::Object(root)
}

/// Adds to `map` the `FieldsV1` entries of `paths` (sorted, all longer than `depth`) below
/// their first `depth` elements.
fn fields_v1_level(paths: &[&[Elem]], depth: usize, map: &mut Map<String, Value>) {
    let mut i = 0;
    while i < paths.len() {
        let elem = &paths[i][depth];
        let end = i + paths[i..].iter().take_while(|p| &p[depth] == elem).count();
        let owned = paths[i].len() == depth + 1;
        let below = &paths[if owned { i + 1 } else { i }..end];
        let mut child = Map::new();
        if owned && !below.is_empty() {
            child.insert(".".to_string(), Value::Object(Map::new()));
        }
        if !below.is_empty() {
            fields_v1_level(below, depth + 1, &mut child);
        }
        map.insert(encode(elem), Value::Object(child));
        i = end;
    }
}

fn encode(elem: &Elem) -> String {
    let (prefix, rest) = match elem {
        Elem::Field(f) => ("f:", f),
        Elem::Key(k) => ("k:", k),
        Elem::Value(v) => ("v:", v),
    };
    let mut key = String::with_capacity(prefix.len() + rest.len());
    key.push_str(prefix);
    key.push_str(rest);
    key
}

fn decode(s: &str) -> Option<Elem> {
    let (prefix, rest) = s.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Elem::Field(rest.to_string())),
        // Re-serialize so the key is canonical whatever order the client wrote.
        "k:" => serde_json::from_str::<Value>(rest)
            .ok()
            .map(|v| Elem::Key(v.to_string())),
        "v:" => serde_json::from_str::<Value>(rest)
            .ok()
            .map(|v| Elem::Value(v.to_string())),
        _ => None,
    }
}

/// The field set of a `FieldsV1` object (unknown entries are skipped).
pub fn from_fields_v1(v: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    parse(v, &mut Vec::new(), &mut set);
    set
}

fn parse(v: &Value, path: &mut Path, set: &mut FieldSet) {
    let Some(map) = v.as_object() else {
        return;
    };
    for (k, child) in map {
        if k == "." {
            if !path.is_empty() {
                set.insert(path.clone());
            }
            continue;
        }
        let Some(elem) = decode(k) else {
            continue;
        };
        path.push(elem);
        if child.as_object().is_none_or(Map::is_empty) {
            set.insert(path.clone());
        } else {
            parse(child, path, set);
        }
        path.pop();
    }
}

/// A path as the real server prints it in conflict messages: `.spec.containers[name="a"].image`.
pub fn display(path: &Path) -> String {
    let mut s = String::new();
    for elem in path {
        match elem {
            Elem::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Elem::Key(k) => {
                let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                    .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                    .unwrap_or_default();
                s.push('[');
                s.push_str(&parts.join(","));
                s.push(']');
            }
            Elem::Value(v) => {
                s.push_str("[=");
                s.push_str(v);
                s.push(']');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests;
