//! `cargo xtask image --check`: the archive as users' tools see it. skopeo reads the
//! `oci-archive` (what `skopeo copy` pushes), umoci unpacks it like a container runtime, and
//! the unpacked binary must be static (no ELF interpreter) and run: `eds --version`, `eds crd`
//! and, when run as root, the same inside a chroot of the root filesystem, where there is no
//! libc to fall back on.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use super::oci::{BINARY, DEFAULT_ARG, Image, Metadata, USER};

/// stdout of `command`, failing with its stderr.
fn output(command: &mut Command) -> Result<String> {
    eprintln!("$ {command:?}");
    let out = command.output().with_context(|| {
        format!("cannot run {command:?} (skopeo and umoci: `apt-get install skopeo umoci`)")
    })?;
    if !out.status.success() {
        bail!(
            "{command:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn json(command: &mut Command) -> Result<Value> {
    let text = output(command)?;
    serde_json::from_str(&text).with_context(|| format!("{command:?} printed {text}"))
}

/// The checks skopeo can make: digest, platform, one layer, labels, user and entrypoint.
fn inspect(reference: &str, image: &Image, meta: &Metadata) -> Result<()> {
    let info = json(Command::new("skopeo").args(["inspect", reference]))?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    ensure!(
        info["Digest"] == image.manifest_digest.as_str(),
        "skopeo reports digest {}, the build made {}",
        info["Digest"],
        image.manifest_digest
    );
    ensure!(info["Architecture"] == meta.arch.as_str() && info["Os"] == "linux");
    let layers = info["Layers"].as_array().map_or(0, Vec::len);
    ensure!(layers == 1, "{layers} layers, expected one");
    for (label, value) in [
        ("source", &meta.source),
        ("version", &meta.version),
        ("revision", &meta.revision),
        ("licenses", &meta.licenses),
    ] {
        let key = format!("org.opencontainers.image.{label}");
        ensure!(
            info["Labels"][&key] == value.as_str(),
            "label {key} is {}, expected {value}",
            info["Labels"][&key]
        );
    }
    let config = json(Command::new("skopeo").args(["inspect", "--config", reference]))?;
    let config = &config["config"];
    ensure!(
        config["User"] == format!("{USER}:{USER}").as_str(),
        "user {}",
        config["User"]
    );
    ensure!(config["Entrypoint"] == serde_json::json!([BINARY]));
    ensure!(config["Cmd"] == serde_json::json!([DEFAULT_ARG]));
    Ok(())
}

/// Whether the ELF executable `data` asks for a dynamic loader (a `PT_INTERP` program
/// header): a static binary, static-pie included, has none.
pub fn has_interpreter(data: &[u8]) -> Result<bool> {
    ensure!(
        data.len() > 64 && data.starts_with(b"\x7fELF") && data[4] == 2 && data[5] == 1,
        "not a 64-bit little-endian ELF file"
    );
    let u16_at = |at: usize| u16::from_le_bytes([data[at], data[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[32..40].try_into()?) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let header = data.get(at..at + 4).context("truncated program headers")?;
        if u32::from_le_bytes(header.try_into()?) == 3 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Runs the binary of the unpacked root filesystem, directly and (as root) in a chroot.
fn run_binary(rootfs: &Path, meta: &Metadata) -> Result<()> {
    let binary = rootfs.join(BINARY.trim_start_matches('/'));
    let data = std::fs::read(&binary).with_context(|| format!("{}", binary.display()))?;
    ensure!(
        !has_interpreter(&data)?,
        "{} is dynamically linked (it has an ELF interpreter)",
        binary.display()
    );
    let version = output(Command::new(&binary).arg("--version"))?;
    ensure!(
        version.trim() == format!("eds {}", meta.version),
        "eds --version printed {version:?}"
    );
    let crds = output(Command::new(&binary).arg("crd"))?;
    let count = crds.matches("kind: CustomResourceDefinition").count();
    ensure!(count == 3, "eds crd printed {count} CRDs, expected 3");
    let root = output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if root {
        let version = output(
            Command::new("chroot")
                .arg(rootfs)
                .args([BINARY, "--version"]),
        )?;
        ensure!(version.trim() == format!("eds {}", meta.version));
        println!("chroot {}: {BINARY} --version works", rootfs.display());
    } else {
        println!("not root: skipped running {BINARY} in a chroot of the image");
    }
    Ok(())
}

/// Inspects `archive` with skopeo, unpacks it with umoci under `work`, and runs the binary.
pub fn check(archive: &Path, image: &Image, meta: &Metadata, work: &Path) -> Result<()> {
    let reference = format!("oci-archive:{}:{}", archive.display(), meta.version);
    inspect(&reference, image, meta)?;
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    let layout: PathBuf = work.join("layout");
    std::fs::create_dir_all(&layout)?;
    tar::Archive::new(&image.archive[..]).unpack(&layout)?;
    let bundle = work.join("bundle");
    output(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{}", layout.display(), meta.version))
            .arg(&bundle),
    )?;
    run_binary(&bundle.join("rootfs"), meta)?;
    println!(
        "image checked: {} ({} bytes, layer {} bytes), digest {}",
        archive.display(),
        image.archive.len(),
        image.layer_size,
        image.manifest_digest
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_executable_has_an_interpreter() {
        // The test binary itself is linked dynamically against the system libc.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(has_interpreter(&me).unwrap());
    }

    /// A 64-bit ELF header with one program header of type `p_type`.
    fn elf(p_type: u32) -> Vec<u8> {
        let mut data = vec![0u8; 64 + 56];
        data[..6].copy_from_slice(b"\x7fELF\x02\x01");
        data[32..40].copy_from_slice(&64u64.to_le_bytes());
        data[54..56].copy_from_slice(&56u16.to_le_bytes());
        data[56..58].copy_from_slice(&1u16.to_le_bytes());
        data[64..68].copy_from_slice(&p_type.to_le_bytes());
        data
    }

    #[test]
    fn only_a_pt_interp_header_makes_a_binary_dynamic() {
        assert!(!has_interpreter(&elf(1)).unwrap());
        assert!(has_interpreter(&elf(3)).unwrap());
    }

    #[test]
    fn a_non_elf_file_is_refused() {
        assert!(has_interpreter(b"#!/bin/sh\necho hi\n").is_err());
    }
}
