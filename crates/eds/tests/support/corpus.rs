//! The bad-input corpus (`tests/bad-input/`): one YAML file per case, whose `# expect:` lines
//! are the message fragments the refusal must hold.

use std::path::Path;

/// One case file, read.
pub struct CaseFile {
    /// The file name (`50-bad-quantity.yaml`).
    pub file: String,
    /// Its whole text, to be read as the case's own YAML.
    pub text: String,
    /// The fragments of its `# expect:` lines, never empty.
    pub expect: Vec<String>,
}

/// The cases of `tests/bad-input/<folder>` (`""` for the top folder), in file-name order.
pub fn read(folder: &str) -> Vec<CaseFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad-input")
        .join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            let expect: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect:"))
                .map(|l| l.trim().to_string())
                .collect();
            assert!(!expect.is_empty(), "{file} has no `# expect:` line");
            CaseFile { file, text, expect }
        })
        .collect()
}
