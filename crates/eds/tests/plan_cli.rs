//! `eds plan` offline (`--state`): golden text and JSON output on fixture states, `--full`,
//! colour, exit codes and error messages. The 1,000-node state is in plan_cli_large.rs.

#[path = "plan_cli/support.rs"]
mod support;

use eds::render::{ActionKind, ChangeKind, PlanReport, SimulationEnd};
use support::{NOW, fixture, generated, run, run_on};

#[test]
fn fixtures_are_fresh() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, contents) in generated() {
        let path = fixture(name);
        if update {
            std::fs::write(&path, &contents).expect("write fixture");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == contents,
            "{path} is stale: run UPDATE_FIXTURES=1 cargo test --test plan_cli"
        );
    }
}

/// Plans fixture `file` against fixture `state` at [`NOW`], with more arguments.
async fn plan(file: &str, state: &str, more: &[&str]) -> support::Run {
    let (file, state) = (fixture(file), fixture(state));
    let mut args = vec!["-f", &file, "--state", &state, "--now", NOW];
    args.extend_from_slice(more);
    run(&args).await
}

fn json(out: &str) -> PlanReport {
    serde_json::from_str(out).expect("output follows the eds.plan/v2 schema")
}

#[tokio::test]
async fn image_change_text() {
    let r = plan("foo-v2.yaml", "state-3-nodes.yaml", &[]).await;
    assert_eq!(r.code, 1, "changes planned: {:?}", r.err);
    insta::assert_snapshot!("image_change_text", r.out);
}

#[tokio::test]
async fn image_change_json() {
    let r = plan("foo-v2.yaml", "state-3-nodes.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report = json(&r.out);
    assert_eq!(report.api_version, "eds.plan/v2");
    assert!(report.changes);
    assert_eq!(report.object.change, ChangeKind::Update);
    assert_eq!(report.actions.len(), 3);
    // One image change, the same on every node: one group naming all three.
    assert_eq!(report.pod_changes.len(), 1);
    assert_eq!(report.pod_changes[0].nodes, ["node-1", "node-2", "node-3"]);
    assert!(report.pod_changes[0].diff.contains("+  - image: app:v2"));
    insta::assert_snapshot!("image_change_json", r.out);
}

#[tokio::test]
async fn same_spec_has_no_changes() {
    let r = plan("foo-v1.yaml", "state-3-nodes.yaml", &[]).await;
    assert_eq!(r.code, 0, "no changes: {:?}\n{}", r.err, r.out);
    assert!(r.out.contains("No changes"), "{}", r.out);
    insta::assert_snapshot!("no_changes_text", r.out);
    let r = plan("foo-v1.yaml", "state-3-nodes.yaml", &["-o", "json"]).await;
    let report = json(&r.out);
    assert!(!report.changes);
    assert!(report.pod_changes.is_empty());
    assert!(report.actions.iter().all(|a| a.action == ActionKind::Keep));
}

#[tokio::test]
async fn canary_in_progress() {
    let (file, state) = (fixture("foo-v2.yaml"), fixture("state-canary.yaml"));
    let now = support::canary_scenario().now.to_string();
    let r = run(&["-f", &file, "--state", &state, "--now", &now, "-o", "json"]).await;
    assert_eq!(r.code, 1, "{:?} {}", r.err, r.out);
    let report = json(&r.out);
    // The object is already the proposed one; the rollout is what remains.
    assert_eq!(report.object.change, ChangeKind::None);
    // The canary node keeps its new pod; the others keep the old one until the canary is
    // promoted, and their pod change is still planned.
    assert!(report.actions.iter().all(|a| a.action == ActionKind::Keep));
    assert_eq!(report.pod_changes[0].nodes, ["node-2", "node-3"]);
    let text = run(&["-f", &file, "--state", &state, "--now", &now]).await;
    insta::assert_snapshot!("canary_in_progress_text", text.out);
    // An hour later the canary's 5m are over: the rolling update goes on.
    let later = plan("foo-v2.yaml", "state-canary.yaml", &["-o", "json"]).await;
    let later = json(&later.out);
    assert!(
        later
            .actions
            .iter()
            .any(|a| a.action == ActionKind::Replace)
    );
}

#[tokio::test]
async fn new_object_creates_every_pod() {
    let r = plan("foo-v2.yaml", "state-nodes-only.yaml", &["-o", "json"]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    let report = json(&r.out);
    assert_eq!(report.object.change, ChangeKind::Create);
    assert!(report.object.diff.starts_with("--- (new object)\n"));
    assert_eq!(report.current_revision, None);
    insta::assert_snapshot!("new_object_json", r.out);
    let text = plan("foo-v2.yaml", "state-nodes-only.yaml", &[]).await;
    insta::assert_snapshot!("new_object_text", text.out);
}

#[tokio::test]
async fn full_shows_every_wave_until_convergence() {
    let r = plan("foo-v2.yaml", "state-3-nodes.yaml", &["--full"]).await;
    assert_eq!(r.code, 1, "{:?}", r.err);
    insta::assert_snapshot!("full_text", r.out);
    let r = plan(
        "foo-v2.yaml",
        "state-3-nodes.yaml",
        &["--full", "-o", "json"],
    )
    .await;
    insta::assert_snapshot!("full_json", r.out);
    let report = json(&r.out);
    let sim = report.simulation.expect("--full reports the simulation");
    assert_eq!(sim.end, SimulationEnd::Converged);
    assert_eq!(sim.assume_ready_after_seconds, 10);
    let canary = sim.canary.expect("the rollout has a canary phase");
    // The canary lasts its 5m duration at least.
    assert!(
        canary.end_seconds - canary.start_seconds >= 300,
        "{canary:?}"
    );
    assert!(sim.estimated_duration_seconds >= canary.end_seconds);
    // Every node gets the new pod exactly once over the waves.
    let mut created: Vec<String> = report
        .waves
        .iter()
        .flat_map(|w| w.created.iter().map(|p| p.node.clone()))
        .collect();
    created.sort();
    assert_eq!(created, ["node-1", "node-2", "node-3"]);
}

#[tokio::test]
async fn assume_ready_after_stretches_the_estimate() {
    let args = ["--full", "-o", "json"];
    let fast = json(&plan("foo-v2.yaml", "state-3-nodes.yaml", &args).await.out);
    let slow_args = ["--full", "-o", "json", "--assume-ready-after", "2m"];
    let slow = json(
        &plan("foo-v2.yaml", "state-3-nodes.yaml", &slow_args)
            .await
            .out,
    );
    let secs = |r: &PlanReport| r.simulation.as_ref().map(|s| s.estimated_duration_seconds);
    assert!(
        secs(&slow) > secs(&fast),
        "{:?} vs {:?}",
        secs(&slow),
        secs(&fast)
    );
}

#[tokio::test]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    let (file, state) = (fixture("foo-v2.yaml"), fixture("state-3-nodes.yaml"));
    let args = ["-f", &file, "--state", &state, "--now", NOW];
    let tty = run_on(&args, true).await;
    assert!(
        tty.out.contains("\x1b[32m+      - image: app:v2\x1b[0m"),
        "{}",
        tty.out
    );
    let pipe = run_on(&args, false).await;
    assert!(!pipe.out.contains('\x1b'));
    let mut no_color = args.to_vec();
    no_color.push("--no-color");
    assert!(!run_on(&no_color, true).await.out.contains('\x1b'));
    // Colour aside, the text is the same.
    let stripped = tty.out.replace("\x1b[32m", "").replace("\x1b[31m", "");
    let stripped = stripped
        .replace("\x1b[36m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, pipe.out);
}

#[test]
fn help_is_documentation() {
    use clap::CommandFactory;
    let help = support::Cmd::command().render_long_help().to_string();
    insta::assert_snapshot!("help", help);
}

/// `kubectl eds` has global `--kubeconfig`, `--context` and `-n`; `PlanArgs` nests under it as
/// the `plan` verb, and flags given after the verb reach `PlanArgs`.
#[test]
fn plan_args_nest_under_a_cli_with_global_client_flags() {
    use clap::{CommandFactory, Parser, Subcommand};
    use eds::cli::PlanArgs;

    #[derive(Parser, Debug)]
    struct Outer {
        #[arg(long, global = true)]
        kubeconfig: Option<String>,
        #[arg(long, global = true)]
        context: Option<String>,
        #[arg(short = 'n', long, global = true)]
        namespace: Option<String>,
        #[command(subcommand)]
        command: Verb,
    }
    #[derive(Subcommand, Debug)]
    enum Verb {
        Plan(PlanArgs),
    }
    Outer::command().debug_assert();
    let after = Outer::try_parse_from([
        "kubectl-eds",
        "plan",
        "-f",
        "a.yaml",
        "-n",
        "ns",
        "--context",
        "c",
    ])
    .expect("flags after the verb");
    let Verb::Plan(args) = after.command;
    assert_eq!(args.namespace.as_deref(), Some("ns"));
    assert_eq!(args.context.as_deref(), Some("c"));
    // Before the verb, the flag is the outer one: the caller passes it on.
    let before = Outer::try_parse_from(["kubectl-eds", "-n", "ns", "plan", "-f", "a.yaml"])
        .expect("flags before the verb");
    assert_eq!(before.namespace.as_deref(), Some("ns"));
}
