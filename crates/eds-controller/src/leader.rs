//! Leader election on a Lease (kube-lease-manager): only the holder writes.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::metrics::Metrics;

/// Where and as whom to hold the lease.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    pub identity: String,
    /// Lease duration: how long a crashed leader blocks the others.
    pub duration: Duration,
    /// How long before expiry the holder renews.
    pub grace: Duration,
}

/// Starts the election; the returned channel is `true` while this replica leads. It turns
/// `false` as soon as the lease is lost, and the manager releases the lease on shutdown.
pub async fn elect(
    client: Client,
    settings: LeaseSettings,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<watch::Receiver<bool>> {
    let manager = LeaseManagerBuilder::new(client, &settings.name)
        .with_namespace(&settings.namespace)
        .with_identity(&settings.identity)
        .with_duration(settings.duration.as_secs().max(1))
        .with_grace(settings.grace.as_secs().max(1))
        .build()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "leader election on Lease {}/{}: {e}",
                settings.namespace,
                settings.name
            )
        })?;
    let (mut lease_rx, task) = manager.watch().await;
    let (tx, rx) = watch::channel(*lease_rx.borrow());
    tokio::spawn(async move {
        loop {
            let leading = *lease_rx.borrow_and_update();
            metrics.leader.set(i64::from(leading));
            let _ = tx.send(leading);
            tracing::info!(leading, "leadership changed");
            tokio::select! {
                changed = lease_rx.changed() => if changed.is_err() { break },
                _ = shutdown.wait_for(|s| *s) => break,
            }
        }
        let _ = tx.send(false);
        metrics.leader.set(0);
        drop(lease_rx);
        // Dropping the receiver ends the manager's loop; release the lease for a fast handover.
        if let Ok(Ok(manager)) = task.await {
            let _ = manager.release().await;
        }
    });
    Ok(rx)
}
