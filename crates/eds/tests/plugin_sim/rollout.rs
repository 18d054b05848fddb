//! `rollout history` and `rollout undo`.

use eds::plugin::Error;
use eds_api::ExtendedDaemonSet;
use kube::Api;

use super::support::{self, cluster, err, mask_age, ok, running};

/// `foo` at revision 2 (pause:3.1) after revision 1 (pause:3.0).
async fn two_revisions() -> support::Cluster {
    let c = cluster().await;
    let foo_eds = support::eds(
        &c.client,
        "default",
        "foo",
        "registry.k8s.io/pause:3.1",
        running("foo-xdj4b"),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-8z7lr",
        "registry.k8s.io/pause:3.0",
        "unknown",
        0,
        Some(1),
    )
    .await;
    support::ers(
        &c.client,
        &foo_eds,
        "foo-xdj4b",
        "registry.k8s.io/pause:3.1",
        "active",
        3,
        Some(2),
    )
    .await;
    // Another EDS's revision in the same namespace is not part of the history.
    let bar = support::eds(&c.client, "default", "bar", "agent:7", running("bar-abcde")).await;
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

async fn image(c: &support::Cluster) -> String {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(c.client.clone(), "default");
    let eds = api.get("foo").await.unwrap();
    eds.spec.template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap()
}

#[tokio::test]
async fn history_lists_revisions_and_prints_one() {
    let c = two_revisions().await;
    insta::assert_snapshot!(mask_age(&ok(&c.client, &["rollout", "history", "foo"]).await), @r"
    ExtendedDaemonSet default/foo: current revision 2
    REVISION   ERS         STATUS    IMAGES                      AGE
    1          foo-8z7lr   unknown   registry.k8s.io/pause:3.0   <age>
    2          foo-xdj4b   active    registry.k8s.io/pause:3.1   <age>
    ");
    insta::assert_snapshot!(ok(&c.client, &["rollout", "history", "foo", "--revision", "1"]).await, @r"
    # ExtendedDaemonSet default/foo revision 1 (ERS foo-8z7lr): pod template
    metadata:
      labels:
        app: foo
    spec:
      containers:
      - image: registry.k8s.io/pause:3.0
        name: daemon
    ");
    let e = err(&c.client, &["rollout", "history", "foo", "--revision", "5"]).await;
    assert_eq!(
        e.to_string(),
        "revision 5 of ExtendedDaemonSet default/foo not found: available revisions 1, 2"
    );
}

#[tokio::test]
async fn undo_writes_the_previous_template() {
    let c = two_revisions().await;
    assert_eq!(
        ok(&c.client, &["rollout", "undo", "foo"]).await,
        "ExtendedDaemonSet default/foo: rolled back to revision 1 (ERS foo-8z7lr)\n"
    );
    assert_eq!(image(&c).await, "registry.k8s.io/pause:3.0");
    // The template now is revision 1, which has no predecessor.
    let e = err(&c.client, &["rollout", "undo", "foo"]).await;
    assert!(matches!(e, Error::NoPreviousRevision { .. }), "{e}");

    assert_eq!(
        ok(&c.client, &["rollout", "undo", "foo", "--to-revision", "2"]).await,
        "ExtendedDaemonSet default/foo: rolled back to revision 2 (ERS foo-xdj4b)\n"
    );
    assert_eq!(image(&c).await, "registry.k8s.io/pause:3.1");
    assert_eq!(
        ok(&c.client, &["rollout", "undo", "foo", "--to-revision", "2"]).await,
        "ExtendedDaemonSet default/foo: spec.template is already revision 2 (no change)\n"
    );
    let e = err(&c.client, &["rollout", "undo", "foo", "--to-revision", "3"]).await;
    assert_eq!(
        e.to_string(),
        "revision 3 of ExtendedDaemonSet default/foo not found: available revisions 1, 2"
    );
}

#[tokio::test]
async fn undo_removes_what_the_newer_template_added() {
    let c = two_revisions().await;
    let api: Api<ExtendedDaemonSet> = Api::namespaced(c.client.clone(), "default");
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"x": "y"}},
        "spec": {"containers": [{"name": "daemon", "image": "registry.k8s.io/pause:3.2",
                                 "args": ["--debug"]}]}}}});
    api.patch("foo", &Default::default(), &kube::api::Patch::Merge(patch))
        .await
        .unwrap();
    ok(&c.client, &["rollout", "undo", "foo", "--to-revision", "1"]).await;
    let eds = api.get("foo").await.unwrap();
    let rev1: serde_json::Value = support::template("registry.k8s.io/pause:3.0");
    assert_eq!(serde_json::to_value(&eds.spec.template).unwrap(), rev1);
}

#[tokio::test]
async fn undo_is_refused_when_the_object_changed_meanwhile() {
    use eds::plugin::{client::list_owned_ers, rollout};
    let c = two_revisions().await;
    let api: Api<ExtendedDaemonSet> = Api::namespaced(c.client.clone(), "default");
    let read = api.get("foo").await.unwrap();
    let revs = rollout::revisions(list_owned_ers(&c.client, &read).await.unwrap());
    // Someone else writes the object between our read and our write.
    let label = serde_json::json!({"metadata": {"labels": {"touched": "yes"}}});
    api.patch("foo", &Default::default(), &kube::api::Patch::Merge(label))
        .await
        .unwrap();
    let patch = rollout::undo::undo_patch(&read, &revs[0]).unwrap().unwrap();
    let e = api
        .patch("foo", &Default::default(), &kube::api::Patch::Merge(patch))
        .await
        .unwrap_err();
    assert!(matches!(e, kube::Error::Api(ref s) if s.code == 409), "{e}");
    assert_eq!(image(&c).await, "registry.k8s.io/pause:3.1");
}
