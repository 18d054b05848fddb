//! Leader election on a Lease (kube-lease-manager): only the holder writes.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::{error::RunError, metrics::Metrics};

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

/// Whether this replica may write, as a channel every reconcile and the executor read.
///
/// Without election the replica always leads: the sender is kept here (not leaked) for as long
/// as the controller runs, and [`Leadership::step_down`] turns it `false` at shutdown, as losing
/// the lease does, so no write starts after the controller began to stop.
pub struct Leadership {
    rx: watch::Receiver<bool>,
    always: Option<watch::Sender<bool>>,
}

impl Leadership {
    /// A replica that leads from the start (no election: a single replica).
    pub fn always() -> Self {
        let (tx, rx) = watch::channel(true);
        Self {
            rx,
            always: Some(tx),
        }
    }

    /// A receiver of the leadership: `true` while this replica may write.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.rx.clone()
    }

    /// Stops leading (shutdown). An elected replica steps down by releasing its lease, which
    /// [`elect`] does when the shutdown channel fires.
    pub fn step_down(&self) {
        if let Some(tx) = &self.always {
            let _ = tx.send(false);
        }
    }
}

/// Starts the election; the returned leadership is `true` while this replica leads. It turns
/// `false` as soon as the lease is lost, and the manager releases the lease on shutdown.
pub async fn elect(
    client: Client,
    settings: LeaseSettings,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Leadership, RunError> {
    let manager = LeaseManagerBuilder::new(client, &settings.name)
        .with_namespace(&settings.namespace)
        .with_identity(&settings.identity)
        .with_duration(settings.duration.as_secs().max(1))
        .with_grace(settings.grace.as_secs().max(1))
        .build()
        .await
        .map_err(|source| RunError::LeaderElection {
            namespace: settings.namespace.clone(),
            name: settings.name.clone(),
            source,
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
    Ok(Leadership { rx, always: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_leads_until_it_steps_down_and_its_channel_closes_when_dropped() {
        let leadership = Leadership::always();
        let mut rx = leadership.subscribe();
        assert!(*rx.borrow_and_update());
        assert_eq!(rx.has_changed().ok(), Some(false), "open while held");
        leadership.step_down();
        assert!(!*rx.borrow_and_update());
        drop(leadership);
        assert!(
            rx.has_changed().is_err(),
            "the sender is dropped, not leaked"
        );
    }
}
