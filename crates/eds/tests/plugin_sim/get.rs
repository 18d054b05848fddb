//! `get` and `get-ers`.

use eds::plugin::Error;
use serde_json::Value;

use super::support::{self, canary, cluster, err, mask_age, ok, running};

/// The README's `foo` during its canary, and `bar` running in another namespace.
async fn readme_state() -> support::Cluster {
    let c = cluster().await;
    let foo_eds = support::eds(
        &c.client,
        "default",
        "foo",
        "pause:3.1",
        canary("foo-8z7lr", "foo-xdj4b"),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-8z7lr",
        "pause:3.0",
        "active",
        2,
        Some(1),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-xdj4b",
        "pause:3.1",
        "canary",
        1,
        Some(2),
    )
    .await;
    let bar = support::eds(
        &c.client,
        "monitoring",
        "bar",
        "agent:7",
        running("bar-abcde"),
    )
    .await;
    support::ers(
        &c.client,
        &bar,
        "bar-abcde",
        "agent:7",
        "active",
        3,
        Some(1),
    )
    .await;
    c
}

#[tokio::test]
async fn get_lists_the_namespace_like_the_readme() {
    let c = readme_state().await;
    insta::assert_snapshot!(mask_age(&ok(&c.client, &["get"]).await), @r"
    NAME   DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   STATUS   ACTIVE RS   CANARY RS   AGE
    foo    3         3         3       1            3           Canary   foo-8z7lr   foo-xdj4b   <age>
    ");
    insta::assert_snapshot!(mask_age(&ok(&c.client, &["get", "-A", "-o", "wide"]).await), @r"
    NAMESPACE    NAME   DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   IGNORED UNRESPONSIVE NODES   STATUS    REASON   ACTIVE RS   CANARY RS   AGE
    default      foo    3         3         3       1            3           0                            Canary             foo-8z7lr   foo-xdj4b   <age>
    monitoring   bar    3         3         3       3            3           0                            Running            bar-abcde               <age>
    ");
    let one = ok(&c.client, &["-n", "monitoring", "get", "bar"]).await;
    assert!(one.lines().nth(1).unwrap().starts_with("bar "), "{one}");
}

#[tokio::test]
async fn get_ers_lists_replica_sets() {
    let c = readme_state().await;
    insta::assert_snapshot!(mask_age(&ok(&c.client, &["get-ers"]).await), @r"
    NAME        STATUS   DESIRED   CURRENT   READY   AVAILABLE   NODE SELECTOR   AGE
    foo-8z7lr   active   2         2         2       2                           <age>
    foo-xdj4b   canary   1         1         1       1                           <age>
    ");
    let all = ok(&c.client, &["get-ers", "--all-namespaces"]).await;
    assert_eq!(all.lines().count(), 4, "{all}");
    assert!(all.contains("monitoring   bar-abcde"), "{all}");
}

#[tokio::test]
async fn yaml_and_json_hide_managed_fields() {
    let c = readme_state().await;
    let yaml = ok(&c.client, &["get", "foo", "-o", "yaml"]).await;
    assert!(
        yaml.starts_with("apiVersion: datadoghq.com/v1alpha1\n"),
        "{yaml}"
    );
    assert!(yaml.contains("kind: ExtendedDaemonSet\n"), "{yaml}");
    assert!(!yaml.contains("managedFields"), "{yaml}");
    let json: Value =
        serde_json::from_str(&ok(&c.client, &["get-ers", "-o", "json"]).await).unwrap();
    assert_eq!(json["kind"], "List");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i["metadata"].get("managedFields").is_none())
    );
    assert_eq!(items[1]["status"]["status"], "canary");
}

#[tokio::test]
async fn missing_objects_are_named() {
    let c = readme_state().await;
    let e = err(&c.client, &["get", "nope"]).await;
    assert!(matches!(e, Error::NoSuchEds(_)));
    assert_eq!(e.to_string(), "ExtendedDaemonSet default/nope not found");
    assert_eq!(e.exit_code(), 2);
    let e = err(&c.client, &["get-ers", "-n", "monitoring", "foo-8z7lr"]).await;
    assert_eq!(
        e.to_string(),
        "ExtendedDaemonSetReplicaSet monitoring/foo-8z7lr not found"
    );
    let empty = ok(&c.client, &["get", "-n", "kube-system"]).await;
    assert_eq!(
        empty,
        "No ExtendedDaemonSets found in namespace kube-system.\n"
    );
}
