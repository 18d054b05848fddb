//! ExtendedDaemonsetSettings whose ExtendedDaemonSet does not exist (a typo in
//! `spec.reference.name`, or an EDS deleted since): nothing reconciles them, so this loop gives
//! them an `error` status naming the missing EDS, and a Warning event when that status is new.
//! Once the EDS exists, its reconcile writes the Setting's status again.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, channel::mpsc};
use kube::{
    Api, Resource, ResourceExt,
    runtime::{
        events::{Event, EventType},
        reflector::ObjectRef,
    },
};
use tokio::sync::watch;

use super::{executor::apply_status, health::Readiness, reconcile::Context};
use eds_api::{
    ExtendedDaemonSet, ExtendedDaemonsetSetting, ExtendedDaemonsetSettingStatus,
    constants::{reason, setting_state},
};

/// How often Settings are checked without a Setting change (an EDS deleted since).
const RECHECK: Duration = Duration::from_secs(30);

/// The status of a Setting whose ExtendedDaemonSet is missing.
pub fn missing_status(setting: &ExtendedDaemonsetSetting) -> ExtendedDaemonsetSettingStatus {
    ExtendedDaemonsetSettingStatus {
        status: setting_state::ERROR.to_string(),
        error: Some(format!(
            "spec.reference.name: ExtendedDaemonSet {:?} not found in namespace {:?}",
            setting.spec.reference.name,
            setting.namespace().unwrap_or_default()
        )),
    }
}

/// Runs until `shutdown`: checks every Setting once the caches have synced (`synced`), when
/// one changes (`changed`), and every [`RECHECK`].
pub async fn run(
    ctx: Arc<Context>,
    synced: Readiness,
    mut changed: mpsc::UnboundedReceiver<()>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Before the caches hold the cluster's objects, every EDS would look missing. The
    // readiness flag is polled rather than the stores awaited: a store's readiness future wakes
    // only the task that polled it last, and the readiness probe already waits on them.
    while !synced.is_ready() {
        if *shutdown.borrow() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut tick = tokio::time::interval(RECHECK);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = changed.next() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        if *ctx.leader.borrow() {
            check(&ctx).await;
        }
    }
}

async fn check(ctx: &Context) {
    for setting in ctx.stores.settings.state() {
        let ns = setting.namespace().unwrap_or_default();
        let eds = ObjectRef::<ExtendedDaemonSet>::new(&setting.spec.reference.name).within(&ns);
        if ctx.stores.eds.get(&eds).is_some() {
            continue;
        }
        let status = missing_status(&setting);
        if setting.status.as_ref() == Some(&status) {
            continue;
        }
        let api: Api<ExtendedDaemonsetSetting> = Api::namespaced(ctx.client.clone(), &ns);
        let name = setting.name_any();
        // Failures are retried at the next check; one Setting never stops the others.
        if let Err(e) = apply_status(&api, &name, &status).await {
            tracing::warn!(error = %e, setting = %format!("{ns}/{name}"), "cannot write Setting status");
            continue;
        }
        let event = Event {
            type_: EventType::Warning,
            reason: reason::SETTING_WITHOUT_EDS.into(),
            note: status.error.clone(),
            action: reason::SETTING_WITHOUT_EDS.into(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &setting.object_ref(&())).await {
            tracing::warn!(error = %e, "cannot publish event");
        }
    }
}
