//! The OCI image of the controller, built in memory: one layer holding the static `eds`, the
//! image configuration (user, entrypoint, labels), the manifest, the index, and the
//! `oci-archive` tarball of that layout, which `skopeo copy oci-archive:...` pushes.
//!
//! The JSON documents are written with sorted keys (oci-spec keeps labels in a `HashMap`,
//! whose order changes from run to run) so that the digests are reproducible.

use std::collections::HashMap;

use anyhow::{Context, Result};
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, DescriptorBuilder, HistoryBuilder, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifestBuilder, MediaType, Os, PlatformBuilder, RootFsBuilder,
    Sha256Digest,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::tarball::{Entry, gzip, tar};

/// Numeric user and group the controller runs as (the "nonroot" user of distroless images);
/// numeric so that the kubelet can enforce `runAsNonRoot`.
pub const USER: u32 = 65532;
/// Where the binary lives in the image, and the entrypoint.
pub const BINARY: &str = "/eds";
/// Default argument of the entrypoint.
pub const DEFAULT_ARG: &str = "controller";

/// What the image says about itself.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// `amd64` or `arm64`.
    pub arch: String,
    /// The release version, also the tag in `index.json`.
    pub version: String,
    /// The git commit the binary was built from.
    pub revision: String,
    /// URL of the source repository.
    pub source: String,
    /// SPDX licence expression.
    pub licenses: String,
    /// `SOURCE_DATE_EPOCH`: the date of every file and of the image.
    pub epoch: u64,
}

/// A built image: the `oci-archive` bytes and the digests that identify it.
#[derive(Clone, Debug)]
pub struct Image {
    /// The tar archive of the OCI image layout.
    pub archive: Vec<u8>,
    /// `sha256:...` of the manifest: the image digest a registry reports after a push.
    pub manifest_digest: String,
    /// Compressed size of the single layer, in bytes.
    pub layer_size: u64,
}

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// `value` as JSON with every object's keys sorted.
fn canonical_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    fn sort(value: Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    Ok(serde_json::to_vec(&sort(serde_json::to_value(value)?))?)
}

fn descriptor(media_type: MediaType, data: &[u8]) -> Result<Descriptor> {
    Ok(DescriptorBuilder::default()
        .media_type(media_type)
        .size(data.len() as u64)
        .digest(sha256_hex(data).parse::<Sha256Digest>()?)
        .build()?)
}

/// The files of the single layer: the binary, a passwd and group naming the user, and a
/// world-writable `/tmp`.
fn layer_entries(binary: Vec<u8>) -> Vec<Entry> {
    let passwd = format!(
        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{USER}:{USER}:nonroot:/home/nonroot:/sbin/nologin\n"
    );
    let group = format!("root:x:0:\nnonroot:x:{USER}:\n");
    vec![
        Entry::file(BINARY.trim_start_matches('/'), 0o755, binary),
        Entry::dir("etc", 0o755),
        Entry::file("etc/passwd", 0o644, passwd.into_bytes()),
        Entry::file("etc/group", 0o644, group.into_bytes()),
        Entry::dir("home", 0o755),
        Entry::dir("home/nonroot", 0o700),
        Entry::dir("tmp", 0o1777),
    ]
}

fn arch(name: &str) -> Result<Arch> {
    match name {
        "amd64" => Ok(Arch::Amd64),
        "arm64" => Ok(Arch::ARM64),
        other => anyhow::bail!("unsupported architecture {other:?}: amd64 or arm64"),
    }
}

/// The OCI labels and annotations (`org.opencontainers.image.*`).
fn labels(meta: &Metadata, created: &str) -> HashMap<String, String> {
    [
        ("created", created),
        ("source", &meta.source),
        ("url", &meta.source),
        ("version", &meta.version),
        ("revision", &meta.revision),
        ("licenses", &meta.licenses),
        ("title", "extendeddaemonset"),
        (
            "description",
            "ExtendedDaemonSet controller: canary deployments and a careful rolling update for node daemons",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (format!("org.opencontainers.image.{k}"), v.to_string()))
    .collect()
}

/// Builds the image of `binary` (a static Linux executable for `meta.arch`).
pub fn build(binary: Vec<u8>, meta: &Metadata) -> Result<Image> {
    let created = jiff::Timestamp::from_second(i64::try_from(meta.epoch)?)
        .context("SOURCE_DATE_EPOCH out of range")?
        .to_string();
    let labels = labels(meta, &created);
    let layer_tar = tar(layer_entries(binary), meta.epoch)?;
    let layer = gzip(&layer_tar)?;
    let config = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(arch(&meta.arch)?)
        .os(Os::Linux)
        .config(
            ConfigBuilder::default()
                .user(format!("{USER}:{USER}"))
                .entrypoint(vec![BINARY.to_string()])
                .cmd(vec![DEFAULT_ARG.to_string()])
                .env(vec!["PATH=/".to_string()])
                .working_dir("/".to_string())
                .labels(labels.clone())
                .build()?,
        )
        .rootfs(
            RootFsBuilder::default()
                .typ("layers".to_string())
                .diff_ids(vec![format!("sha256:{}", sha256_hex(&layer_tar))])
                .build()?,
        )
        .history(vec![
            HistoryBuilder::default()
                .created(created.clone())
                .created_by(format!("cargo xtask image ({BINARY} static binary)"))
                .build()?,
        ])
        .build()?;
    let config = canonical_json(&config)?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(MediaType::ImageConfig, &config)?)
        .layers(vec![descriptor(MediaType::ImageLayerGzip, &layer)?])
        .annotations(labels)
        .build()?;
    let manifest = canonical_json(&manifest)?;
    let mut manifest_descriptor = descriptor(MediaType::ImageManifest, &manifest)?;
    manifest_descriptor.set_platform(Some(
        PlatformBuilder::default()
            .architecture(arch(&meta.arch)?)
            .os(Os::Linux)
            .build()?,
    ));
    manifest_descriptor.set_annotations(Some(HashMap::from([(
        "org.opencontainers.image.ref.name".to_string(),
        meta.version.clone(),
    )])));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest_descriptor])
        .build()?;
    let index = canonical_json(&index)?;
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    let layer_size = layer.len() as u64;
    let blob =
        |data: Vec<u8>| Entry::file(&format!("blobs/sha256/{}", sha256_hex(&data)), 0o644, data);
    let archive = tar(
        vec![
            Entry::file(
                "oci-layout",
                0o644,
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            Entry::file("index.json", 0o644, index),
            Entry::dir("blobs", 0o755),
            Entry::dir("blobs/sha256", 0o755),
            blob(config),
            blob(manifest),
            blob(layer),
        ],
        meta.epoch,
    )?;
    Ok(Image {
        archive,
        manifest_digest,
        layer_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(epoch: u64) -> Metadata {
        Metadata {
            arch: "amd64".to_string(),
            version: "1.2.3".to_string(),
            revision: "abc".to_string(),
            source: "https://example.com/eds".to_string(),
            licenses: "Apache-2.0".to_string(),
            epoch,
        }
    }

    fn file(archive: &[u8], path: &str) -> Vec<u8> {
        let mut archive = tar::Archive::new(archive);
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_str() == Some(path) {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut out).unwrap();
                return out;
            }
        }
        panic!("{path} not in the archive");
    }

    fn blob(archive: &[u8], digest: &str) -> Value {
        let hex = digest.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&file(archive, &format!("blobs/sha256/{hex}"))).unwrap()
    }

    #[test]
    fn building_twice_gives_the_same_digest_and_bytes() {
        let a = build(b"\x7fELF binary".to_vec(), &meta(1_700_000_000)).unwrap();
        let b = build(b"\x7fELF binary".to_vec(), &meta(1_700_000_000)).unwrap();
        assert_eq!(a.manifest_digest, b.manifest_digest);
        assert_eq!(a.archive, b.archive);
        let later = build(b"\x7fELF binary".to_vec(), &meta(1_700_000_001)).unwrap();
        assert_ne!(a.manifest_digest, later.manifest_digest);
        let other = build(b"\x7fELF other".to_vec(), &meta(1_700_000_000)).unwrap();
        assert_ne!(a.manifest_digest, other.manifest_digest);
    }

    #[test]
    fn the_layout_names_the_user_entrypoint_labels_and_tag() {
        let image = build(b"bin".to_vec(), &meta(0)).unwrap();
        let index: Value = serde_json::from_slice(&file(&image.archive, "index.json")).unwrap();
        let entry = &index["manifests"][0];
        assert_eq!(entry["digest"], image.manifest_digest.as_str());
        assert_eq!(
            entry["annotations"]["org.opencontainers.image.ref.name"],
            "1.2.3"
        );
        let manifest = blob(&image.archive, &image.manifest_digest);
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
        let config = blob(
            &image.archive,
            manifest["config"]["digest"].as_str().unwrap(),
        );
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/eds"]));
        assert_eq!(config["config"]["Cmd"], serde_json::json!(["controller"]));
        let labels = &config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.revision"], "abc");
        assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
        assert_eq!(
            labels["org.opencontainers.image.created"],
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn an_unknown_architecture_is_refused() {
        let mut m = meta(0);
        m.arch = "riscv64".to_string();
        let err = build(b"bin".to_vec(), &m).unwrap_err().to_string();
        assert!(err.contains("riscv64") && err.contains("amd64"), "{err}");
    }
}
