//! Comparing generated files with the tree on disk, and writing them: the one place where
//! `deploy` touches the filesystem, shared by `cargo xtask gen` and the `gen_is_fresh` test.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::Error;

/// A generated file whose copy on disk is not what generation produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// Generated but absent on disk.
    Missing(PathBuf),
    /// On disk with other contents.
    Outdated(PathBuf),
    /// On disk in a generated directory, but no longer generated.
    Extra(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(p) => write!(f, "{} is missing", p.display()),
            Self::Outdated(p) => write!(f, "{} is out of date", p.display()),
            Self::Extra(p) => write!(f, "{} is no longer generated", p.display()),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every file under `dir` (recursively), relative to `root`, sorted.
fn existing(root: &Path, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![root.join(dir)];
    while let Some(current) = pending.pop() {
        let entries = match fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&current, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| io_error(&current, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                found.push(relative.to_path_buf());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Compares `files` (paths relative to `root`) with the disk; `dirs` are the directories that
/// hold only generated files, so anything else in them is [`Stale::Extra`].
pub fn stale(root: &Path, files: &[(PathBuf, String)], dirs: &[&str]) -> Result<Vec<Stale>, Error> {
    let mut found = Vec::new();
    for (path, contents) in files {
        match fs::read_to_string(root.join(path)) {
            Ok(current) if current == *contents => {}
            Ok(_) => found.push(Stale::Outdated(path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found.push(Stale::Missing(path.clone()));
            }
            Err(e) => return Err(io_error(&root.join(path), e)),
        }
    }
    for dir in dirs {
        for path in existing(root, Path::new(dir))? {
            if !files.iter().any(|(p, _)| *p == path) {
                found.push(Stale::Extra(path));
            }
        }
    }
    Ok(found)
}

/// Brings the disk up to date (writes stale files, removes extra ones) and returns what
/// changed.
pub fn write(root: &Path, files: &[(PathBuf, String)], dirs: &[&str]) -> Result<Vec<Stale>, Error> {
    let changes = stale(root, files, dirs)?;
    for change in &changes {
        match change {
            Stale::Missing(path) | Stale::Outdated(path) => {
                let full = root.join(path);
                if let Some(parent) = full.parent() {
                    fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
                }
                let contents = files
                    .iter()
                    .find(|(p, _)| p == path)
                    .map(|(_, c)| c.as_str())
                    .unwrap_or_default();
                fs::write(&full, contents).map_err(|e| io_error(&full, e))?;
            }
            Stale::Extra(path) => {
                let full = root.join(path);
                fs::remove_file(&full).map_err(|e| io_error(&full, e))?;
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_fixes_missing_outdated_and_extra_files() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        fs::create_dir_all(root.join("gen/sub")).unwrap();
        fs::write(root.join("gen/old.yaml"), "old").unwrap();
        fs::write(root.join("gen/sub/a.yaml"), "stale").unwrap();
        let files = vec![
            (PathBuf::from("gen/sub/a.yaml"), "a".to_string()),
            (PathBuf::from("gen/b.yaml"), "b".to_string()),
        ];
        let mut found = stale(root, &files, &["gen"]).unwrap();
        found.sort_by_key(|s| s.to_string());
        assert_eq!(
            found,
            vec![
                Stale::Missing(PathBuf::from("gen/b.yaml")),
                Stale::Extra(PathBuf::from("gen/old.yaml")),
                Stale::Outdated(PathBuf::from("gen/sub/a.yaml")),
            ]
        );
        write(root, &files, &["gen"]).unwrap();
        assert!(stale(root, &files, &["gen"]).unwrap().is_empty());
        assert_eq!(
            fs::read_to_string(root.join("gen/sub/a.yaml")).unwrap(),
            "a"
        );
    }

    #[test]
    fn a_file_outside_the_generated_dirs_is_checked_but_its_siblings_are_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        fs::write(root.join("README.md"), "hand-written").unwrap();
        let files = vec![(PathBuf::from(".tool.yaml"), "v1".to_string())];
        assert_eq!(
            stale(root, &files, &[]).unwrap(),
            vec![Stale::Missing(PathBuf::from(".tool.yaml"))]
        );
        write(root, &files, &[]).unwrap();
        fs::write(root.join(".tool.yaml"), "v0").unwrap();
        assert_eq!(
            stale(root, &files, &[]).unwrap(),
            vec![Stale::Outdated(PathBuf::from(".tool.yaml"))]
        );
        write(root, &files, &[]).unwrap();
        assert!(stale(root, &files, &[]).unwrap().is_empty());
        assert_eq!(fs::read_to_string(root.join(".tool.yaml")).unwrap(), "v1");
        assert!(root.join("README.md").exists());
    }
}
