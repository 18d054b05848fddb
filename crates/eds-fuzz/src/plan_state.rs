//! Arbitrary bytes as the files `eds plan` reads: the `--state` file (planned against a fixed
//! proposed ExtendedDaemonSet) and the `-f` file (planned against a fixed state, server-side,
//! with `--full` so the rollout simulation runs too). Errors are the expected outcome of most
//! inputs; only a panic or a hang is a finding.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};

use eds::cli::plan::{OutputFormat, PlanArgs, run_with};

/// The proposed ExtendedDaemonSet planned against a fuzzed state.
const PROPOSED: &str = include_str!("../../eds/tests/fixtures/plan/foo-v2.yaml");
/// The state a fuzzed `-f` is planned against: `foo` converged on three nodes.
const STATE: &str = include_str!("../../eds/tests/fixtures/plan/state-3-nodes.yaml");
/// The time the fixtures were written for.
const NOW: &str = "2024-01-01T01:00:00Z";

/// Runs one input.
pub fn run(data: &[u8]) {
    let files = Scratch::new();
    let fuzzed = files.write("fuzzed.yaml", data);
    let proposed = files.write("proposed.yaml", PROPOSED.as_bytes());
    let state = files.write("state.yaml", STATE.as_bytes());
    plan(args(&proposed, &fuzzed, false));
    plan(args(&fuzzed, &state, true));
}

fn args(filename: &Path, state: &Path, variant: bool) -> PlanArgs {
    PlanArgs {
        filename: Some(filename.to_path_buf()),
        state: Some(state.to_path_buf()),
        dump_state: false,
        name: None,
        kubeconfig: None,
        context: None,
        namespace: None,
        output: if variant {
            OutputFormat::Json
        } else {
            OutputFormat::Text
        },
        no_color: true,
        full: variant,
        assume_ready_after: "10s".parse().expect("valid duration"),
        server_side: variant,
        field_manager: "kubectl".into(),
        force_conflicts: variant,
        now: Some(NOW.parse().expect("valid time")),
    }
}

/// Plans (offline: nothing here awaits I/O, so the future completes on first poll) and
/// renders the error, as the binary would print it.
fn plan(args: PlanArgs) {
    let mut out = Vec::new();
    if let Err(e) = futures::executor::block_on(run_with(args, &mut out, false)) {
        let _ = e.to_string();
        let _ = e.exit_code();
    }
}

/// A directory of its own per call, removed on drop (the replay test runs harnesses in
/// parallel).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eds-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("creating a scratch directory");
        Self(dir)
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, data).expect("writing a scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
