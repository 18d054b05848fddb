//! The controller running in-process for the scale examples, with `/metrics` and `/readyz`
//! served on local ports.

use std::{net::SocketAddr, time::Duration};

use eds_api::ValidationMode;
use eds_controller::{self as controller, RuntimeConfig, WatchScope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The running controller.
pub struct InProcess {
    pub metrics: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), controller::RunError>>,
}

/// Starts the controller on `client`, watching `namespace` only (on a shared cluster, the
/// ExtendedDaemonSets of others are not its business), with automatic canary validation, and
/// waits until `/readyz` answers 200 (its caches synced).
pub async fn start(
    client: kube::Client,
    identity: &str,
    namespace: &str,
) -> Result<InProcess, Box<dyn std::error::Error>> {
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let health_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (metrics, health) = (
        metrics_listener.local_addr()?,
        health_listener.local_addr()?,
    );
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(controller::run(
        controller::Runtime {
            client,
            config: RuntimeConfig {
                scope: WatchScope::Namespaces(vec![namespace.to_string()]),
                validation_mode: ValidationMode::Auto,
                concurrency: 4,
                max_concurrent_writes: controller::config::DEFAULT_MAX_CONCURRENT_WRITES.into(),
                identity: identity.into(),
                expectations_timeout: Duration::from_secs(10),
            },
            metrics_listener: Some(metrics_listener),
            health_listener: Some(health_listener),
            leader_election: None,
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    while !matches!(http_get(health, "/readyz").await, Ok((200, _))) {
        if task.is_finished() {
            return Err("the controller stopped before its caches synced".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(InProcess {
        metrics,
        stop,
        task,
    })
}

impl InProcess {
    /// Stops the controller and prints how it ended if not cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => println!("the controller stopped with an error: {e:#}"),
            Err(e) => println!("the controller task failed: {e}"),
        }
    }
}

/// A plain HTTP/1.1 GET on a local listener: the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, body.to_string()))
}
