//! Live mode: the client, the state of one ExtendedDaemonSet read from a cluster, the
//! server-side dry run of the user's apply of the proposed object, and `--dump-state`.

use k8s_openapi::api::{
    apps::v1::DaemonSet,
    core::v1::{Node, Pod},
};
use kube::{
    Api, Client, Resource,
    api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams},
};
use serde_json::Value;

use super::{
    apply::{self, ApplyMode},
    args::PlanArgs,
    error::PlanError,
};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting,
    constants::keys::{EDS_NAME_LABEL, OLD_DAEMONSET_ANNOTATION},
};
use eds_plan::{Snapshot, StateObject};

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
    /// The DaemonSet named by `old-daemonset`, if the annotation is set and it exists (the
    /// planner reads whether it is being deleted).
    pub daemonsets: Vec<DaemonSet>,
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
    let mut daemonsets = Vec::new();
    if let Some(ds) = old_daemonset {
        let api: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
        daemonsets.extend(
            api.get_opt(ds)
                .await
                .map_err(|e| PlanError::api(format!("read DaemonSet {namespace}/{ds}"), e))?,
        );
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
        daemonsets,
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
        // The old DaemonSet as the snapshot saw it: live, being deleted, or absent.
        let daemonsets = eds_plan::Steering::of(&s.eds)
            .old_daemonset
            .zip(s.old_daemonset)
            .filter(|(_, state)| *state != eds_plan::OldDaemonSet::Missing)
            .map(|(name, state)| {
                let mut ds = DaemonSet::default();
                ds.metadata.name = Some(name);
                ds.metadata.namespace = s.eds.metadata.namespace.clone();
                if state == eds_plan::OldDaemonSet::Deleting {
                    let epoch = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                        jiff::Timestamp::UNIX_EPOCH,
                    );
                    ds.metadata.deletion_timestamp =
                        Some(s.eds.metadata.creation_timestamp.clone().unwrap_or(epoch));
                    ds.metadata.finalizers = Some(vec!["example.com/migrating-to-eds".into()]);
                }
                ds
            })
            .into_iter()
            .collect();
        Self {
            daemonsets,
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
        out.extend(
            self.daemonsets
                .into_iter()
                .map(|d| StateObject::DaemonSet(Box::new(d))),
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
        push_all(&mut items, &self.daemonsets)?;
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

/// The object the user's apply would store, from a server-side dry run of that same apply
/// with strict field validation (as `kubectl diff`): for a client-side apply, the three-way
/// merge patch against the live object (or a create); for `--server-side`, an apply patch with
/// the user's field manager. The server admits it (schema, defaults, validation rules) and
/// returns what it would store, without storing it.
pub async fn dry_run(
    client: &Client,
    mode: &ApplyMode,
    namespace: &str,
    name: &str,
    proposed: &Value,
) -> Result<(ExtendedDaemonSet, Value), PlanError> {
    let resource = ApiResource::erase::<ExtendedDaemonSet>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let mut object = proposed.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace.into()));
    }
    let rejected = |e: kube::Error| match e {
        kube::Error::Api(status)
            if (400..500).contains(&status.code) && status.code != 401 && status.code != 403 =>
        {
            PlanError::Rejected {
                namespace: namespace.into(),
                name: name.into(),
                message: super::error::explain(&status.message),
            }
        }
        e => PlanError::api(
            format!("dry-run apply ExtendedDaemonSet {namespace}/{name}"),
            e,
        ),
    };
    let raw = match mode {
        ApplyMode::ServerSide { manager, force } => {
            let mut params = PatchParams::apply(manager).dry_run().validation_strict();
            if *force {
                params = params.force();
            }
            api.patch(name, &params, &Patch::Apply(&object))
                .await
                .map_err(rejected)?
        }
        ApplyMode::ClientSide => {
            let modified = apply::with_last_applied(&object);
            let live = api.get_opt(name).await.map_err(|e| {
                PlanError::api(format!("read ExtendedDaemonSet {namespace}/{name}"), e)
            })?;
            match live {
                Some(live) => {
                    let live = serde_json::to_value(&live)
                        .map_err(|e| PlanError::Serialize(e.to_string()))?;
                    let original = apply::last_applied(&live);
                    let mut patch = apply::three_way_patch(original.as_ref(), &modified, &live);
                    apply::prune_empty(&mut patch);
                    let params = PatchParams {
                        field_manager: Some(apply::CLIENT_SIDE_MANAGER.into()),
                        ..PatchParams::default()
                    }
                    .dry_run()
                    .validation_strict();
                    api.patch(name, &params, &Patch::Merge(&patch))
                        .await
                        .map_err(rejected)?
                }
                None => create_dry_run(client, &api, &modified)
                    .await
                    .map_err(rejected)?,
            }
        }
    };
    let value = serde_json::to_value(&raw).map_err(|e| PlanError::Serialize(e.to_string()))?;
    let eds = serde_json::from_value(value.clone()).map_err(|e| PlanError::Rejected {
        namespace: namespace.into(),
        name: name.into(),
        message: format!("the server's answer is not an ExtendedDaemonSet: {e}"),
    })?;
    Ok((eds, value))
}

/// The stored ExtendedDaemonSet as the server holds it (values as written), if it exists.
pub async fn read_as_written(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>, PlanError> {
    let resource = ApiResource::erase::<ExtendedDaemonSet>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let live = api
        .get_opt(name)
        .await
        .map_err(|e| PlanError::api(format!("read ExtendedDaemonSet {namespace}/{name}"), e))?;
    live.map(|l| serde_json::to_value(&l).map_err(|e| PlanError::Serialize(e.to_string())))
        .transpose()
}

/// `POST` with `dryRun=All` and `fieldValidation=Strict`, as `kubectl apply` creates.
async fn create_dry_run(
    client: &Client,
    api: &Api<DynamicObject>,
    object: &Value,
) -> Result<DynamicObject, kube::Error> {
    let params = PostParams {
        dry_run: true,
        field_manager: Some(apply::CLIENT_SIDE_MANAGER.into()),
    };
    let body = serde_json::to_vec(object).map_err(kube::Error::SerdeError)?;
    let mut request = kube::core::Request::new(api.resource_url())
        .create(&params, body)
        .map_err(kube::Error::BuildRequest)?;
    // PostParams has no field validation: add it as kubectl does.
    let uri = format!("{}&fieldValidation=Strict", request.uri());
    *request.uri_mut() = uri.parse().map_err(|e: http::uri::InvalidUri| {
        kube::Error::BuildRequest(kube::core::request::Error::BuildRequest(e.into()))
    })?;
    client.request(request).await
}
