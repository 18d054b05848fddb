//! Every committed fuzz corpus file (`fuzz/corpus/<target>/`) through its harness, on stable:
//! the inputs that once crashed the product keep being tried, and the seeds keep the harnesses
//! honest.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let files = corpus(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    for file in files {
        let data = std::fs::read(&file).expect("reading a corpus file");
        eprintln!("{target}: {}", file.display());
        assert!(eds_fuzz::run(target, &data), "unknown target {target}");
    }
}

#[test]
fn crd_admission_corpus() {
    replay("crd_admission");
}

#[test]
fn plan_state_corpus() {
    replay("plan_state");
}

#[test]
fn planner_corpus() {
    replay("planner");
}

#[test]
fn node_overrides_corpus() {
    replay("node_overrides");
}

#[test]
fn every_target_has_a_corpus_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut expected: Vec<&str> = eds_fuzz::TARGETS.to_vec();
    expected.sort();
    assert_eq!(found, expected);
}
