//! One container's status at a given time, from its behaviour and the pod's timeline.
//!
//! Everything is derived from `sandbox_at` (when the pod sandbox is ready and containers
//! start) and the elapsed time, so the same inputs always give the same status: the kubelet
//! loop can be woken at any time, or restarted, without changing the story.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::{
    api::core::v1::{
        Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
        ContainerStateWaiting, ContainerStatus,
    },
    apimachinery::pkg::apis::meta::v1::Time,
};
use sha2::{Digest, Sha256};

use super::super::behaviour::{Behaviour, CrashReason};

/// Shortest period of any timed change, so a zero setting cannot spin the loop.
const MIN_PERIOD: Duration = Duration::from_millis(10);

/// What a container's status depends on besides its spec.
pub(crate) struct ContainerTimeline<'a> {
    pub pod_uid: &'a str,
    pub pod_ref: &'a str,
    pub behaviour: Behaviour,
    /// `CreateContainerConfigError` message when a referenced key is missing.
    pub config_error: Option<&'a str>,
    pub sandbox_at: Timestamp,
    pub ready_at: Timestamp,
    pub restart_always: bool,
    pub timing: &'a super::Timing,
}

/// A container status and the next time it changes by itself.
pub(crate) struct ContainerView {
    pub status: ContainerStatus,
    pub wake_at: Option<Timestamp>,
}

/// The status of a container that is not started yet (`ContainerCreating`,
/// `PodInitializing`).
pub(crate) fn waiting(
    container: &Container,
    reason: &str,
    message: Option<String>,
) -> ContainerStatus {
    ContainerStatus {
        name: container.name.clone(),
        image: container.image.clone().unwrap_or_default(),
        image_id: String::new(),
        ready: false,
        restart_count: 0,
        started: Some(false),
        state: Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.to_string()),
                message,
            }),
            ..ContainerState::default()
        }),
        last_state: Some(ContainerState::default()),
        ..ContainerStatus::default()
    }
}

/// The status of a started container at `now` (`now >= sandbox_at`).
pub(crate) fn view(
    container: &Container,
    t: &ContainerTimeline<'_>,
    now: Timestamp,
) -> ContainerView {
    let image = container.image.clone().unwrap_or_default();
    if let Some(message) = t.config_error {
        let status = waiting(
            container,
            "CreateContainerConfigError",
            Some(message.to_string()),
        );
        return ContainerView {
            status,
            wake_at: Some(after(now, t.timing.recheck)),
        };
    }
    let elapsed = since(t.sandbox_at, now);
    let mut status = ContainerStatus {
        image_id: image_id(&image),
        container_id: Some(container_id(t.pod_uid, &container.name, 0)),
        ..waiting(container, "ContainerCreating", None)
    };
    let ready_at = t.ready_at;
    let wake_at = match t.behaviour {
        Behaviour::Normal => {
            set_running(&mut status, t.sandbox_at, now >= ready_at);
            (now < ready_at).then_some(ready_at)
        }
        Behaviour::NeverReady => {
            set_running(&mut status, t.sandbox_at, false);
            None
        }
        Behaviour::Flapping => {
            let period = t.timing.flap_period.max(MIN_PERIOD);
            if now < ready_at {
                set_running(&mut status, t.sandbox_at, false);
                Some(ready_at)
            } else {
                let k = cycles(since(ready_at, now), period);
                set_running(&mut status, t.sandbox_at, k.is_multiple_of(2));
                Some(after(ready_at, period * (k + 1)))
            }
        }
        Behaviour::ImagePullError => {
            let period = t.timing.recheck.max(MIN_PERIOD);
            let k = cycles(elapsed, period);
            let (reason, message) = if k.is_multiple_of(2) {
                let message = format!(
                    "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
                );
                ("ErrImagePull", message)
            } else {
                (
                    "ImagePullBackOff",
                    format!("Back-off pulling image \"{image}\""),
                )
            };
            status = waiting(container, reason, Some(message));
            Some(after(t.sandbox_at, period * (k + 1)))
        }
        Behaviour::CrashLoop(crash) => {
            let run = match crash.reason {
                CrashReason::StartError => Duration::ZERO,
                _ => t.timing.crash_run.max(MIN_PERIOD),
            };
            let cycle = run + t.timing.crash_backoff.max(MIN_PERIOD);
            // Without restarts (`restartPolicy: Never`) the first exit is final.
            let k = if t.restart_always {
                cycles(elapsed, cycle)
            } else {
                0
            };
            let run_start = after(t.sandbox_at, cycle * k);
            let terminated = |j: u32| {
                let started = after(t.sandbox_at, cycle * j);
                ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        container_id: Some(container_id(t.pod_uid, &container.name, j)),
                        exit_code: crash.exit_code,
                        reason: Some(crash.reason.as_str().to_string()),
                        message: (crash.reason == CrashReason::StartError).then(|| {
                            "failed to create containerd task: failed to start the simulated process: unknown"
                                .to_string()
                        }),
                        // A container that failed to start never ran: the kubelet reports the
                        // Unix epoch as its start.
                        started_at: Some(Time(match crash.reason {
                            CrashReason::StartError => Timestamp::UNIX_EPOCH,
                            _ => started,
                        })),
                        finished_at: Some(Time(after(started, run))),
                        signal: None,
                    }),
                    ..ContainerState::default()
                }
            };
            if now < after(run_start, run) {
                set_running(&mut status, run_start, false);
                status.restart_count = k as i32;
                status.container_id = Some(container_id(t.pod_uid, &container.name, k));
                if k > 0 {
                    status.last_state = Some(terminated(k - 1));
                }
                Some(after(run_start, run))
            } else if !t.restart_always {
                status.state = Some(terminated(k));
                status.started = Some(false);
                status.container_id = Some(container_id(t.pod_uid, &container.name, k));
                None
            } else {
                let backoff = t.timing.crash_backoff.as_secs_f64();
                let message = format!(
                    "back-off {backoff}s restarting failed container={} pod={}",
                    container.name, t.pod_ref
                );
                status.state = Some(ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some("CrashLoopBackOff".into()),
                        message: Some(message),
                    }),
                    ..ContainerState::default()
                });
                status.started = Some(false);
                status.restart_count = (k + 1) as i32;
                status.last_state = Some(terminated(k));
                Some(after(t.sandbox_at, cycle * (k + 1)))
            }
        }
    };
    ContainerView { status, wake_at }
}

fn set_running(status: &mut ContainerStatus, started_at: Timestamp, ready: bool) {
    status.state = Some(ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(Time(started_at)),
        }),
        ..ContainerState::default()
    });
    status.started = Some(true);
    status.ready = ready;
}

/// A stable, registry-like image digest.
fn image_id(image: &str) -> String {
    let digest = Sha256::digest(image.as_bytes());
    let name = image.split(':').next().unwrap_or(image);
    format!("{name}@sha256:{}", hex(&digest))
}

/// A stable container ID per pod, container and restart.
fn container_id(pod_uid: &str, name: &str, restart: u32) -> String {
    let digest = Sha256::digest(format!("{pod_uid}/{name}/{restart}").as_bytes());
    format!("containerd://{}", hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `ts + d`, saturating.
pub(crate) fn after(ts: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| ts.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Time from `from` to `now`, zero if `now` is earlier.
pub(crate) fn since(from: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(from)).unwrap_or(Duration::ZERO)
}

/// Whole periods in `elapsed`.
fn cycles(elapsed: Duration, period: Duration) -> u32 {
    let n = elapsed.as_nanos() / period.as_nanos().max(1);
    u32::try_from(n).unwrap_or(u32::MAX - 1)
}
