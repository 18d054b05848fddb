//! `diff <eds>`: a unified diff of the active and the canary pod templates.
//!
//! Upstream ran the system `diff -y` on temporary files; this prints a unified diff of the two
//! templates as YAML, coloured on a terminal.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::{Api, Client};
use similar::TextDiff;

use super::{
    client::get_eds,
    error::{Error, ObjectRef, Result, is_not_found},
    output::to_yaml,
    pods::canary_ers,
};
use eds_api::ExtendedDaemonSetReplicaSet;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Unified diff (3 lines of context) from the active template to the canary template, with
/// ANSI colours when `color`. Says so when they are the same.
pub fn template_diff(
    active: (&str, &PodTemplateSpec),
    canary: (&str, &PodTemplateSpec),
    color: bool,
) -> Result<String> {
    let (old, new) = (to_yaml(active.1)?, to_yaml(canary.1)?);
    if old == new {
        return Ok(format!(
            "No difference between the templates of {} (active) and {} (canary).\n",
            active.0, canary.0
        ));
    }
    let diff = TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{} (active)", active.0),
            &format!("{} (canary)", canary.0),
        )
        .to_string();
    if !color {
        return Ok(text);
    }
    Ok(text.lines().map(colorize).collect())
}

/// Colours one line of a unified diff and ends it.
fn colorize(line: &str) -> String {
    let style = if line.starts_with("---") || line.starts_with("+++") {
        BOLD
    } else if line.starts_with("@@") {
        CYAN
    } else if line.starts_with('+') {
        GREEN
    } else if line.starts_with('-') {
        RED
    } else {
        return format!("{line}\n");
    };
    format!("{style}{line}{RESET}\n")
}

/// Runs `diff`: reads the ExtendedDaemonSet and its active and canary replica sets. Returns the
/// text, and whether the templates differ (exit 1, as `kubectl diff`).
pub async fn diff(
    client: &Client,
    namespace: &str,
    name: &str,
    color: bool,
) -> Result<(String, bool)> {
    let eds = get_eds(client, namespace, name).await?;
    let canary = canary_ers(&eds)?;
    let active = eds
        .status
        .as_ref()
        .map(|s| s.active_replica_set.clone())
        .unwrap_or_default();
    let api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), namespace);
    let read = |ers: String| {
        let api = api.clone();
        async move {
            match api.get(&ers).await {
                Ok(obj) => Ok(obj),
                Err(e) if is_not_found(&e) => Err(Error::NoSuchErs(ObjectRef::new(namespace, ers))),
                Err(e) => Err(Error::api(
                    format!("cannot read ExtendedDaemonSetReplicaSet {namespace}/{ers}"),
                    e,
                )),
            }
        }
    };
    let active_ers = read(active.clone()).await?;
    let canary_ers = read(canary.clone()).await?;
    let differ = to_yaml(&active_ers.spec.template)? != to_yaml(&canary_ers.spec.template)?;
    let text = template_diff(
        (&active, &active_ers.spec.template),
        (&canary, &canary_ers.spec.template),
        color,
    )?;
    Ok((text, differ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(testing::template(image)).unwrap()
    }

    #[test]
    fn image_change_is_one_hunk() {
        let out = template_diff(
            ("foo-8z7lr", &template("registry.k8s.io/pause:3.0")),
            ("foo-xdj4b", &template("registry.k8s.io/pause:3.1")),
            false,
        )
        .unwrap();
        insta::assert_snapshot!(out);
    }

    #[test]
    fn colours_only_when_asked() {
        let args = (("a", &template("x:1")), ("b", &template("x:2")));
        let plain = template_diff(args.0, args.1, false).unwrap();
        let coloured = template_diff(args.0, args.1, true).unwrap();
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains(&format!("{GREEN}+")), "{coloured}");
        assert!(coloured.contains(&format!("{RED}-")), "{coloured}");
    }

    #[test]
    fn same_templates_say_so() {
        let t = template("x:1");
        let out = template_diff(("a", &t), ("b", &t), false).unwrap();
        assert_eq!(
            out,
            "No difference between the templates of a (active) and b (canary).\n"
        );
    }
}
