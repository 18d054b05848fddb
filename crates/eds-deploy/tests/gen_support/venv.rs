//! The Python virtual environment holding `helm-python-sdk` (Helm's Go SDK behind a C ABI),
//! with which the tests lint and render the chart exactly as Helm does.
//!
//! Shared by the tests and `cargo xtask ci` (which includes this file), so both build the
//! environment the same way. Only the standard library is used.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::Command,
};

/// Environment variable naming the venv's Python interpreter; `cargo xtask ci` sets it.
pub const PYTHON_ENV: &str = "EDS_HELM_PYTHON";
/// The PyPI package providing `helm_python`.
pub const PACKAGE: &str = "helm-python-sdk";

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn has_helm(python: &Path) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import helm_python"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Creates (once) the venv at `dir` with `helm-python-sdk` and returns its Python. A lock file
/// beside it keeps concurrent test binaries from building it twice.
pub fn ensure(dir: &Path) -> Result<PathBuf, String> {
    let python = dir.join("bin").join("python");
    if has_helm(&python) {
        return Ok(python);
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let lock_path = dir.with_extension("lock");
    let lock = File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if !has_helm(&python) {
        run(Command::new("python3").arg("-m").arg("venv").arg(dir)).map_err(|e| {
            format!("{e}\ncannot create a Python venv: install python3 and python3-venv (e.g. apt-get install python3-venv)")
        })?;
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", PACKAGE])).map_err(
            |e| {
                format!(
                    "{e}\ncannot install {PACKAGE} from PyPI into {}",
                    dir.display()
                )
            },
        )?;
        if !has_helm(&python) {
            return Err(format!(
                "{PACKAGE} installed but `import helm_python` fails"
            ));
        }
    }
    Ok(python)
}

/// The Python to use: `$EDS_HELM_PYTHON` when set, else the venv under `target/venv` of
/// `project_root` (created when needed).
pub fn python(project_root: &Path) -> Result<PathBuf, String> {
    match std::env::var_os(PYTHON_ENV) {
        Some(path) => {
            let path = PathBuf::from(path);
            if has_helm(&path) {
                Ok(path)
            } else {
                Err(format!(
                    "{PYTHON_ENV}={} cannot import helm_python",
                    path.display()
                ))
            }
        }
        None => ensure(&project_root.join("target").join("venv")),
    }
}
