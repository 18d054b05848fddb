//! The krew `Plugin` manifest (`krew.googlecontainertools.github.com/v1alpha2`), the fields
//! krew-index reads, in the order its manifests are conventionally written.
//!
//! The types also deserialize, with unknown fields rejected, so a test can read a rendered
//! manifest back and compare it field by field.

use serde::{Deserialize, Serialize};

/// apiVersion of krew plugin manifests.
pub const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// kind of krew plugin manifests.
pub const KIND: &str = "Plugin";

/// A krew plugin manifest, as stored in krew-index under `plugins/<name>.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugin {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    /// Holds the plugin name, which krew-index requires to match the file name.
    pub metadata: Metadata,
    /// Version, texts and per-platform downloads.
    pub spec: Spec,
}

/// The manifest's metadata: only the name matters to krew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Name of the plugin: `kubectl krew install <name>`.
    pub name: String,
}

/// What krew shows about the plugin and where it downloads it from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// The release tag: a semantic version with a `v` prefix (krew rejects anything else).
    pub version: String,
    /// Project page; krew-release-bot also uses it to check who may update the manifest.
    pub homepage: String,
    /// One line for `kubectl krew search`.
    pub short_description: String,
    /// Longer text for `kubectl krew info`.
    pub description: String,
    /// Printed after installation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caveats: Option<String>,
    /// One download per supported os/arch.
    pub platforms: Vec<Platform>,
}

/// The archive of one os/arch and how to install from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Which machines this entry serves.
    pub selector: Selector,
    /// Download URL of the archive.
    pub uri: String,
    /// sha256 of the archive, 64 lowercase hex digits.
    pub sha256: String,
    /// Path of the executable inside the installed files.
    pub bin: String,
    /// Files copied out of the archive.
    pub files: Vec<FileOperation>,
}

/// A platform selector; krew only knows the `os` and `arch` labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    /// The labels a machine must have.
    pub match_labels: MatchLabels,
}

/// krew's platform labels: Go's `GOOS` and `GOARCH` of the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchLabels {
    /// `linux`, `darwin` or `windows`.
    pub os: String,
    /// `amd64` or `arm64`.
    pub arch: String,
}

/// A glob of files in the archive and where they go in the installation directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOperation {
    /// Glob, relative to the archive root.
    pub from: String,
    /// Destination directory, relative to the installation directory.
    pub to: String,
}
