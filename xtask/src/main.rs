//! Project tasks: `cargo xtask <task>`.
//!
//! - `gen [--check]`: writes the CRDs, the Helm chart, the kustomize tree and the
//!   krew-release-bot template `.krew.yaml` from the Rust types; with `--check`, writes nothing
//!   and fails naming the stale files.
//! - `gen-crds [--check]`: the same for `crds/` only.
//! - `krew --checksums <file> [--version X.Y.Z] [-o <file>]`: the krew manifest of a release,
//!   with each archive's sha256 read from a `sha256sum` file.
//! - `install`: applies the CRDs to the current kubectl context (`make install` upstream).
//! - `deploy [--cluster-wide]`: applies the CRDs and the controller (`make deploy` upstream);
//!   `IMG=<repository>:<tag>` deploys another image.
//! - `image [--arch amd64|arm64] [--binary <eds>] [-o <file>] [--check]`: the controller
//!   image as an `oci-archive` tarball, without Docker; `--check` inspects it with skopeo and
//!   umoci and runs the unpacked binary.
//! - `ci`: fmt check, clippy, `gen --check`, every test, and `image --check`.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use eds_deploy::{self as deploy, krew, kustomize, values::IMAGE_REPOSITORY};

mod image;

// The tests build the same venv when run without `cargo xtask ci`; one file serves both.
#[path = "../../crates/eds-deploy/tests/gen_support/venv.rs"]
#[allow(dead_code)]
mod venv;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  gen [--check]             write crds/, charts/extendeddaemonset/, kustomize/ and .krew.yaml
                            (--check: fail if stale)
  gen-crds [--check]        write crds/ only
  krew --checksums <file> [--version X.Y.Z] [-o <file>]
                            print the krew manifest of a release (default version: Cargo.toml's),
                            sha256 of each kubectl-eds archive read from a sha256sum file
  install                   kubectl apply --server-side --force-conflicts -k kustomize/crd
  deploy [--cluster-wide]   the same with kustomize/overlays/<namespaced|cluster-wide>
                            (IMG=<repository>:<tag> deploys that image)
  image [--arch amd64|arm64] [--binary <eds>] [-o <file>] [--check]
                            build a static eds and its OCI image, written as an oci-archive
                            (default target/image/extendeddaemonset-<version>-linux-<arch>.oci.tar);
                            --check: rebuild it to compare digests, inspect it with skopeo,
                            unpack it with umoci and run the unpacked eds
  ci                        cargo fmt --check, clippy -D warnings, gen --check, all tests,
                            image --check (needs skopeo and umoci)";

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a subdirectory of the project")
        .to_path_buf()
}

fn main() -> std::process::ExitCode {
    match run_task() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_task() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen"] => generate(false, false),
        ["gen", "--check"] => generate(false, true),
        ["gen-crds"] => generate(true, false),
        ["gen-crds", "--check"] => generate(true, true),
        ["install"] => apply(&project_root().join(kustomize::DIR).join("crd")),
        ["deploy"] => deploy(kustomize::OVERLAYS[0]),
        ["deploy", "--cluster-wide"] => deploy(kustomize::OVERLAYS[1]),
        ["ci"] => ci(),
        ["krew", options @ ..] => krew_manifest(options),
        ["image", options @ ..] => image::task(options),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("unknown task {args:?}\n\n{USAGE}"),
    }
}

fn generate(crds_only: bool, check: bool) -> Result<()> {
    let root = project_root();
    let (files, dirs) = if crds_only {
        (deploy::crd_files()?, vec![deploy::CRDS_DIR])
    } else {
        (deploy::all_files()?, deploy::GENERATED_DIRS.to_vec())
    };
    if check {
        let stale = deploy::files::stale(&root, &files, &dirs)?;
        if stale.is_empty() {
            println!("generated files are up to date");
            return Ok(());
        }
        for s in &stale {
            eprintln!("stale: {s}");
        }
        bail!(
            "{} generated file(s) are stale; run `cargo xtask gen`",
            stale.len()
        );
    }
    let changes = deploy::files::write(&root, &files, &dirs)?;
    for change in &changes {
        match change {
            deploy::Stale::Missing(path) => println!("created {}", path.display()),
            deploy::Stale::Outdated(path) => println!("updated {}", path.display()),
            deploy::Stale::Extra(path) => println!("removed {}", path.display()),
        }
    }
    println!(
        "{} file(s) generated, {} changed",
        files.len(),
        changes.len()
    );
    Ok(())
}

/// `cargo xtask krew`: the manifest of one release, for a pull request to krew-index made by
/// hand (krew-release-bot renders `.krew.yaml` itself).
fn krew_manifest(options: &[&str]) -> Result<()> {
    let (mut checksums, mut version, mut output) = (None, krew::VERSION, None);
    let mut options = options.iter();
    while let Some(&option) = options.next() {
        let value = options
            .next()
            .copied()
            .with_context(|| format!("krew: {option} needs a value\n\n{USAGE}"));
        match option {
            "--checksums" => checksums = Some(value?),
            "--version" => version = value?,
            "-o" | "--output" => output = Some(value?),
            _ => bail!("krew: unknown option {option:?}\n\n{USAGE}"),
        }
    }
    let Some(path) = checksums else {
        bail!("krew: --checksums <file> is required (the sha256sum output of the archives)");
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let checksums = krew::Checksums::parse(&text).with_context(|| format!("in {path}"))?;
    let manifest = krew::release_manifest(version, &checksums)
        .with_context(|| format!("krew manifest of {version} from {path}"))?;
    match output {
        Some(file) => {
            std::fs::write(file, manifest).with_context(|| format!("cannot write {file}"))?;
            eprintln!(
                "wrote {file}: copy it to plugins/{}.yaml of krew-index",
                krew::NAME
            );
        }
        None => print!("{manifest}"),
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<()> {
    eprintln!("$ {command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}

/// `kubectl apply --server-side` of a kustomization; `--force-conflicts` takes over fields
/// another manager set (e.g. CRDs installed by Helm), as an explicit install should.
fn apply(dir: &Path) -> Result<()> {
    run(Command::new("kubectl")
        .args(["apply", "--server-side", "--force-conflicts", "-k"])
        .arg(dir))
}

/// Applies an overlay; with `IMG` set, through a generated kustomization under `target/` that
/// overrides the image (kustomize's `images` field).
fn deploy(overlay: &str) -> Result<()> {
    let root = project_root();
    let overlay = root.join(kustomize::DIR).join("overlays").join(overlay);
    let Ok(image) = std::env::var("IMG") else {
        return apply(&overlay);
    };
    let (name, tag) = match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => bail!("IMG={image:?} must be <repository>:<tag>"),
    };
    // kustomize accepts only relative paths to other kustomizations.
    let dir = root.join("target").join("xtask-deploy");
    let relative = Path::new("../..").join(overlay.strip_prefix(&root)?);
    std::fs::create_dir_all(&dir)?;
    let kustomization = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nimages:\n- name: {IMAGE_REPOSITORY}\n  newName: {name}\n  newTag: \"{tag}\"\n",
        relative.display()
    );
    std::fs::write(dir.join("kustomization.yaml"), kustomization)?;
    apply(&dir)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(project_root());
    command
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `cargo` for the checks of [`ci`]: without incremental compilation, whose caches would double
/// the disk a clean checkout needs (2.4 GB beside 3.6 GB of build outputs) and which a one-off
/// build does not use.
fn ci_cargo() -> Command {
    let mut command = cargo();
    command.env("CARGO_INCREMENTAL", "0");
    command
}

fn ci() -> Result<()> {
    let root = project_root();
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(ci_cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    generate(false, true)?;
    let python = venv::ensure(&root.join("target").join("venv"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("setting up the Helm Python venv")?;
    eprintln!("{}={}", venv::PYTHON_ENV, python.display());
    if has_nextest() {
        run(ci_cargo()
            .args([
                "nextest",
                "run",
                "--workspace",
                "--all-targets",
                "--no-fail-fast",
            ])
            .env(venv::PYTHON_ENV, &python))?;
        run(ci_cargo()
            .args(["test", "--workspace", "--doc"])
            .env(venv::PYTHON_ENV, &python))?;
    } else {
        run(ci_cargo()
            .args(["test", "--workspace", "--all-targets"])
            .env(venv::PYTHON_ENV, &python))?;
        run(ci_cargo()
            .args(["test", "--workspace", "--doc"])
            .env(venv::PYTHON_ENV, &python))?;
    }
    // The release build of `eds` happens once, here; `--check` packs it twice and runs it.
    image::task(&["--check"])?;
    println!("ci: all checks passed");
    Ok(())
}
