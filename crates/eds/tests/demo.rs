//! `eds demo` runs each scenario to convergence on the simulator (short durations).

use eds::demo::{DemoArgs, Scenario, run};

fn args(scenario: Scenario) -> DemoArgs {
    DemoArgs {
        nodes: 3,
        scenario,
        canary_duration: "3s".parse().unwrap(),
        start_delay: "300ms".parse().unwrap(),
        timeout: "2m".parse().unwrap(),
        keep: false,
        kubeconfig: "unused.kubeconfig".into(),
    }
}

async fn run_scenario(scenario: Scenario) -> String {
    let mut out = Vec::new();
    let result = run(args(scenario), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(
        result.is_ok(),
        "demo {scenario:?} failed: {result:?}\n{text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_update_goes_through_canary_and_rolling_update() {
    let text = run_scenario(Scenario::Good).await;
    for expected in [
        "$ kubectl get eds",
        "$ kubectl get ers",
        "--- Canary:",
        "Running: 3/3 nodes run",
        "Done in",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_image_pauses_the_canary_and_a_fix_recovers() {
    let text = run_scenario(Scenario::BadImage).await;
    assert!(
        text.contains("Canary Paused (ErrImagePull)")
            || text.contains("Canary Paused (ImagePullBackOff)"),
        "{text}"
    );
    assert!(text.contains("Done in"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashloop_fails_the_canary_and_a_fix_recovers() {
    let text = run_scenario(Scenario::Crashloop).await;
    assert!(text.contains("Canary Failed"), "{text}");
    assert!(text.contains("Done in"), "{text}");
}
