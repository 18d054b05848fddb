//! `meta.k8s.io/v1` Table responses, which kubectl asks for (`Accept: ...;as=Table`) to print
//! `kubectl get`: the columns of the real server for pods, nodes, namespaces, daemonsets and
//! events, a CRD's `additionalPrinterColumns` for custom resources, and Name/Age otherwise.

mod events;

use serde_json::{Value, json};

use super::{list::Page, meta, resources::ResourceInfo};

/// One printer column of a CRD version.
#[derive(Clone, Debug)]
pub struct Column {
    /// Header.
    pub name: String,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    pub kind: String,
    /// Simple JSONPath, e.g. `.status.desired`.
    pub json_path: String,
    /// 0 for the default view, more for `-o wide`.
    pub priority: i64,
}

/// Whether the request asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

fn col(name: &str, kind: &str, priority: i64) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({ "name": name, "type": kind, "format": format, "description": name,
            "priority": priority })
}

/// The Table of a page of objects of `info` served at `version`.
pub fn table(info: &ResourceInfo, version: &str, page: &Page) -> Value {
    let now = jiff::Timestamp::now();
    let custom = info.columns.get(version);
    let is_events = info.plural == "events" && matches!(info.group.as_str(), "" | "events.k8s.io");
    let mut defs = vec![col("Name", "string", 0)];
    match (info.group.as_str(), info.plural.as_str(), custom) {
        // Events have no leading Name column: it comes last, shown with `-o wide` only.
        _ if is_events => defs = events::columns(),
        (_, _, Some(cols)) => {
            defs.extend(cols.iter().map(|c| col(&c.name, &c.kind, c.priority)));
        }
        ("", "pods", _) => {
            for (n, t) in [
                ("Ready", "string"),
                ("Status", "string"),
                ("Restarts", "string"),
            ] {
                defs.push(col(n, t, 0));
            }
            defs.push(col("Age", "string", 0));
            defs.push(col("IP", "string", 1));
            defs.push(col("Node", "string", 1));
        }
        ("", "nodes", _) => {
            for n in ["Status", "Roles", "Age", "Version"] {
                defs.push(col(n, "string", 0));
            }
        }
        ("", "namespaces", _) => {
            defs.push(col("Status", "string", 0));
            defs.push(col("Age", "string", 0));
        }
        ("apps", "daemonsets", _) => {
            for n in ["Desired", "Current", "Ready", "Up-to-date", "Available"] {
                defs.push(col(n, "integer", 0));
            }
            defs.push(col("Age", "string", 0));
        }
        _ => defs.push(col("Age", "string", 0)),
    }
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|obj| {
            let cells = if is_events {
                events::cells(obj, now)
            } else {
                let mut cells = vec![json!(meta::name(obj))];
                cells.extend(row(info, custom, obj, now));
                cells
            };
            let mut metadata = obj.get("metadata").cloned().unwrap_or(json!({}));
            if let Some(m) = metadata.as_object_mut() {
                m.remove("managedFields");
            }
            json!({ "cells": cells, "object": {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata } })
        })
        .collect();
    let mut list_meta = json!({ "resourceVersion": page.rv.to_string() });
    if let Some(next) = &page.next {
        list_meta["continue"] = json!(next);
    }
    json!({ "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": defs, "rows": rows })
}

fn row(
    info: &ResourceInfo,
    custom: Option<&Vec<Column>>,
    obj: &Value,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let age = json!(age(obj.pointer("/metadata/creationTimestamp"), now));
    let s = |p: &str| obj.pointer(p).cloned().unwrap_or(Value::Null);
    if let Some(cols) = custom {
        return cols
            .iter()
            .map(|c| {
                let v = obj
                    .pointer(&pointer(&c.json_path))
                    .cloned()
                    .unwrap_or(Value::Null);
                if c.kind == "date" {
                    json!(age_of(&v, now))
                } else {
                    v
                }
            })
            .collect();
    }
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "pods") => pod_row(obj, age),
        ("", "nodes") => {
            let ready = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            let mut status = if ready { "Ready" } else { "NotReady" }.to_string();
            if obj.pointer("/spec/unschedulable") == Some(&json!(true)) {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<String> = meta::labels(obj)
                .keys()
                .filter_map(|k| {
                    k.strip_prefix("node-role.kubernetes.io/")
                        .map(str::to_string)
                })
                .collect();
            let roles = if roles.is_empty() {
                "<none>".to_string()
            } else {
                roles.join(",")
            };
            vec![
                json!(status),
                json!(roles),
                age,
                s("/status/nodeInfo/kubeletVersion"),
            ]
        }
        ("", "namespaces") => vec![s("/status/phase"), age],
        ("apps", "daemonsets") => {
            let n = |p: &str| obj.pointer(p).cloned().unwrap_or(json!(0));
            vec![
                n("/status/desiredNumberScheduled"),
                n("/status/currentNumberScheduled"),
                n("/status/numberReady"),
                n("/status/updatedNumberScheduled"),
                n("/status/numberAvailable"),
                age,
            ]
        }
        _ => vec![age],
    }
}

/// READY, STATUS, RESTARTS, AGE, IP, NODE as kubectl's pod printer computes them.
fn pod_row(obj: &Value, age: Value) -> Vec<Value> {
    let statuses: Vec<&Value> = obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let total = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses
        .iter()
        .filter(|c| c["ready"] == json!(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|c| c["restartCount"].as_i64())
        .sum();
    let mut status = obj
        .pointer("/status/reason")
        .or_else(|| obj.pointer("/status/phase"))
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
        .to_string();
    for c in &statuses {
        let reason = c
            .pointer("/state/waiting/reason")
            .or_else(|| c.pointer("/state/terminated/reason"))
            .and_then(Value::as_str);
        if let Some(r) = reason {
            status = r.to_string();
        }
    }
    if meta::is_deleting(obj) {
        status = "Terminating".into();
    }
    let or_none = |p: &str| json!(obj.pointer(p).and_then(Value::as_str).unwrap_or("<none>"));
    vec![
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts.to_string()),
        age,
        or_none("/status/podIP"),
        or_none("/spec/nodeName"),
    ]
}

/// `.status.canary.replicaSet` or `.spec.list[0].name` as a JSON pointer.
fn pointer(json_path: &str) -> String {
    json_path
        .trim_start_matches('.')
        .split('.')
        .flat_map(|part| part.split(['[', ']']).filter(|p| !p.is_empty()))
        .map(|p| format!("/{p}"))
        .collect()
}

fn age(created: Option<&Value>, now: jiff::Timestamp) -> String {
    created
        .map(|v| age_of(v, now))
        .unwrap_or_else(|| "<unknown>".into())
}

fn age_of(v: &Value, now: jiff::Timestamp) -> String {
    let Some(t) = v.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()) else {
        return "<unknown>".into();
    };
    human(now.as_second() - t.as_second())
}

/// kubectl's short human duration (`45s`, `3m20s`, `5h`, `2d4h`, `1y`).
fn human(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let secs = secs.max(0);
    if secs < 120 {
        return format!("{secs}s");
    }
    let (m, h) = (secs / 60, secs / 3600);
    match () {
        _ if m < 10 && secs % 60 == 0 => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", secs % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && m % 60 == 0 => format!("{h}h"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 && h % 24 == 0 => format!("{}d", h / 24),
        _ if h < 24 * 8 => format!("{}d{}h", h / 24, h % 24),
        _ if h < 24 * 365 * 2 => format!("{}d", h / 24),
        _ => format!("{}y", h / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (7200, "120m"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (50 * 3600, "2d2h"),
            (10 * 86400, "10d"),
            (800 * 86400, "2y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human(secs), want, "{secs}");
        }
    }

    #[test]
    fn json_paths_become_pointers() {
        assert_eq!(
            pointer(".status.canary.replicaSet"),
            "/status/canary/replicaSet"
        );
        assert_eq!(
            pointer(".spec.containers[0].image"),
            "/spec/containers/0/image"
        );
    }
}
