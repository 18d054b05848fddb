//! `get` and `get-ers`: ExtendedDaemonSet and ExtendedDaemonSetReplicaSet tables.
//!
//! The default columns are those of `kubectl get eds|ers` in the upstream README; `-o wide` adds
//! the columns upstream's plugin printed too (ignored unresponsive nodes, reason) and the
//! revision; `-A` puts the namespace first, as kubectl does.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{Api, Client, ResourceExt, api::ListParams};

use super::{
    cli::{GetArgs, OutputFormat},
    error::{Error, ObjectRef, Result, is_not_found},
    output,
    table::{Table, age},
};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, constants::keys};

/// Renders ExtendedDaemonSets as a table; `now` dates the AGE column.
pub fn eds_table(
    items: &[ExtendedDaemonSet],
    wide: bool,
    all_namespaces: bool,
    now: Timestamp,
) -> String {
    let mut header = vec![
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-To-Date",
        "Available",
    ];
    if wide {
        header.push("Ignored Unresponsive Nodes");
    }
    header.push("Status");
    if wide {
        header.push("Reason");
    }
    header.extend(["Active RS", "Canary RS", "Age"]);
    if all_namespaces {
        header.insert(0, "Namespace");
    }
    let mut table = Table::new(header);
    for eds in items {
        let status = eds.status.clone().unwrap_or_default();
        let mut row = vec![
            eds.name_any(),
            status.desired.to_string(),
            status.current.to_string(),
            status.ready.to_string(),
            status.up_to_date.to_string(),
            status.available.to_string(),
        ];
        if wide {
            row.push(status.ignored_unresponsive_nodes.to_string());
        }
        row.push(status.state.clone().unwrap_or_default());
        if wide {
            row.push(status.reason.clone().unwrap_or_default());
        }
        row.push(status.active_replica_set.clone());
        row.push(status.canary.map(|c| c.replica_set).unwrap_or_default());
        row.push(age(eds.metadata.creation_timestamp.as_ref(), now));
        if all_namespaces {
            row.insert(0, eds.namespace().unwrap_or_default());
        }
        table.row(row);
    }
    table.render()
}

/// Renders ExtendedDaemonSetReplicaSets as a table; `now` dates the AGE column.
pub fn ers_table(
    items: &[ExtendedDaemonSetReplicaSet],
    wide: bool,
    all_namespaces: bool,
    now: Timestamp,
) -> String {
    let mut header = vec!["Name", "Status", "Desired", "Current", "Ready", "Available"];
    if wide {
        header.push("Ignored Unresponsive Nodes");
    }
    header.extend(["Node Selector", "Age"]);
    if wide {
        header.push("Revision");
    }
    if all_namespaces {
        header.insert(0, "Namespace");
    }
    let mut table = Table::new(header);
    for ers in items {
        let status = ers.status.clone().unwrap_or_default();
        let mut row = vec![
            ers.name_any(),
            status.status.clone(),
            status.desired.to_string(),
            status.current.to_string(),
            status.ready.to_string(),
            status.available.to_string(),
        ];
        if wide {
            row.push(status.ignored_unresponsive_nodes.to_string());
        }
        row.push(format_selector(ers.spec.selector.as_ref()));
        row.push(age(ers.metadata.creation_timestamp.as_ref(), now));
        if wide {
            row.push(
                ers.annotations()
                    .get(keys::REVISION_ANNOTATION)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        if all_namespaces {
            row.insert(0, ers.namespace().unwrap_or_default());
        }
        table.row(row);
    }
    table.render()
}

/// A label selector in kubectl's text form (`a=b,c in (d,e),!f`); empty when it selects all.
pub fn format_selector(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expr in selector.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default().join(",");
        parts.push(match expr.operator.as_str() {
            "In" => format!("{} in ({values})", expr.key),
            "NotIn" => format!("{} notin ({values})", expr.key),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            other => format!("{} {other} ({values})", expr.key),
        });
    }
    parts.join(",")
}

/// Runs `get`: prints one ExtendedDaemonSet, those of the namespace, or of every namespace.
pub async fn get(client: &Client, namespace: &str, args: &GetArgs) -> Result<String> {
    let items = fetch::<ExtendedDaemonSet>(client, namespace, args, Error::NoSuchEds).await?;
    print(&items, args, "ExtendedDaemonSets", namespace, eds_table)
}

/// Runs `get-ers`: prints one ExtendedDaemonSetReplicaSet, those of the namespace, or of every
/// namespace.
pub async fn get_ers(client: &Client, namespace: &str, args: &GetArgs) -> Result<String> {
    let items =
        fetch::<ExtendedDaemonSetReplicaSet>(client, namespace, args, Error::NoSuchErs).await?;
    print(
        &items,
        args,
        "ExtendedDaemonSetReplicaSets",
        namespace,
        ers_table,
    )
}

/// Prints the objects in the asked format; kubectl's "No resources found" when there are none.
fn print<K>(
    items: &[K],
    args: &GetArgs,
    plural: &str,
    namespace: &str,
    table: fn(&[K], bool, bool, Timestamp) -> String,
) -> Result<String>
where
    K: kube::Resource<DynamicType = ()> + serde::Serialize,
{
    if let Some(text) = output::print_objects(items, args.name.is_some(), args.output)? {
        return Ok(text);
    }
    if items.is_empty() {
        return Ok(if args.all_namespaces {
            format!("No {plural} found.\n")
        } else {
            format!("No {plural} found in namespace {namespace}.\n")
        });
    }
    let wide = args.output == Some(OutputFormat::Wide);
    Ok(table(items, wide, args.all_namespaces, Timestamp::now()))
}

/// Reads the named object, or lists the namespace (or every namespace), sorted by namespace and
/// name so the output is stable.
async fn fetch<K>(
    client: &Client,
    namespace: &str,
    args: &GetArgs,
    not_found: fn(ObjectRef) -> Error,
) -> Result<Vec<K>>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let kind = K::kind(&());
    if let Some(name) = &args.name {
        let api: Api<K> = Api::namespaced(client.clone(), namespace);
        return match api.get(name).await {
            Ok(obj) => Ok(vec![obj]),
            Err(e) if is_not_found(&e) => Err(not_found(ObjectRef::new(namespace, name))),
            Err(e) => Err(Error::api(
                format!("cannot read {kind} {namespace}/{name}"),
                e,
            )),
        };
    }
    let (api, scope): (Api<K>, String) = if args.all_namespaces {
        (Api::all(client.clone()), "all namespaces".into())
    } else {
        (
            Api::namespaced(client.clone(), namespace),
            format!("namespace {namespace}"),
        )
    };
    let mut items = api
        .list(&ListParams::default())
        .await
        .map_err(|e| Error::api(format!("cannot list {kind}s in {scope}"), e))?
        .items;
    items.sort_by_key(|o| (o.meta().namespace.clone(), o.meta().name.clone()));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    fn canary_state() -> (Vec<ExtendedDaemonSet>, Vec<ExtendedDaemonSetReplicaSet>) {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        let mut active = testing::ers(&eds, "foo-8z7lr", "pause:3.0", "active", 0, Some(1));
        let mut canary = testing::ers(&eds, "foo-xdj4b", "pause:3.1", "canary", 8, Some(2));
        for (ers, n) in [(&mut active, 2), (&mut canary, 1)] {
            let s = ers.status.as_mut().unwrap();
            (s.desired, s.current, s.ready, s.available) = (n, n, n, n);
        }
        let mut other = testing::eds("bar");
        other.metadata.namespace = Some("monitoring".into());
        other.status.as_mut().unwrap().reason = Some("because".into());
        (vec![other, eds], vec![active, canary])
    }

    #[test]
    fn eds_tables() {
        let (eds, _) = canary_state();
        let now = testing::now();
        insta::assert_snapshot!("eds_default", eds_table(&eds[1..], false, false, now));
        insta::assert_snapshot!("eds_wide", eds_table(&eds[1..], true, false, now));
        insta::assert_snapshot!("eds_all_namespaces", eds_table(&eds, false, true, now));
    }

    #[test]
    fn ers_tables() {
        let (_, mut ers) = canary_state();
        ers[0].spec.selector = Some(LabelSelector {
            match_labels: Some([("pool".to_string(), "infra".to_string())].into()),
            ..Default::default()
        });
        let now = testing::now();
        insta::assert_snapshot!("ers_default", ers_table(&ers, false, false, now));
        insta::assert_snapshot!("ers_wide_all_namespaces", ers_table(&ers, true, true, now));
    }

    #[test]
    fn selectors_print_like_kubectl() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"a": "b"},
            "matchExpressions": [
                {"key": "c", "operator": "In", "values": ["d", "e"]},
                {"key": "f", "operator": "NotIn", "values": ["g"]},
                {"key": "h", "operator": "Exists"},
                {"key": "i", "operator": "DoesNotExist"},
            ]
        }))
        .unwrap();
        assert_eq!(
            format_selector(Some(&selector)),
            "a=b,c in (d,e),f notin (g),h,!i"
        );
        assert_eq!(format_selector(None), "");
    }
}
