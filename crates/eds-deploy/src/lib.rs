//! Deployment artefacts generated from the Rust types: CRDs, the Helm chart, kustomize and the
//! krew-release-bot template of the kubectl plugin.
//!
//! Generation is pure: functions return the files as `(path, contents)` pairs, which
//! [`files`] compares with the checked-in copies (`cargo xtask gen --check`, the `gen_is_fresh`
//! test) or writes (`cargo xtask gen`). What the chart and kustomize share (RBAC rules, the
//! manager Deployment, the CRDs) is built once, with k8s-openapi types, and serialized into
//! both.

pub mod argocd;
pub mod chart;
pub mod crds;
pub mod files;
pub mod helm;
pub mod krew;
pub mod kustomize;
pub mod manager;
pub mod rbac;
pub mod values;
mod yaml;

pub use files::Stale;
pub use yaml::HEADER;

use std::path::{Path, PathBuf};

/// Directory of the plain CRD files, relative to the repository root.
pub const CRDS_DIR: &str = "crds";

/// Directories holding only generated files (anything else in them is removed by `gen`).
/// Generated files outside them, such as [`krew::TEMPLATE_PATH`] at the repository root, are
/// compared one by one; their directory is never scanned for extra files.
pub const GENERATED_DIRS: [&str; 3] = [CRDS_DIR, chart::DIR, kustomize::DIR];

/// The files of `cargo xtask gen-crds`: `crds/*.yaml`.
pub fn crd_files() -> Result<Vec<(PathBuf, String)>, Error> {
    Ok(crds::files()?
        .into_iter()
        .map(|(name, text)| (Path::new(CRDS_DIR).join(name), text))
        .collect())
}

/// Every generated file, with paths relative to the repository root: the CRDs, the chart, the
/// kustomize tree, `.krew.yaml` and `argocd/argocd-cm.yaml`.
pub fn all_files() -> Result<Vec<(PathBuf, String)>, Error> {
    let mut files = crd_files()?;
    files.extend(chart::files()?);
    files.extend(kustomize::files()?);
    files.extend(krew::files()?);
    files.extend(argocd::files()?);
    Ok(files)
}

/// The generated files that differ from the tree under `root`.
pub fn stale(root: &Path) -> Result<Vec<Stale>, Error> {
    files::stale(root, &all_files()?, &GENERATED_DIRS)
}

/// Why generating a file failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value could not be serialized to YAML.
    #[error("cannot serialize {what} to YAML: {source}")]
    Serialize {
        /// Type being serialized.
        what: String,
        /// Serializer error.
        source: serde_saphyr::SerializeError,
    },
    /// A file could not be read, written or removed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A Helm insertion point does not fit the object it is applied to.
    #[error("cannot insert a Helm expression at {pointer}: {reason}")]
    Template {
        /// JSON pointer of the insertion.
        pointer: String,
        /// What is wrong.
        reason: String,
    },
}
