//! Connecting to a cluster the way kubectl does: `--kubeconfig` and `--context`, else
//! `$KUBECONFIG` or `~/.kube/config`, else the in-cluster service account.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Why no client configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig file named by `--kubeconfig` cannot be read.
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    /// The kubeconfig cannot be used (unknown context, bad credentials...).
    #[error("{0}")]
    Kubeconfig(String),
    /// No kubeconfig at all, and not running in a cluster.
    #[error("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not in a cluster: {0}")]
    NoConfig(String),
}

/// The client configuration for `kubeconfig` (a path) and `context`.
pub async fn config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Config, ConnectError> {
    let options = KubeConfigOptions {
        context: context.map(String::from),
        ..KubeConfigOptions::default()
    };
    let file = match kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| ConnectError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?),
        None => match Kubeconfig::read() {
            Ok(file) => Some(file),
            Err(e) if context.is_some() => return Err(ConnectError::Kubeconfig(e.to_string())),
            Err(_) => None,
        },
    };
    match file {
        Some(file) => kube::Config::from_custom_kubeconfig(file, &options)
            .await
            .map_err(|e| ConnectError::Kubeconfig(e.to_string())),
        None => kube::Config::incluster().map_err(|e| ConnectError::NoConfig(e.to_string())),
    }
}
