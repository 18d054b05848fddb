//! Reading the input files: the proposed ExtendedDaemonSet (`-f`) and the state (`--state`).
//!
//! Both are YAML (or JSON) streams of documents, each an object or a `kind: List`. Every error
//! names the file, the 1-based document (and List item), the object and the field.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{Location, PlanError};
use eds_api::{GROUP, VERSION};
use eds_plan::StateObject;

/// Kinds a state file holds.
const STATE_KINDS: &str = "Node (v1), Pod (v1), DaemonSet (apps/v1), ExtendedDaemonSet, \
     ExtendedDaemonSetReplicaSet or ExtendedDaemonsetSetting (datadoghq.com/v1alpha1), or a List \
     of them";

/// One object of an input file and where it was.
#[derive(Clone, Debug)]
pub struct Located {
    /// Where.
    pub at: Location,
    /// The object.
    pub value: Value,
}

impl Located {
    /// `kind` of the object.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// `apiVersion` of the object.
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `metadata.name` of the object.
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Deserializes the object as `T`, naming the offending field on error.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, PlanError> {
        serde_path_to_error::deserialize(&self.value).map_err(|e| {
            let field = e.path().to_string();
            PlanError::InvalidObject {
                at: Box::new(self.at.clone()),
                kind: self.kind().to_string(),
                name: self.name().to_string(),
                field,
                message: e.into_inner().to_string(),
            }
        })
    }
}

/// Reads a file (`-` for standard input).
pub fn read_text(path: &Path) -> Result<String, PlanError> {
    let read = || -> std::io::Result<String> {
        if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        } else {
            std::fs::read_to_string(path)
        }
    };
    read().map_err(|source| PlanError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Splits a YAML stream into objects, expanding `kind: List` documents. Empty documents are
/// skipped; an object without `apiVersion`/`kind` is an error.
pub fn objects(path: &Path, text: &str) -> Result<Vec<Located>, PlanError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| PlanError::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let at = Location {
            path: path.to_path_buf(),
            document: i + 1,
            item: None,
        };
        if doc.is_null() {
            continue;
        }
        let is_list = doc
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k == "List" || k.ends_with("List"))
            && doc.get("items").is_some_and(Value::is_array);
        if is_list {
            let items = match doc {
                Value::Object(mut map) => map.remove("items"),
                _ => None,
            };
            for (j, item) in items.into_iter().flat_map(array).enumerate() {
                let at = Location {
                    item: Some(j + 1),
                    ..at.clone()
                };
                out.push(checked(at, item)?);
            }
        } else {
            out.push(checked(at, doc)?);
        }
    }
    Ok(out)
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

fn checked(at: Location, value: Value) -> Result<Located, PlanError> {
    let has = |key: &str| value.get(key).and_then(Value::as_str).is_some();
    if !value.is_object() || !has("apiVersion") || !has("kind") {
        return Err(PlanError::MissingKind { at });
    }
    Ok(Located { at, value })
}

/// Whether an object is an ExtendedDaemonSet of our API version.
fn is_eds(o: &Located) -> bool {
    o.kind() == "ExtendedDaemonSet" && o.api_version() == format!("{GROUP}/{VERSION}")
}

/// What `-f` holds: the ExtendedDaemonSets to plan, in file order, and the other objects
/// (a ConfigMap next to the ExtendedDaemonSet in `kustomize build` or Helm output), which are
/// listed as skipped.
#[derive(Clone, Debug, Default)]
pub struct Proposals {
    /// The ExtendedDaemonSets.
    pub eds: Vec<Located>,
    /// Everything else.
    pub skipped: Vec<Located>,
}

/// Reads `-f`: a file, a directory (its `.yaml`, `.yml` and `.json` files, by name, as
/// `kubectl apply -f DIR`) or `-` (standard input); each a stream of documents, objects or
/// `kind: List`s.
pub fn proposals(path: &Path) -> Result<Proposals, PlanError> {
    let mut out = Proposals::default();
    for file in files(path)? {
        let text = read_text(&file)?;
        let shown = display_path(&file);
        for object in objects(&shown, &text)? {
            if is_eds(&object) {
                out.eds.push(object);
            } else {
                out.skipped.push(object);
            }
        }
    }
    if out.eds.is_empty() {
        let found: Vec<String> = out
            .skipped
            .iter()
            .map(|o| {
                format!(
                    "{} {:?} ({}) in {}",
                    o.kind(),
                    o.name(),
                    o.api_version(),
                    o.at
                )
            })
            .collect();
        let found = if found.is_empty() {
            String::new()
        } else {
            format!("; found {}", found.join(", "))
        };
        return Err(PlanError::NoExtendedDaemonSet {
            path: display_path(path),
            found,
        });
    }
    Ok(out)
}

/// The files `-f PATH` names.
fn files(path: &Path) -> Result<Vec<PathBuf>, PlanError> {
    if path == Path::new("-") || !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| PlanError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| ["yaml", "yml", "json"].contains(&e))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The objects of a state file, as the planner reads them.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The objects.
    pub objects: Vec<StateObject>,
    /// The ExtendedDaemonSets as written in the file, so values print as written (`5m`).
    pub eds_values: Vec<Value>,
}

/// Reads a state file into the objects the planner reads.
pub fn state(path: &Path) -> Result<State, PlanError> {
    let text = read_text(path)?;
    let path = &display_path(path);
    let mut out = Vec::new();
    let mut eds_values = Vec::new();
    for object in objects(path, &text)? {
        if is_eds(&object) {
            eds_values.push(object.value.clone());
        }
        let group_version = object.api_version().to_string();
        let ours = group_version == format!("{GROUP}/{VERSION}");
        let parsed = match (object.kind(), group_version.as_str()) {
            ("Node", "v1") => StateObject::Node(Box::new(object.parse()?)),
            ("Pod", "v1") => StateObject::Pod(Box::new(object.parse()?)),
            ("ExtendedDaemonSet", _) if ours => StateObject::Eds(Box::new(object.parse()?)),
            ("ExtendedDaemonSetReplicaSet", _) if ours => {
                StateObject::Ers(Box::new(object.parse()?))
            }
            ("ExtendedDaemonsetSetting", _) if ours => {
                StateObject::Setting(Box::new(object.parse()?))
            }
            ("DaemonSet", "apps/v1") => StateObject::DaemonSet(Box::new(object.parse()?)),
            _ => return Err(unknown(&object, STATE_KINDS)),
        };
        out.push(parsed);
    }
    Ok(State {
        objects: out,
        eds_values,
    })
}

fn unknown(object: &Located, expected: &'static str) -> PlanError {
    PlanError::UnknownKind {
        at: object.at.clone(),
        kind: object.kind().to_string(),
        api_version: object.api_version().to_string(),
        expected,
    }
}

/// The path as messages show it (`<stdin>` for `-`).
fn display_path(path: &Path) -> PathBuf {
    if path == Path::new("-") {
        PathBuf::from("<stdin>")
    } else {
        path.to_path_buf()
    }
}
