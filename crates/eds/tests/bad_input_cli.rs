//! The bad-input corpus of the command lines (`tests/bad-input/cli/*.yaml`): `kubectl-eds`
//! arguments, `eds controller` flags and environment, `eds plan` flags. Each case runs the
//! binary as a user would; it must exit non-zero, without a panic, with a message holding every
//! `# expect:` line of the case (the flag or variable, and what is allowed). Nothing here
//! reaches a cluster: every case is refused while the command line is read.

use std::{collections::BTreeMap, process::Command};

use serde::Deserialize;

#[path = "support/corpus.rs"]
mod corpus;

/// One case file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// `eds` or `kubectl-eds`.
    binary: String,
    /// The arguments.
    args: Vec<String>,
    /// Environment variables set for the run.
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// Variables that change what the binaries read; removed so the cases do not depend on the
/// environment of the test run.
const CLEARED: [&str; 7] = [
    "RUST_LOG",
    "WATCH_NAMESPACE",
    "EDS_VALIDATION_MODE",
    "POD_NAMESPACE",
    "POD_NAME",
    "KUBERNETES_SERVICE_HOST",
    "NO_COLOR",
];

fn binary(name: &str) -> &'static str {
    match name {
        "eds" => env!("CARGO_BIN_EXE_eds"),
        "kubectl-eds" => env!("CARGO_BIN_EXE_kubectl-eds"),
        other => panic!("unknown binary {other:?}"),
    }
}

#[test]
fn every_bad_command_line_is_refused_naming_the_flag_and_what_is_allowed() {
    let files = corpus::read("cli");
    assert!(files.len() >= 20, "{} command-line cases", files.len());
    let mut wrong = Vec::new();
    for corpus::CaseFile { file, text, expect } in &files {
        let case: Case =
            serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{file} is not a case: {e}"));
        let mut command = Command::new(binary(&case.binary));
        command.args(&case.args).env("NO_COLOR", "1");
        for var in CLEARED {
            command.env_remove(var);
        }
        // A case wrongly accepted fails fast on the missing kubeconfig instead of finding a
        // cluster.
        command.env("KUBECONFIG", "/nonexistent/eds-bad-input-kubeconfig");
        command.envs(&case.env);
        let out = command.output().expect("running the binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let missing: Vec<&String> = expect
            .iter()
            .filter(|f| !stderr.contains(f.as_str()))
            .collect();
        if out.status.success() || stderr.contains("panicked") || !missing.is_empty() {
            wrong.push(format!(
                "{file}: exit {:?}, lacks {missing:?} in:\n{stderr}",
                out.status.code()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases not refused as expected:\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
}
