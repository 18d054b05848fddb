//! `cargo xtask image`: the controller image, built without Docker. Cargo builds a statically
//! linked `eds` (glibc's static libraries through `crt-static`, so no musl toolchain is
//! needed), [`oci`] packs it into a one-layer OCI image and writes the `oci-archive` tarball,
//! and `--check` proves the archive with skopeo and umoci (see [`check`]).
//!
//! Reproducible: file dates and the image date come from `SOURCE_DATE_EPOCH` (default: the
//! date of the HEAD commit), and the build paths are remapped so the binary does not depend on
//! where the checkout lives.

mod check;
mod oci;
mod tarball;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail, ensure};

use crate::{USAGE, cargo, project_root, run};
pub use oci::Metadata;

/// The Rust target of an image architecture.
fn rust_target(arch: &str) -> Result<&'static str> {
    match arch {
        "amd64" => Ok("x86_64-unknown-linux-gnu"),
        "arm64" => Ok("aarch64-unknown-linux-gnu"),
        other => bail!("image: unsupported --arch {other:?}: amd64 or arm64"),
    }
}

/// Options of `cargo xtask image`.
#[derive(Debug, Default)]
struct Options {
    arch: Option<String>,
    binary: Option<PathBuf>,
    output: Option<PathBuf>,
    check: bool,
}

fn parse(options: &[&str]) -> Result<Options> {
    let mut parsed = Options::default();
    let mut options = options.iter();
    while let Some(&option) = options.next() {
        if option == "--check" {
            parsed.check = true;
            continue;
        }
        let value = options
            .next()
            .with_context(|| format!("image: {option} needs a value\n\n{USAGE}"))?;
        match option {
            "--arch" => parsed.arch = Some(value.to_string()),
            "--binary" => parsed.binary = Some(value.into()),
            "-o" | "--output" => parsed.output = Some(value.into()),
            _ => bail!("image: unknown option {option:?}\n\n{USAGE}"),
        }
    }
    Ok(parsed)
}

fn git(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(project_root())
        .output()
        .context("cannot run git")?;
    ensure!(out.status.success(), "git {args:?} failed");
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// `SOURCE_DATE_EPOCH`, or the commit date of HEAD.
fn source_date_epoch() -> Result<u64> {
    let text = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value,
        Err(_) => git(&["log", "-1", "--format=%ct"])?,
    };
    text.parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds"))
}

/// Builds the static `eds` for `target` and returns its path.
fn build_binary(target: &str) -> Result<PathBuf> {
    let root = project_root();
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    let rustflags = format!(
        "-C target-feature=+crt-static --remap-path-prefix={}=/src --remap-path-prefix={}=/cargo",
        root.display(),
        cargo_home.display()
    );
    let variable = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        target.to_uppercase().replace('-', "_")
    );
    // RUSTFLAGS would override the target's flags, and apply to build scripts too.
    run(cargo()
        .args(["build", "--release", "--locked", "-p", "eds", "--bin", "eds"])
        .args(["--target", target])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env(variable, rustflags))
    .with_context(|| {
        format!("building eds for {target} (is the target installed? `rustup target add {target}`; arm64 also needs a cross linker)")
    })?;
    Ok(root.join("target").join(target).join("release").join("eds"))
}

/// `cargo xtask image [--arch amd64|arm64] [--binary <eds>] [-o <file>] [--check]`.
pub fn task(options: &[&str]) -> Result<()> {
    let options = parse(options)?;
    let arch = options.arch.unwrap_or_else(|| "amd64".to_string());
    let target = rust_target(&arch)?;
    let binary = match options.binary {
        Some(path) => path,
        None => build_binary(target)?,
    };
    let meta = Metadata {
        arch: arch.clone(),
        version: eds_deploy::krew::VERSION.to_string(),
        revision: git(&["rev-parse", "HEAD"])?,
        source: env!("CARGO_PKG_REPOSITORY").to_string(),
        licenses: env!("CARGO_PKG_LICENSE").to_string(),
        epoch: source_date_epoch()?,
    };
    let data =
        std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
    let image = oci::build(data.clone(), &meta)?;
    let dir = project_root().join("target").join("image");
    let output = options.output.unwrap_or_else(|| {
        dir.join(format!(
            "extendeddaemonset-{}-linux-{arch}.oci.tar",
            meta.version
        ))
    });
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&output, &image.archive)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "wrote {} ({} bytes), image digest {}",
        output.display(),
        image.archive.len(),
        image.manifest_digest
    );
    if options.check {
        let again = oci::build(data, &meta)?;
        ensure!(
            again.manifest_digest == image.manifest_digest && again.archive == image.archive,
            "packing the same binary twice gave {} then {}",
            image.manifest_digest,
            again.manifest_digest
        );
        println!(
            "reproducible: a second build gives {}",
            again.manifest_digest
        );
        check::check(&output, &image, &meta, &dir.join(format!("check-{arch}")))?;
    }
    Ok(())
}
