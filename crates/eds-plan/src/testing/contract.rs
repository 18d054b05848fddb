//! One ExtendedDaemonSet per situation of the status contract (`docs/status.md`), its status
//! written by the planner after the commands a user would run. The contract tests (kstatus,
//! the Argo CD health check, `rollout status`) all read these.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{EdsBuilder, Scenario, crash, eds, node_of};
use eds_api::{AutoFail, AutoPause, Duration, ExtendedDaemonSet, constants::keys};

/// Situation names, as the first column of the table in `docs/status.md`.
pub const SITUATIONS: [&str; 11] = [
    "progressing",
    "canary running",
    "canary paused by a user",
    "canary auto-paused",
    "canary failed",
    "rolling update paused",
    "frozen",
    "rollout blocked",
    "migration from a live DaemonSet",
    "invalid spec",
    "done",
];

fn with_canary() -> EdsBuilder {
    eds("foo").canary(1).canary_with(|c| {
        c.auto_pause = Some(AutoPause {
            max_restarts: Some(1),
            ..Default::default()
        });
        c.auto_fail = Some(AutoFail {
            max_restarts: Some(3),
            ..Default::default()
        });
    })
}

/// Converges on v1, switches to v2 and runs until the canary pods exist.
fn canary_started() -> Scenario {
    let mut sc = with_canary().nodes(3);
    sc.converge();
    sc.set_image("app:v2");
    for _ in 0..3 {
        sc.step();
    }
    sc
}

/// The canary of v2 promoted by `canary-valid`: the rolling update of the other nodes starts.
fn promoted() -> Scenario {
    let mut sc = canary_started();
    let target = sc.plan().target_revision;
    sc.annotate(keys::CANARY_VALID_ANNOTATION, Some(&target));
    sc.step();
    sc
}

/// The ExtendedDaemonSet, with the status the planner writes, in `situation` (one of
/// [`SITUATIONS`]); also returns the status before the last step (for the `kept` cells).
pub fn situation(situation: &str) -> (ExtendedDaemonSet, ExtendedDaemonSet) {
    let mut sc = scenario(situation);
    let before = sc.snapshot.eds.clone();
    sc.step();
    (sc.snapshot.eds.clone(), before)
}

/// The cluster of `situation` (one of [`SITUATIONS`]) just before the plan that writes its
/// status.
pub fn scenario(situation: &str) -> Scenario {
    match situation {
        "progressing" => {
            let mut sc = with_canary().nodes(3);
            sc.step();
            sc
        }
        "canary running" => canary_started(),
        "canary paused by a user" => {
            let mut sc = canary_started();
            sc.annotate(keys::CANARY_PAUSED_ANNOTATION, Some("true"));
            sc
        }
        "canary auto-paused" => {
            let mut sc = canary_started();
            let at = sc.now;
            crash(sc.pod_mut("node-1"), 2, "StartError", at);
            sc
        }
        "canary failed" => {
            let mut sc = canary_started();
            sc.annotate(keys::CANARY_FAILED_ANNOTATION, Some("true"));
            sc
        }
        "rolling update paused" => {
            let mut sc = promoted();
            sc.annotate(keys::ROLLING_UPDATE_PAUSED_ANNOTATION, Some("true"));
            sc
        }
        "frozen" => {
            let mut sc = promoted();
            sc.annotate(keys::ROLLOUT_FROZEN_ANNOTATION, Some("true"));
            sc
        }
        "rollout blocked" => {
            let mut sc = eds("foo")
                .max_unavailable(1)
                .rolling(|r| r.max_pod_scheduler_failure = Some(IntOrString::Int(0)))
                .nodes(3);
            sc.converge();
            sc.set_image("app:v2");
            sc.step();
            // node-3 loses its pod, and the new one stays unscheduled for 11 minutes.
            sc.snapshot
                .pods
                .retain(|p| node_of(p).as_deref() != Some("node-3"));
            sc.step();
            sc.pod_mut("node-3").spec.as_mut().expect("spec").node_name = None;
            sc.advance(660);
            sc
        }
        "migration from a live DaemonSet" => {
            let mut sc = eds("foo")
                .annotate(keys::OLD_DAEMONSET_ANNOTATION, "legacy")
                .nodes(3);
            for n in ["node-1", "node-2", "node-3"] {
                let pod = super::daemonset_pod("legacy", n, super::t0());
                sc.snapshot
                    .old_daemonset_pods
                    .push(std::sync::Arc::new(pod));
            }
            sc.snapshot.old_daemonset = Some(crate::OldDaemonSet::Live);
            sc.step();
            sc
        }
        "invalid spec" => {
            let mut sc = with_canary().nodes(3);
            sc.converge();
            sc.edit(|e| {
                let canary = e.spec.strategy.canary.as_mut().expect("canary");
                canary.validation_mode = Some(eds_api::ValidationMode::Manual);
                canary.duration = Some("5m".parse::<Duration>().expect("duration"));
            });
            sc
        }
        "done" => {
            let mut sc = with_canary().nodes(3);
            sc.converge();
            sc
        }
        other => panic!("no scenario for situation {other:?}"),
    }
}
