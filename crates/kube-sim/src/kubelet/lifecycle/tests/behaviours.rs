//! Behaviour rules in the state machine: crash loops, pull errors, blocked references,
//! never-ready and flapping containers.

use serde_json::json;

use super::{at, cond, container, facts, pod, step, waiting_reason};
use crate::kubelet::lifecycle::{Blocks, Time, Timestamp};

#[test]
fn crash_loop_restarts_with_back_off_and_exit_reason() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "crashloop")], json!({}));
    // Sandbox at 500ms; cycles of 500ms running + 1s back-off.
    let (s, _) = step(&mut p, &f, 700);
    let c = container(&s, 0);
    assert!(c.state.as_ref().unwrap().running.is_some());
    assert_eq!(c.restart_count, 0);

    let (s, wake) = step(&mut p, &f, 1100);
    let c = container(&s, 0);
    assert_eq!(waiting_reason(c), Some("CrashLoopBackOff"));
    assert_eq!(c.restart_count, 1);
    let last = c.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((last.reason.as_deref(), last.exit_code), (Some("Error"), 1));
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(wake, Some(at(2000)));

    let (s, _) = step(&mut p, &f, 2100);
    let c = container(&s, 0);
    assert!(c.state.as_ref().unwrap().running.is_some());
    assert_eq!(c.restart_count, 1);
    assert!(c.last_state.as_ref().unwrap().terminated.is_some());

    let (s, _) = step(&mut p, &f, 500 + 10 * 1500 + 600);
    assert_eq!(container(&s, 0).restart_count, 11);
}

#[test]
fn oom_and_start_errors_report_their_reason_and_code() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(
        &[("a", "pause", "oomkilled"), ("b", "pause", "starterror")],
        json!({}),
    );
    let (s, _) = step(&mut p, &f, 1200);
    let terminated = |i| {
        container(&s, i)
            .last_state
            .clone()
            .unwrap()
            .terminated
            .unwrap()
    };
    assert_eq!(
        (terminated(0).reason.unwrap(), terminated(0).exit_code),
        ("OOMKilled".into(), 137)
    );
    let start_error = terminated(1);
    assert_eq!(
        (start_error.reason.unwrap(), start_error.exit_code),
        ("StartError".into(), 128)
    );
    assert_eq!(start_error.started_at, Some(Time(Timestamp::UNIX_EPOCH)));
    assert_eq!(waiting_reason(container(&s, 1)), Some("CrashLoopBackOff"));
    assert_eq!(container(&s, 1).restart_count, 1);
}

#[test]
fn image_pull_errors_alternate_and_keep_the_pod_pending() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(
        &[("app", "registry.k8s.io/pause:does-not-exist", "")],
        json!({}),
    );
    let (s, wake) = step(&mut p, &f, 600);
    assert_eq!(waiting_reason(container(&s, 0)), Some("ErrImagePull"));
    assert_eq!(wake, Some(at(1500)));
    let (s, _) = step(&mut p, &f, 1600);
    let c = container(&s, 0);
    assert_eq!(waiting_reason(c), Some("ImagePullBackOff"));
    let message = c.state.clone().unwrap().waiting.unwrap().message.unwrap();
    assert_eq!(
        message,
        "Back-off pulling image \"registry.k8s.io/pause:does-not-exist\""
    );
    assert_eq!(s.phase.as_deref(), Some("Pending"));
}

#[test]
fn missing_config_key_fails_only_its_container() {
    let blocks = Blocks {
        volume: None,
        containers: [(
            "app".to_string(),
            "couldn't find key a in ConfigMap ns/cfg".to_string(),
        )]
        .into(),
    };
    let f = facts(&blocks);
    let mut p = pod(&[("app", "pause", ""), ("side", "pause", "")], json!({}));
    let (s, wake) = step(&mut p, &f, 2000);
    assert_eq!(
        waiting_reason(container(&s, 0)),
        Some("CreateContainerConfigError")
    );
    assert!(container(&s, 1).ready);
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(
        cond(&s, "ContainersReady").message.as_deref(),
        Some("containers with unready status: [app]")
    );
    assert_eq!(wake, Some(at(3000)), "the reference is checked again");
}

#[test]
fn missing_volume_source_keeps_the_pod_creating() {
    let blocks = Blocks {
        volume: Some("MountVolume.SetUp failed".into()),
        containers: Default::default(),
    };
    let f = facts(&blocks);
    let mut p = pod(&[("app", "pause", "")], json!({}));
    let (s, wake) = step(&mut p, &f, 10_000);
    assert_eq!(waiting_reason(container(&s, 0)), Some("ContainerCreating"));
    assert_eq!(cond(&s, "PodReadyToStartContainers").status, "False");
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(wake, Some(at(11_000)));
}

#[test]
fn never_ready_and_flapping_containers() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut never = pod(&[("app", "never-ready", "")], json!({}));
    let (s, wake) = step(&mut never, &f, 30_000);
    assert_eq!(
        (s.phase.as_deref(), container(&s, 0).ready, wake),
        (Some("Running"), false, None)
    );

    let mut flap = pod(&[("app", "pause", "flapping")], json!({}));
    let mut ready_at = |ms| {
        let (s, _) = step(&mut flap, &f, ms);
        cond(&s, "Ready").status == "True"
    };
    assert_eq!(
        [
            ready_at(900),
            ready_at(1100),
            ready_at(3100),
            ready_at(5100)
        ],
        [false, true, false, true]
    );
}

#[test]
fn crash_without_restarts_fails_the_pod() {
    let blocks = Blocks::default();
    let f = facts(&blocks);
    let mut p = pod(
        &[("app", "crashloop", "")],
        json!({"restartPolicy": "Never"}),
    );
    let (s, wake) = step(&mut p, &f, 5000);
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(container(&s, 0).restart_count, 0);
    assert_eq!(wake, None);
}
