//! The demo's script: start everything, apply the examples, narrate every state change.

use std::{io::Write, time::Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams},
};

use super::{DemoArgs, Scenario, tables};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ValidationMode,
    constants::{keys, state},
};
use eds_controller::{self as controller, RuntimeConfig, WatchScope};
use kube_sim::cluster::{ClusterError, ClusterOptions, SimCluster};

const V1: &str = include_str!("../../../../examples/foo-eds_v1.yaml");
const V2: &str = include_str!("../../../../examples/foo-eds_v2.yaml");
const NAMESPACE: &str = "default";
/// Field manager of the demo's applies, as `kubectl apply --server-side` would use.
const USER_MANAGER: &str = "kubectl";

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulated cluster did not start.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A bundled example does not parse.
    #[error("bundled example {file}: {message}")]
    Example { file: &'static str, message: String },
    /// An API call failed.
    #[error("{what}: {source}")]
    Api { what: String, source: kube::Error },
    /// The rollout did not reach the expected state in time.
    #[error("timed out after {timeout} waiting for {what}")]
    Timeout {
        what: String,
        timeout: eds_api::Duration,
    },
    /// Writing the output or the kubeconfig failed.
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    /// The controller stopped with an error.
    #[error("controller stopped: {0}")]
    Controller(String),
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> DemoError {
    let what = what.into();
    move |source| DemoError::Api { what, source }
}

/// Runs the demo, writing the narration to `out`.
pub async fn run(args: DemoArgs, out: &mut (impl Write + Send)) -> Result<(), DemoError> {
    let started = Instant::now();
    writeln!(
        out,
        "Starting a simulated cluster with {} nodes and the ExtendedDaemonSet controller...",
        args.nodes
    )?;
    let cluster = SimCluster::start(ClusterOptions {
        nodes: args.nodes,
        start_delay: args.start_delay(),
        crds: eds_api::crds(),
        ..Default::default()
    })
    .await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(controller::run(
        controller::Runtime {
            client: cluster.client.clone(),
            config: RuntimeConfig {
                scope: WatchScope::All,
                validation_mode: ValidationMode::Auto,
                concurrency: 4,
                max_concurrent_writes: controller::config::DEFAULT_MAX_CONCURRENT_WRITES.into(),
                identity: "eds-demo".into(),
                expectations_timeout: std::time::Duration::from_secs(10),
            },
            metrics_listener: None,
            health_listener: None,
            leader_election: None,
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    let demo = Demo {
        client: cluster.client.clone(),
        nodes: args.nodes as i32,
        args: args.clone(),
        last_view: None,
    };
    let result = demo.script(out).await;
    if result.is_ok() {
        writeln!(out, "\nDone in {:.0?}.", started.elapsed())?;
        if args.keep {
            cluster
                .api
                .write_kubeconfig(&args.kubeconfig)
                .map_err(ClusterError::from)?;
            writeln!(
                out,
                "\nThe simulated cluster keeps running. Try:\n  export KUBECONFIG={}\n  kubectl get eds,ers,pods\n  kubectl eds get\n  eds plan -f examples/foo-eds_v1.yaml\nCtrl-C stops it.",
                args.kubeconfig.display()
            )?;
            out.flush()?;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    let _ = stop_tx.send(());
    match controller.await {
        Ok(Err(e)) if result.is_ok() => return Err(DemoError::Controller(format!("{e:#}"))),
        _ => {}
    }
    cluster.stop().await;
    result
}

/// What the narration last printed, to print again only on a change.
#[derive(Clone, Debug, PartialEq)]
struct View {
    state: Option<String>,
    reason: Option<String>,
    active: String,
    canary: Option<String>,
    up_to_date: i32,
    available: i32,
}

struct Demo {
    client: Client,
    nodes: i32,
    args: DemoArgs,
    last_view: Option<View>,
}

impl Demo {
    async fn script(mut self, out: &mut (impl Write + Send)) -> Result<(), DemoError> {
        let v1 = parse(V1, "examples/foo-eds_v1.yaml")?;
        self.apply(out, &v1, "examples/foo-eds_v1.yaml", "created")
            .await?;
        let nodes = self.nodes;
        let running = self
            .follow(out, "foo running on every node", |s| {
                s.state.as_deref() == Some(state::RUNNING)
                    && s.up_to_date == nodes
                    && s.available == nodes
            })
            .await?;
        let v1_ers = running.active;

        let mut v2 = parse(V2, "examples/foo-eds_v2.yaml")?;
        self.shorten_canary(&mut v2);
        let fixed = match self.args.scenario {
            Scenario::Good => v2,
            Scenario::BadImage | Scenario::Crashloop => {
                let (image, wait_state, what) = match self.args.scenario {
                    Scenario::BadImage => (
                        "registry.k8s.io/pause:does-not-exist",
                        state::CANARY_PAUSED,
                        "the canary paused",
                    ),
                    _ => (
                        "registry.k8s.io/crashloop:3.1",
                        state::CANARY_FAILED,
                        "the canary failed",
                    ),
                };
                let mut bad = v2.clone();
                set_image(&mut bad, image);
                if let Some(c) = bad.spec.strategy.canary.as_mut() {
                    c.auto_pause
                        .get_or_insert_with(Default::default)
                        .max_slow_start_duration = Some(eds_api::Duration::from_secs(10));
                }
                writeln!(out, "\nUpdating foo to a broken image ({image}).")?;
                self.apply(out, &bad, "foo-eds_v2.yaml (broken image)", "configured")
                    .await?;
                self.follow(out, what, |s| s.state.as_deref() == Some(wait_state))
                    .await?;
                writeln!(
                    out,
                    "\nThe old pods keep running and the spec is untouched. Applying a fixed template (registry.k8s.io/pause:3.2)."
                )?;
                let mut v3 = v2;
                set_image(&mut v3, "registry.k8s.io/pause:3.2");
                v3
            }
        };
        if self.args.scenario == Scenario::Good {
            writeln!(
                out,
                "\n$ diff examples/foo-eds_v1.yaml examples/foo-eds_v2.yaml   (canary duration shortened to {})",
                self.args.canary_duration
            )?;
        }
        self.apply(out, &fixed, "the update", "configured").await?;
        self.follow(out, "the update rolled out on every node", move |s| {
            s.state.as_deref() == Some(state::RUNNING)
                && s.active != v1_ers
                && s.canary.is_none()
                && s.up_to_date == nodes
                && s.available == nodes
        })
        .await?;
        Ok(())
    }

    fn shorten_canary(&self, eds: &mut ExtendedDaemonSet) {
        if let Some(c) = eds.spec.strategy.canary.as_mut() {
            c.duration = Some(self.args.canary_duration);
            c.no_restarts_duration = Some(self.args.canary_duration);
        }
    }

    async fn apply(
        &self,
        out: &mut (impl Write + Send),
        eds: &ExtendedDaemonSet,
        file: &str,
        verb: &str,
    ) -> Result<(), DemoError> {
        writeln!(out, "\n$ kubectl apply --server-side -f {file}")?;
        let api: Api<ExtendedDaemonSet> = Api::namespaced(self.client.clone(), NAMESPACE);
        api.patch(
            &eds.name_any(),
            &PatchParams::apply(USER_MANAGER).force(),
            &Patch::Apply(eds),
        )
        .await
        .map_err(api_err(format!("applying {file}")))?;
        writeln!(
            out,
            "extendeddaemonset.datadoghq.com/{} {verb}",
            eds.name_any()
        )?;
        Ok(())
    }

    /// Prints the tables at every change until `done` holds for the EDS status.
    async fn follow(
        &mut self,
        out: &mut (impl Write + Send),
        what: &str,
        done: impl Fn(&View) -> bool,
    ) -> Result<View, DemoError> {
        let deadline = Instant::now() + self.args.timeout.as_std();
        loop {
            let (eds, ers, pods) = self.read().await?;
            let view = eds.first().map(view_of);
            if let Some(view) = view.clone()
                && self.last_view.as_ref() != Some(&view)
            {
                writeln!(out, "\n--- {} ---", describe(&view, self.nodes))?;
                write!(
                    out,
                    "{}",
                    tables::render(&eds, &ers, &pods, "foo", Timestamp::now())
                )?;
                out.flush()?;
                self.last_view = Some(view.clone());
            }
            if let Some(view) = view
                && done(&view)
            {
                return Ok(view);
            }
            if Instant::now() > deadline {
                return Err(DemoError::Timeout {
                    what: what.into(),
                    timeout: self.args.timeout,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    async fn read(
        &self,
    ) -> Result<
        (
            Vec<ExtendedDaemonSet>,
            Vec<ExtendedDaemonSetReplicaSet>,
            Vec<Pod>,
        ),
        DemoError,
    > {
        let lp = ListParams::default();
        let eds = Api::<ExtendedDaemonSet>::namespaced(self.client.clone(), NAMESPACE)
            .list(&lp)
            .await
            .map_err(api_err("listing eds"))?;
        let ers = Api::<ExtendedDaemonSetReplicaSet>::namespaced(self.client.clone(), NAMESPACE)
            .list(&lp)
            .await
            .map_err(api_err("listing ers"))?;
        let pods = Api::<Pod>::namespaced(self.client.clone(), NAMESPACE)
            .list(&ListParams::default().labels(&format!("{}=foo", keys::EDS_NAME_LABEL)))
            .await
            .map_err(api_err("listing pods"))?;
        Ok((eds.items, ers.items, pods.items))
    }
}

fn view_of(eds: &ExtendedDaemonSet) -> View {
    let s = eds.status.clone().unwrap_or_default();
    View {
        state: s.state,
        reason: s.reason,
        active: s.active_replica_set,
        canary: s.canary.map(|c| c.replica_set).filter(|n| !n.is_empty()),
        up_to_date: s.up_to_date,
        available: s.available,
    }
}

/// One line saying what phase the rollout is in.
fn describe(view: &View, nodes: i32) -> String {
    let state = view.state.as_deref().unwrap_or("Pending");
    let reason = view
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    match (state, &view.canary) {
        (state::CANARY, Some(c)) => format!(
            "Canary: {c} runs on the canary node(s), the other nodes keep {}",
            view.active
        ),
        (state::RUNNING, None) if view.up_to_date < nodes => format!(
            "Rolling update: {}/{nodes} nodes run {}",
            view.up_to_date, view.active
        ),
        (state::RUNNING, None) => format!(
            "Running: {}/{nodes} nodes run {}, {} available",
            view.up_to_date, view.active, view.available
        ),
        _ => format!(
            "{state}{reason}: {}/{nodes} nodes up to date, {} available",
            view.up_to_date, view.available
        ),
    }
}

fn parse(text: &str, file: &'static str) -> Result<ExtendedDaemonSet, DemoError> {
    let mut eds: ExtendedDaemonSet =
        serde_saphyr::from_str(text).map_err(|e| DemoError::Example {
            file,
            message: e.to_string(),
        })?;
    eds.metadata.namespace = Some(NAMESPACE.into());
    Ok(eds)
}

fn set_image(eds: &mut ExtendedDaemonSet, image: &str) {
    if let Some(spec) = eds.spec.template.spec.as_mut() {
        for c in &mut spec.containers {
            c.image = Some(image.into());
        }
    }
}
