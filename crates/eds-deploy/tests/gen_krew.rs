//! The krew manifest of `kubectl eds`: the release manifest built from a `sha256sum` file has
//! every platform with the right archive, digest and executable and passes the checks of krew's
//! validator; the committed `.krew.yaml`, rendered the way krew-release-bot renders it, is that
//! same manifest.

#[path = "gen_krew/validate.rs"]
mod validate;

use eds_deploy::krew::{self, Checksums, Error};
use regex::Regex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use validate::{krew_validate, text};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// (os, arch, archive suffix, executable) of every release platform, written out here rather
/// than taken from the library so a wrong table there shows.
const PLATFORMS: [(&str, &str, &str, &str); 5] = [
    ("linux", "amd64", "linux_amd64.tar.gz", "kubectl-eds"),
    ("linux", "arm64", "linux_arm64.tar.gz", "kubectl-eds"),
    ("darwin", "amd64", "darwin_amd64.tar.gz", "kubectl-eds"),
    ("darwin", "arm64", "darwin_arm64.tar.gz", "kubectl-eds"),
    ("windows", "amd64", "windows_amd64.zip", "kubectl-eds.exe"),
];

fn archive(version: &str, suffix: &str) -> String {
    format!("kubectl-eds_v{version}_{suffix}")
}

/// A distinct, valid digest per archive: the sha256 of its name.
fn digest_of(archive: &str) -> String {
    let hash = Sha256::digest(archive.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256sum` output for the archives of `version`, one of them in binary mode.
fn checksums_text(version: &str) -> String {
    let mut text = String::new();
    for (index, (_, _, suffix, _)) in PLATFORMS.iter().enumerate() {
        let name = archive(version, suffix);
        let mode = if index == 2 { "*" } else { " " };
        text.push_str(&format!("{} {mode}{name}\n", digest_of(&name)));
    }
    // Another release asset in the same file is ignored.
    text.push_str(&format!("{}  crds.yaml\n", digest_of("crds.yaml")));
    text
}

fn parse_yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("invalid YAML: {e}\n{text}"))
}

fn release_manifest(version: &str) -> Value {
    let checksums = Checksums::parse(&checksums_text(version)).unwrap();
    parse_yaml(&krew::release_manifest(version, &checksums).unwrap())
}

#[test]
fn release_manifest_has_every_platform_with_its_archive_digest_and_executable() {
    let plugin = release_manifest(VERSION);
    assert_eq!(text(&plugin, "/metadata/name"), "extendeddaemonset");
    assert_eq!(text(&plugin, "/spec/version"), format!("v{VERSION}"));
    assert_eq!(text(&plugin, "/spec/homepage"), REPOSITORY);
    let platforms = plugin["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), PLATFORMS.len());
    for (os, arch, suffix, bin) in PLATFORMS {
        let platform = platforms
            .iter()
            .find(|p| p["selector"] == json!({ "matchLabels": { "os": os, "arch": arch } }))
            .unwrap_or_else(|| panic!("no platform {os}/{arch}"));
        let name = archive(VERSION, suffix);
        let uri = format!("{REPOSITORY}/releases/download/v{VERSION}/{name}");
        assert!(uri.starts_with("https://"), "{uri}");
        assert_eq!(text(platform, "/uri"), uri);
        assert_eq!(text(platform, "/sha256"), digest_of(&name));
        assert_eq!(text(platform, "/bin"), bin);
        assert_eq!(
            platform["files"],
            json!([{ "from": bin, "to": "." }, { "from": "LICENSE", "to": "." }])
        );
    }
}

#[test]
fn release_manifest_passes_krews_validation() {
    let plugin = release_manifest(VERSION);
    krew_validate(krew::NAME, &plugin).unwrap();
    // A pre-release is a valid krew version too.
    krew_validate(krew::NAME, &release_manifest("1.2.0-rc.1")).unwrap();
}

/// A change that makes a manifest invalid.
type Breakage = fn(&mut Value);

#[test]
fn the_validation_catches_what_krew_rejects() {
    let good = release_manifest(VERSION);
    assert!(
        krew_validate("kubectl-eds", &good).is_err(),
        "name of another file"
    );
    let breakages: [(&str, Breakage); 7] = [
        ("no v", |p| p["spec"]["version"] = json!(VERSION)),
        ("upper hex", |p| {
            let sha = text(p, "/spec/platforms/0/sha256").to_uppercase();
            p["spec"]["platforms"][0]["sha256"] = json!(sha);
        }),
        ("no uri", |p| p["spec"]["platforms"][1]["uri"] = json!("")),
        ("no bin", |p| p["spec"]["platforms"][4]["bin"] = json!(null)),
        ("short", |p| p["spec"]["shortDescription"] = json!("a\nb")),
        ("selector twice", |p| {
            p["spec"]["platforms"][1]["selector"] = p["spec"]["platforms"][0]["selector"].clone();
        }),
        ("other label", |p| {
            p["spec"]["platforms"][0]["selector"]["matchLabels"]["libc"] = json!("musl");
        }),
    ];
    for (what, breakage) in breakages {
        let mut plugin = good.clone();
        breakage(&mut plugin);
        assert!(krew_validate(krew::NAME, &plugin).is_err(), "{what} passed");
    }
}

/// What krew-release-bot does to `.krew.yaml` on a release: `{{ .TagName }}` becomes the tag,
/// and each `{{addURIAndSha "<url>" .TagName }}` becomes `uri: <url>` and, four spaces in (the
/// bot's fixed indentation), `sha256: <digest of the downloaded asset>`.
fn render_like_the_bot(template: &str, tag: &str) -> String {
    let call = Regex::new(r#"\{\{addURIAndSha "([^"]+)" \.TagName \}\}"#).unwrap();
    let rendered = call.replace_all(template, |captures: &regex::Captures| {
        let url = captures[1].replace("{{ .TagName }}", tag);
        let name = url.rsplit('/').next().unwrap().to_string();
        format!("uri: {url}\n    sha256: {}", digest_of(&name))
    });
    rendered.replace("{{ .TagName }}", tag)
}

#[test]
fn the_committed_template_renders_to_the_release_manifest() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let template = std::fs::read_to_string(root.join(krew::TEMPLATE_PATH)).unwrap();
    assert_eq!(
        template.matches("{{addURIAndSha").count(),
        PLATFORMS.len(),
        "one addURIAndSha per platform"
    );
    let rendered = render_like_the_bot(&template, &format!("v{VERSION}"));
    assert!(
        !rendered.contains("{{") && !rendered.contains("}}"),
        "a template action the bot would not expand:\n{rendered}"
    );
    assert_eq!(parse_yaml(&rendered), release_manifest(VERSION));
}

#[test]
fn missing_archives_are_named() {
    let text: String = checksums_text(VERSION)
        .lines()
        .filter(|line| !line.contains("windows") && !line.contains("darwin_arm64"))
        .map(|line| format!("{line}\n"))
        .collect();
    let checksums = Checksums::parse(&text).unwrap();
    let error = krew::release_manifest(VERSION, &checksums).unwrap_err();
    let expected = vec![
        archive(VERSION, "darwin_arm64.tar.gz"),
        archive(VERSION, "windows_amd64.zip"),
    ];
    match &error {
        Error::MissingArchives { archives } => assert_eq!(*archives, expected),
        other => panic!("{other}"),
    }
    assert!(error.to_string().contains(&expected[1]), "{error}");
    // The archives of another version do not count.
    let other = Checksums::parse(&checksums_text("9.9.9")).unwrap();
    let error = krew::release_manifest(VERSION, &other).unwrap_err();
    assert!(matches!(&error, Error::MissingArchives { archives } if archives.len() == 5));
}

#[test]
fn malformed_lines_and_bad_digests_are_reported_with_their_line() {
    let mut lines: Vec<String> = checksums_text(VERSION).lines().map(String::from).collect();
    lines[2] = digest_of("x");
    let error = Checksums::parse(&lines.join("\n")).unwrap_err();
    assert!(matches!(error, Error::Malformed { line: 3, .. }), "{error}");
    assert!(
        error.to_string().starts_with("checksums line 3:"),
        "{error}"
    );

    let mut lines: Vec<String> = checksums_text(VERSION).lines().map(String::from).collect();
    lines[1] = lines[1].replacen(|c: char| c.is_ascii_hexdigit(), "z", 1);
    let error = Checksums::parse(&lines.join("\n")).unwrap_err();
    assert!(matches!(error, Error::BadDigest { line: 2, .. }), "{error}");
}

#[test]
fn versions_are_given_without_the_tag_prefix() {
    let checksums = Checksums::parse(&checksums_text(VERSION)).unwrap();
    for version in [
        format!("v{VERSION}"),
        "1.2".into(),
        "01.2.3".into(),
        String::new(),
    ] {
        let error = krew::release_manifest(&version, &checksums).unwrap_err();
        assert!(
            matches!(&error, Error::Version { version: v } if *v == version),
            "{error}"
        );
    }
}

/// The description names every verb of `kubectl eds`, so it cannot fall behind the CLI.
#[test]
fn the_description_names_every_verb() {
    use clap::CommandFactory;
    let description = text(&release_manifest(VERSION), "/spec/description").to_string();
    let cli = eds::plugin::Cli::command();
    let mut missing = Vec::new();
    for verb in cli.get_subcommands().filter(|c| c.get_name() != "help") {
        if !description.contains(&format!("`{}", verb.get_name())) {
            missing.push(verb.get_name().to_string());
        }
        for sub in verb.get_subcommands().filter(|c| c.get_name() != "help") {
            if !description.contains(sub.get_name()) {
                missing.push(format!("{} {}", verb.get_name(), sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "the description omits {missing:?}");
}

#[test]
fn the_template_is_a_generated_file() {
    let files = eds_deploy::all_files().unwrap();
    let template = (
        std::path::PathBuf::from(".krew.yaml"),
        krew::template().unwrap(),
    );
    assert!(
        files.contains(&template),
        "cargo xtask gen writes .krew.yaml"
    );
}
