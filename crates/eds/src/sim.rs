//! `eds sim kubelet`: fake nodes on any API server.
//!
//! Runs only the kubelet/scheduler simulator of `kube-sim` against the cluster of a
//! kubeconfig (a real control plane, kind, or `eds sim serve`), so a control plane can be
//! loaded with thousands of nodes and pods without machines. Each fake node registers like a
//! kubelet does: a Node with capacity, allocatable, addresses, system info and the kubelet's
//! conditions, written through `nodes/status`, and a Lease in `kube-node-lease` renewed every
//! `--heartbeat`, so the node lifecycle controller keeps it Ready. The pods bound to a fake
//! node (by the real scheduler, or pinned by node affinity) go through a kubelet's phases and
//! statuses. Only nodes labelled `sim.extendeddaemonset.datadoghq.com/fake-node=true` are
//! touched; they are deleted with their pods when the command stops.

use std::path::PathBuf;

use kube::{Client, Config, config::Kubeconfig};
use kube_sim::kubelet::{KubeletConfig, SimKubelet};

/// Arguments of `eds sim kubelet`.
#[derive(clap::Args, Debug, Clone)]
pub struct KubeletArgs {
    /// Kubeconfig of the cluster to add fake nodes to (default: $KUBECONFIG, ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Number of fake nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Node names are `<prefix>-0`, `<prefix>-1`, ...
    #[arg(long, default_value = "sim-node")]
    pub prefix: String,
    /// Time from a pod's binding to its readiness (containers start at half of it).
    #[arg(long, default_value = "1s")]
    pub start_delay: eds_api::Duration,
    /// Node lease renewal and status heartbeat period; `0s` turns heartbeats off (for an API
    /// server without a node lifecycle controller).
    #[arg(long, default_value = "10s")]
    pub heartbeat: eds_api::Duration,
    /// Leave the fake nodes in the cluster when stopping (a later run takes them over).
    #[arg(long)]
    pub keep_nodes: bool,
}

/// Why `eds sim kubelet` failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The simulator could not register its nodes.
    #[error(transparent)]
    Kubelet(#[from] kube_sim::kubelet::KubeletError),
}

/// The simulator configuration of `args`.
pub fn kubelet_config(args: &KubeletArgs) -> KubeletConfig {
    let mut config =
        KubeletConfig::with_nodes(&args.prefix, args.nodes).start_delay(args.start_delay.as_std());
    config.heartbeat_interval = args.heartbeat.as_std();
    config.delete_nodes_on_stop = !args.keep_nodes;
    config
}

/// A client for the kubeconfig and context of `args`.
pub async fn client(args: &KubeletArgs) -> Result<Client, SimError> {
    let err = |e: &dyn std::fmt::Display| SimError::Kubeconfig(e.to_string());
    let options = kube::config::KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| err(&e))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| err(&e))?
        }
        None => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| err(&e))?,
    };
    Client::try_from(config).map_err(|e| err(&e))
}

/// Registers the fake nodes, prints `sim kubelet ready: N nodes`, and plays their kubelets
/// until `shutdown` resolves; then deletes them unless `--keep-nodes`.
pub async fn run_kubelet(
    args: KubeletArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SimError> {
    let client = client(&args).await?;
    let kubelet = SimKubelet::start(client, kubelet_config(&args)).await?;
    println!(
        "sim kubelet ready: {} nodes {}-0..{}",
        args.nodes,
        args.prefix,
        args.nodes.saturating_sub(1)
    );
    shutdown.await;
    kubelet.stop().await?;
    Ok(())
}
