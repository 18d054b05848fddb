//! Live mode: the client, the state of one ExtendedDaemonSet read from a cluster, the
//! server-side dry-run apply of the proposed object, and `--dump-state`.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api, Client, Resource,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::Value;

use super::{args::PlanArgs, error::PlanError};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::{EDS_NAME_LABEL, OLD_DAEMONSET_ANNOTATION},
};
use eds_plan::{Snapshot, StateObject};

/// Field manager of the dry-run apply: never stored, but named in the server's answer.
pub const DRY_RUN_MANAGER: &str = "eds-plan";

/// Builds a client from `--kubeconfig` and `--context` (default: `$KUBECONFIG`, else
/// `~/.kube/config`, else the in-cluster service account, like kubectl).
pub async fn client(args: &PlanArgs) -> Result<Client, PlanError> {
    let config = crate::connect::config(args.kubeconfig.as_deref(), args.context.as_deref())
        .await
        .map_err(|e| PlanError::Kubeconfig(e.to_string()))?;
    Client::try_from(config).map_err(|e| PlanError::Kubeconfig(e.to_string()))
}

/// What the planner reads about one ExtendedDaemonSet in a cluster.
#[derive(Clone, Debug, Default)]
pub struct ClusterState {
    /// All nodes.
    pub nodes: Vec<Node>,
    /// Pods of the ExtendedDaemonSet, and of its `old-daemonset` if it names one.
    pub pods: Vec<Pod>,
    /// ERSs of the namespace (the snapshot keeps the ExtendedDaemonSet's).
    pub replica_sets: Vec<ExtendedDaemonSetReplicaSet>,
    /// The stored ExtendedDaemonSet, if it exists.
    pub eds: Option<ExtendedDaemonSet>,
    /// Settings of the namespace.
    pub settings: Vec<ExtendedDaemonsetSetting>,
}

/// Reads the state of ExtendedDaemonSet `namespace/name` (which may not exist yet).
pub async fn read(client: &Client, namespace: &str, name: &str) -> Result<ClusterState, PlanError> {
    let eds_api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let eds = eds_api
        .get_opt(name)
        .await
        .map_err(|e| PlanError::api(format!("read ExtendedDaemonSet {namespace}/{name}"), e))?;
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut pods = list(
        &pods_api,
        ListParams::default().labels(&format!("{EDS_NAME_LABEL}={name}")),
        "pods",
    )
    .await?;
    let old_daemonset = eds
        .as_ref()
        .and_then(|e| e.metadata.annotations.as_ref())
        .and_then(|a| a.get(OLD_DAEMONSET_ANNOTATION));
    if old_daemonset.is_some() {
        // The snapshot keeps the pods owned by the old DaemonSet; listing the namespace avoids
        // depending on that DaemonSet's selector.
        let all = list(&pods_api, ListParams::default(), "pods").await?;
        pods.extend(all.into_iter().filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(EDS_NAME_LABEL))
                .map(String::as_str)
                != Some(name)
        }));
    }
    Ok(ClusterState {
        nodes: list(&Api::all(client.clone()), ListParams::default(), "nodes").await?,
        pods,
        replica_sets: list(
            &Api::namespaced(client.clone(), namespace),
            ListParams::default(),
            "extendeddaemonsetreplicasets",
        )
        .await?,
        eds,
        settings: list(
            &Api::namespaced(client.clone(), namespace),
            ListParams::default(),
            "extendeddaemonsetsettings",
        )
        .await?,
    })
}

async fn list<K>(api: &Api<K>, params: ListParams, what: &str) -> Result<Vec<K>, PlanError>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let scope = api
        .namespace()
        .map(|n| format!(" in namespace {n}"))
        .unwrap_or_default();
    api.list(&params)
        .await
        .map(|l| l.items)
        .map_err(|e| PlanError::api(format!("list {what}{scope}"), e))
}

impl From<&Snapshot> for ClusterState {
    /// The objects of a snapshot, e.g. to write a state file from a test scenario.
    fn from(s: &Snapshot) -> Self {
        let pods = s.pods.iter().chain(&s.old_daemonset_pods);
        Self {
            nodes: s.nodes.iter().map(|n| (**n).clone()).collect(),
            pods: pods.map(|p| (**p).clone()).collect(),
            replica_sets: s.replica_sets.clone(),
            eds: Some(s.eds.clone()),
            settings: s.settings.clone(),
        }
    }
}

impl ClusterState {
    /// The objects as the planner reads them.
    pub fn into_objects(self) -> Vec<StateObject> {
        let mut out: Vec<StateObject> = Vec::new();
        out.extend(
            self.nodes
                .into_iter()
                .map(|n| StateObject::Node(Box::new(n))),
        );
        out.extend(self.pods.into_iter().map(|p| StateObject::Pod(Box::new(p))));
        out.extend(
            self.replica_sets
                .into_iter()
                .map(|e| StateObject::Ers(Box::new(e))),
        );
        out.extend(self.eds.into_iter().map(|e| StateObject::Eds(Box::new(e))));
        out.extend(
            self.settings
                .into_iter()
                .map(|s| StateObject::Setting(Box::new(s))),
        );
        out
    }

    /// The state as a `kind: List` YAML document, as `kubectl get nodes,pods,ers,eds,
    /// extendeddaemonsetsettings -o yaml` prints it, without managedFields and node images.
    pub fn to_yaml(&self) -> Result<String, PlanError> {
        let mut items = Vec::new();
        push_all(&mut items, &self.nodes)?;
        push_all(&mut items, &self.pods)?;
        push_all(&mut items, &self.replica_sets)?;
        push_all(&mut items, self.eds.as_slice())?;
        push_all(&mut items, &self.settings)?;
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": { "resourceVersion": "" },
            "items": items,
        });
        serde_saphyr::to_string(&list).map_err(|e| PlanError::Serialize(e.to_string()))
    }
}

fn push_all<K>(items: &mut Vec<Value>, objects: &[K]) -> Result<(), PlanError>
where
    K: Resource<DynamicType = ()> + serde::Serialize,
{
    for object in objects {
        let mut value =
            serde_json::to_value(object).map_err(|e| PlanError::Serialize(e.to_string()))?;
        if let Some(map) = value.as_object_mut() {
            // List items from the API carry no apiVersion/kind; a state file needs them.
            map.insert("apiVersion".into(), K::api_version(&()).into());
            map.insert("kind".into(), K::kind(&()).into());
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            if let Some(status) = map.get_mut("status").and_then(Value::as_object_mut)
                && K::kind(&()) == "Node"
            {
                // Node images are large and the planner never reads them.
                status.remove("images");
            }
        }
        items.push(value);
    }
    Ok(())
}

/// Applies the proposed object with a server-side dry run (forced, field manager
/// [`DRY_RUN_MANAGER`]): the server admits it (schema, defaults, validation rules) and returns
/// what it would store, without storing it.
pub async fn dry_run_apply(
    client: &Client,
    namespace: &str,
    name: &str,
    proposed: &Value,
) -> Result<ExtendedDaemonSet, PlanError> {
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let mut object = proposed.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace.into()));
        // Identity fields of a copy-pasted object would make the apply fail or conflict.
        for key in [
            "uid",
            "resourceVersion",
            "managedFields",
            "creationTimestamp",
            "generation",
        ] {
            meta.remove(key);
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    let params = PatchParams::apply(DRY_RUN_MANAGER).force().dry_run();
    api.patch(name, &params, &Patch::Apply(&object))
        .await
        .map_err(|e| match e {
            kube::Error::Api(status)
                if (400..500).contains(&status.code)
                    && status.code != 401
                    && status.code != 403 =>
            {
                PlanError::Rejected {
                    namespace: namespace.into(),
                    name: name.into(),
                    message: status.message.clone(),
                }
            }
            e => PlanError::api(
                format!("dry-run apply ExtendedDaemonSet {namespace}/{name}"),
                e,
            ),
        })
}
