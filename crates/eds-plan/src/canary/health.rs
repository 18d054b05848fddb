//! Health of canary pods: restarts and failures to start.
//!
//! Kept from upstream: the restart count of a pod is its most-restarted container's, and the
//! reason is that container's last termination reason (`Unknown` when empty); a pod "cannot
//! start" when a container waits with one of the reasons in
//! `constants::reason::CANNOT_START_WAITING_REASONS`, and a pod still `ContainerCreating` past
//! `autoPause.maxSlowStartDuration` after its start is slow (`SlowStartTimeoutExceeded`).
//! As the reference requires, a cannot-start reason only counts once the pod has been starting
//! for longer than maxSlowStartDuration (when set).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::observe::{after, container_statuses};
use eds_api::{Duration, constants::reason};

/// What one canary pod tells about the canary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodHealth {
    /// Highest container restart count.
    pub restarts: i32,
    /// Last termination reason of that container.
    pub restart_reason: String,
    /// Time of the most recent restart.
    pub last_restart: Option<Timestamp>,
    /// Termination reason of the most recent restart.
    pub last_restart_reason: String,
    /// Why the pod cannot start (past maxSlowStartDuration), if it cannot.
    pub cannot_start: Option<String>,
    /// When a pod that is still starting will be judged (start + maxSlowStartDuration).
    pub judged_at: Option<Timestamp>,
}

/// Checks one canary pod at `now`.
pub fn check(pod: &Pod, now: Timestamp, max_slow_start: Option<Duration>) -> PodHealth {
    let mut health = PodHealth::default();
    for status in container_statuses(pod) {
        let terminated = status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref());
        let term_reason = terminated
            .and_then(|t| t.reason.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| reason::UNKNOWN.to_string());
        if status.restart_count > health.restarts {
            health.restarts = status.restart_count;
            health.restart_reason = term_reason.clone();
        }
        if status.restart_count > 0 {
            let at = terminated
                .and_then(|t| t.finished_at.as_ref())
                .or_else(|| {
                    status
                        .state
                        .as_ref()
                        .and_then(|s| s.running.as_ref())
                        .and_then(|r| r.started_at.as_ref())
                })
                .map(|t| t.0);
            if at > health.last_restart {
                health.last_restart = at;
                health.last_restart_reason = term_reason;
            }
        }
    }
    let waiting = container_statuses(pod)
        .filter_map(|s| s.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
        .find(|r| {
            reason::CANNOT_START_WAITING_REASONS.contains(r) || *r == reason::CONTAINER_CREATING
        });
    let Some(waiting) = waiting else {
        return health;
    };
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .or(pod.metadata.creation_timestamp.as_ref())
        .map(|t| t.0);
    let deadline = max_slow_start
        .zip(started)
        .map(|(d, s)| after(s, d.as_std()));
    let creating = waiting == reason::CONTAINER_CREATING;
    match deadline {
        Some(at) if now > at => {
            health.cannot_start = Some(if creating {
                reason::SLOW_START_TIMEOUT_EXCEEDED.to_string()
            } else {
                waiting.to_string()
            });
        }
        Some(at) => health.judged_at = Some(at),
        // Without maxSlowStartDuration a cannot-start reason counts at once; a slow start
        // never does.
        None if !creating => health.cannot_start = Some(waiting.to_string()),
        None => {}
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{crash, t0, wait_with};

    fn started_pod() -> Pod {
        let mut pod = Pod::default();
        pod.metadata.creation_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t0()));
        pod
    }

    #[test]
    fn restart_reason_is_unknown_without_a_termination_reason() {
        let mut pod = started_pod();
        crash(&mut pod, 3, "", t0());
        let h = check(&pod, t0(), None);
        assert_eq!(
            (h.restarts, h.restart_reason.as_str()),
            (3, reason::UNKNOWN)
        );
        assert_eq!(h.last_restart, Some(t0()));
    }

    #[test]
    fn cannot_start_counts_at_once_without_max_slow_start_duration() {
        let mut pod = started_pod();
        wait_with(&mut pod, "ErrImagePull");
        assert_eq!(
            check(&pod, t0(), None).cannot_start.as_deref(),
            Some("ErrImagePull")
        );
        let slow: Option<Duration> = Some("1m".parse().unwrap());
        let h = check(&pod, t0(), slow);
        assert_eq!(h.cannot_start, None);
        assert_eq!(
            h.judged_at,
            Some(t0() + jiff::SignedDuration::from_secs(60))
        );
    }

    #[test]
    fn container_creating_only_counts_past_max_slow_start_duration() {
        let mut pod = started_pod();
        wait_with(&mut pod, reason::CONTAINER_CREATING);
        assert_eq!(
            check(&pod, t0() + jiff::SignedDuration::from_hours(5), None).cannot_start,
            None
        );
        let slow: Option<Duration> = Some("10s".parse().unwrap());
        let late = t0() + jiff::SignedDuration::from_secs(11);
        assert_eq!(
            check(&pod, late, slow).cannot_start.as_deref(),
            Some(reason::SLOW_START_TIMEOUT_EXCEEDED)
        );
    }
}
