//! The checks krew-index makes of a plugin manifest, on its YAML parsed as JSON values.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

/// The string at JSON `pointer`, or "" when absent.
pub fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The checks of krew's `ValidatePlugin` (krew-index runs them on every pull request) for a
/// manifest stored as `plugins/<file_name>.yaml`, plus the index's rule of one platform per
/// selector.
pub fn krew_validate(file_name: &str, plugin: &Value) -> Result<(), String> {
    let safe_name = Regex::new(r"^[\w-]+$").unwrap();
    let semver = Regex::new(
        r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$",
    )
    .unwrap();
    let sha256 = Regex::new(r"^[a-f0-9]{64}$").unwrap();
    if text(plugin, "/apiVersion") != "krew.googlecontainertools.github.com/v1alpha2"
        || text(plugin, "/kind") != "Plugin"
    {
        return Err("apiVersion or kind".into());
    }
    let name = text(plugin, "/metadata/name");
    if !safe_name.is_match(file_name) || name != file_name {
        return Err(format!("name {name:?} for file {file_name:?}"));
    }
    let short = text(plugin, "/spec/shortDescription");
    if short.is_empty() || short.contains(['\r', '\n']) {
        return Err(format!("shortDescription {short:?}"));
    }
    if text(plugin, "/spec/description").trim().is_empty() {
        return Err("description is empty".into());
    }
    let version = text(plugin, "/spec/version");
    if !semver.is_match(version) {
        return Err(format!("version {version:?} is not v<semver>"));
    }
    let platforms = plugin["spec"]["platforms"].as_array().cloned();
    let platforms = platforms.filter(|p| !p.is_empty()).ok_or("no platforms")?;
    let mut selectors = BTreeSet::new();
    for platform in &platforms {
        if text(platform, "/uri").is_empty() {
            return Err(format!("uri missing in {platform}"));
        }
        if !sha256.is_match(text(platform, "/sha256")) {
            return Err(format!("sha256 invalid in {platform}"));
        }
        if text(platform, "/bin").is_empty() {
            return Err(format!("bin missing in {platform}"));
        }
        for op in platform["files"].as_array().into_iter().flatten() {
            if text(op, "/from").is_empty() || text(op, "/to").is_empty() {
                return Err(format!("files entry {op} needs from and to"));
            }
        }
        let labels = platform["selector"]["matchLabels"].as_object();
        let labels = labels.filter(|l| !l.is_empty()).ok_or("empty selector")?;
        if labels.keys().any(|k| k != "os" && k != "arch") {
            return Err(format!("selector keys {labels:?}: only os and arch"));
        }
        if !selectors.insert(Value::Object(labels.clone()).to_string()) {
            return Err(format!("two platforms for selector {labels:?}"));
        }
    }
    Ok(())
}
