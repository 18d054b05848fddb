//! Building the client from the connection flags, and reads shared by several verbs.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, Resource, api::ListParams};

use super::{
    cli::ClientArgs,
    error::{Error, ObjectRef, Result, is_not_found},
};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, constants::keys};

/// Builds a client from kubectl's connection flags (`--kubeconfig`, `--context`, `--server`,
/// `--token`, `--as`...).
///
/// Without `--kubeconfig` the file comes from `$KUBECONFIG` or `~/.kube/config`; when there is
/// none and neither `--context` nor `--server` was given, the in-cluster service account is
/// used, like kubectl.
pub async fn build_client(args: &ClientArgs) -> Result<Client> {
    let config = crate::connect::config_with(&args.overrides())
        .await
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Client::try_from(config).map_err(Error::Client)
}

/// The namespace a verb works in: `-n`, else the kubeconfig context's namespace, else `default`
/// (the client's default namespace carries the last two).
pub fn namespace(args: &ClientArgs, client: &Client) -> String {
    args.namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string())
}

/// Reads one ExtendedDaemonSet, turning a 404 into [`Error::NoSuchEds`].
pub async fn get_eds(client: &Client, namespace: &str, name: &str) -> Result<ExtendedDaemonSet> {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    api.get(name).await.map_err(|e| {
        if is_not_found(&e) {
            Error::NoSuchEds(ObjectRef::new(namespace, name))
        } else {
            Error::api(
                format!("cannot read ExtendedDaemonSet {namespace}/{name}"),
                e,
            )
        }
    })
}

/// Lists the ExtendedDaemonSetReplicaSets owned by (or labelled for) the ExtendedDaemonSet.
pub async fn list_owned_ers(
    client: &Client,
    eds: &ExtendedDaemonSet,
) -> Result<Vec<ExtendedDaemonSetReplicaSet>> {
    let namespace = eds.metadata.namespace.as_deref().unwrap_or_default();
    let api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), namespace);
    let list = api.list(&ListParams::default()).await.map_err(|e| {
        Error::api(
            format!("cannot list ExtendedDaemonSetReplicaSets in namespace {namespace}"),
            e,
        )
    })?;
    Ok(list
        .items
        .into_iter()
        .filter(|ers| belongs_to(ers, eds))
        .collect())
}

/// Whether an ERS is a revision of the EDS: owned by its uid, or (for objects without owner
/// references) labelled with its name.
pub(crate) fn belongs_to(ers: &ExtendedDaemonSetReplicaSet, eds: &ExtendedDaemonSet) -> bool {
    let owners = ers.metadata.owner_references.as_deref().unwrap_or_default();
    if !owners.is_empty() {
        return owners.iter().any(|o| {
            Some(&o.uid) == eds.metadata.uid.as_ref() && o.kind == ExtendedDaemonSet::kind(&())
        });
    }
    let eds_name = eds.metadata.name.as_deref();
    ers.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::EDS_NAME_LABEL))
        .map(String::as_str)
        == eds_name
}

/// Lists the pods of `namespace` matching a label selector string (`key=value`).
pub async fn list_pods(client: &Client, namespace: &str, selector: &str) -> Result<Vec<Pod>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| {
            Error::api(
                format!("cannot list pods matching {selector} in namespace {namespace}"),
                e,
            )
        })?;
    Ok(list.items)
}
