//! `eds sim serve`: run a simulated cluster until Ctrl-C.

use std::path::PathBuf;

use super::{SimApiServer, error::SimError, state::Config};

/// Default kubeconfig path of `eds sim serve`.
pub const DEFAULT_KUBECONFIG: &str = "./sim.kubeconfig";

/// Prefix of the names of the nodes `eds sim serve` creates.
pub const NODE_PREFIX: &str = "sim-node";

/// Options of `eds sim serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Number of Ready nodes to create.
    pub nodes: usize,
    /// Where to write the kubeconfig.
    pub kubeconfig: PathBuf,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            nodes: 0,
            kubeconfig: PathBuf::from(DEFAULT_KUBECONFIG),
            port: 0,
        }
    }
}

/// Starts a server with `opts.nodes` nodes, writes the kubeconfig, prints exactly one line
/// `sim ready: <url> kubeconfig=<path>` and serves until Ctrl-C.
pub async fn serve(opts: ServeOptions) -> Result<(), SimError> {
    let mut interrupted = None;
    serve_until(opts, async {
        interrupted = Some(tokio::signal::ctrl_c().await);
    })
    .await?;
    match interrupted {
        Some(Err(e)) => Err(SimError::Signal(e)),
        _ => Ok(()),
    }
}

/// [`serve`], stopping when `shutdown` completes instead of on Ctrl-C.
pub async fn serve_until(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SimError> {
    let server = SimApiServer::start(Config {
        port: opts.port,
        ..Config::default()
    })
    .await?;
    server.create_nodes(NODE_PREFIX, opts.nodes)?;
    server.write_kubeconfig(&opts.kubeconfig)?;
    println!(
        "sim ready: {} kubeconfig={}",
        server.url(),
        opts.kubeconfig.display()
    );
    shutdown.await;
    server.stop().await;
    Ok(())
}
