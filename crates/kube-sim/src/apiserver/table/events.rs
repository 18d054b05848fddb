//! The columns of `kubectl get events`, as kube-apiserver's event printer fills them for
//! `v1` and `events.k8s.io/v1` events: LAST SEEN, TYPE, REASON, OBJECT and MESSAGE, and with
//! `-o wide` SUBOBJECT, SOURCE, FIRST SEEN, COUNT and NAME. The server fills every cell;
//! kubectl hides the columns of priority 1 unless asked.

use serde_json::{Value, json};

use super::age_of;

/// Column definitions: (header, type, priority).
const COLUMNS: [(&str, &str, i64); 10] = [
    ("Last Seen", "string", 0),
    ("Type", "string", 0),
    ("Reason", "string", 0),
    ("Object", "string", 0),
    ("Subobject", "string", 1),
    ("Source", "string", 1),
    ("Message", "string", 0),
    ("First Seen", "string", 1),
    ("Count", "string", 1),
    ("Name", "string", 1),
];

/// The column definitions of the events Table.
pub fn columns() -> Vec<Value> {
    COLUMNS
        .iter()
        .map(|(name, kind, priority)| {
            let format = if *name == "Name" { "name" } else { "" };
            json!({ "name": name, "type": kind, "format": format, "description": name,
                    "priority": priority })
        })
        .collect()
}

/// The cells of one event, in the order of [`columns`]. Reads both API versions: `v1`
/// (`involvedObject`, `message`, `count`...) and `events.k8s.io/v1` (`regarding`, `note`,
/// `deprecatedCount`...).
pub fn cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let field = |v1: &str, new: &str| obj.pointer(v1).or_else(|| obj.pointer(new));
    let text = |v1: &str, new: &str| {
        field(v1, new)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let since = |v: Option<&Value>| set(v).map_or_else(|| "<unknown>".into(), |v| age_of(v, now));
    let first_ts = set(field("/firstTimestamp", "/deprecatedFirstTimestamp"));
    let first = since(first_ts.or_else(|| obj.get("eventTime")));
    let last_ts = set(field("/lastTimestamp", "/deprecatedLastTimestamp"));
    let series = obj.get("series").filter(|s| s.is_object());
    let (last, count) = match series {
        Some(s) => (
            since(s.get("lastObservedTime")),
            s.get("count").and_then(Value::as_i64).unwrap_or(0),
        ),
        None => (
            last_ts.map_or_else(|| first.clone(), |v| age_of(v, now)),
            field("/count", "/deprecatedCount")
                .and_then(Value::as_i64)
                .filter(|c| *c != 0)
                .unwrap_or(1),
        ),
    };
    let kind = text("/involvedObject/kind", "/regarding/kind").to_lowercase();
    let name = text("/involvedObject/name", "/regarding/name");
    let object = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let component = first_non_empty(
        text("/source/component", "/deprecatedSource/component"),
        text("/reportingController", "/reportingController"),
    );
    let instance = first_non_empty(
        text("/source/host", "/deprecatedSource/host"),
        text("/reportingInstance", "/reportingInstance"),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(text("/type", "/type")),
        json!(text("/reason", "/reason")),
        json!(object),
        json!(text("/involvedObject/fieldPath", "/regarding/fieldPath")),
        json!(source),
        json!(text("/message", "/note").trim()),
        json!(first),
        json!(count),
        json!(
            obj.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
    ]
}

/// `v` when it is a non-empty string (an unset timestamp is absent, null or empty).
fn set(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
}

fn first_non_empty(a: String, b: String) -> String {
    if a.is_empty() { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_event_and_an_events_k8s_io_event_print_alike() {
        let now: jiff::Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let v1 = json!({
            "metadata": { "name": "foo.1" },
            "involvedObject": { "kind": "ExtendedDaemonSet", "name": "foo" },
            "type": "Warning", "reason": "CanaryFailed", "message": " canary failed \n",
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:09:00Z",
            "count": 3, "source": { "component": "eds-controller" },
        });
        let cells = cells(&v1, now);
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(
            cells,
            [
                json!("60s"),
                json!("Warning"),
                json!("CanaryFailed"),
                json!("extendeddaemonset/foo"),
                json!(""),
                json!("eds-controller"),
                json!("canary failed"),
                json!("10m"),
                json!(3),
                json!("foo.1"),
            ]
        );
        let new = json!({
            "metadata": { "name": "foo.2" },
            "regarding": { "kind": "Pod", "name": "p", "fieldPath": "spec.containers{app}" },
            "type": "Normal", "reason": "Started", "note": "started",
            "eventTime": "2026-01-01T00:08:00.000000Z",
            "reportingController": "kubelet", "reportingInstance": "node-1",
        });
        let cells = super::cells(&new, now);
        assert_eq!(cells[0], json!("2m"), "last seen falls back to first seen");
        assert_eq!(cells[3], json!("pod/p"));
        assert_eq!(cells[4], json!("spec.containers{app}"));
        assert_eq!(cells[5], json!("kubelet, node-1"));
        assert_eq!(cells[8], json!(1), "a singleton event counts 1");
    }
}
