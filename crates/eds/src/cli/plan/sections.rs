//! The output of a `-f` holding several ExtendedDaemonSets (or other objects beside one): a
//! section per ExtendedDaemonSet, the skipped objects and one summary; in JSON, one
//! `ExtendedDaemonSetPlanList` document.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::{
    PlanStatus,
    args::{OutputFormat, PlanArgs},
    error::PlanError,
    input::Located,
};
use crate::render::{self, API_VERSION, PlanReport, TextOptions};

/// `kind` of the JSON document of several plans.
pub const LIST_KIND: &str = "ExtendedDaemonSetPlanList";

/// The JSON document of several plans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanList {
    /// [`API_VERSION`].
    pub api_version: String,
    /// [`LIST_KIND`].
    pub kind: String,
    /// Whether any plan has changes.
    pub changes: bool,
    /// The plans, in file order.
    pub items: Vec<PlanReport>,
    /// The ExtendedDaemonSets that could not be planned.
    pub errors: Vec<SectionError>,
    /// The objects of other kinds, which `eds plan` does not plan.
    pub skipped: Vec<Skipped>,
}

/// An ExtendedDaemonSet that could not be planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionError {
    /// `metadata.name`.
    pub name: String,
    /// File and document (`eds.yaml: document 2`).
    pub at: String,
    /// Why.
    pub message: String,
}

/// An object of another kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// File and document.
    pub at: String,
}

/// Writes every section and the summary; the status is the worst of the sections'.
pub fn write(
    args: &PlanArgs,
    sections: &[(&Located, Result<PlanReport, PlanError>)],
    skipped: &[Located],
    color: bool,
    out: &mut impl Write,
) -> Result<PlanStatus, PlanError> {
    let errors: Vec<SectionError> = sections
        .iter()
        .filter_map(|(at, r)| {
            r.as_ref().err().map(|e| SectionError {
                name: at.name().to_string(),
                at: at.at.to_string(),
                message: e.to_string(),
            })
        })
        .collect();
    let items: Vec<&PlanReport> = sections
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    let skipped: Vec<Skipped> = skipped
        .iter()
        .map(|o| Skipped {
            api_version: o.api_version().to_string(),
            kind: o.kind().to_string(),
            name: o.name().to_string(),
            at: o.at.to_string(),
        })
        .collect();
    let changes = items.iter().any(|r| r.changes);
    match args.output {
        OutputFormat::Json => {
            let list = PlanList {
                api_version: API_VERSION.into(),
                kind: LIST_KIND.into(),
                changes,
                items: items.iter().map(|r| (*r).clone()).collect(),
                errors: errors.clone(),
                skipped: skipped.clone(),
            };
            let text = serde_json::to_string_pretty(&list)
                .map_err(|e| PlanError::Serialize(e.to_string()))?;
            writeln!(out, "{text}")?;
        }
        OutputFormat::Text => {
            let options = TextOptions {
                color,
                ..TextOptions::default()
            };
            for (located, result) in sections {
                let title = format!(
                    "=== ExtendedDaemonSet {} ({}) ===",
                    located.name(),
                    located.at
                );
                writeln!(out, "{title}")?;
                match result {
                    Ok(report) => out.write_all(render::text(report, options).as_bytes())?,
                    Err(e) => writeln!(out, "error: {e}")?,
                }
                writeln!(out)?;
            }
            for s in &skipped {
                writeln!(
                    out,
                    "Skipped {} {:?} ({}): not an ExtendedDaemonSet",
                    s.kind, s.name, s.at
                )?;
            }
            let with = items.iter().filter(|r| r.changes).count();
            writeln!(
                out,
                "Summary: {} ExtendedDaemonSet{}: {with} with changes, {} without, {} failed; {} other object{} skipped.",
                sections.len(),
                plural(sections.len()),
                items.len() - with,
                errors.len(),
                skipped.len(),
                plural(skipped.len()),
            )?;
        }
    }
    out.flush()?;
    Ok(if !errors.is_empty() {
        PlanStatus::SomeFailed
    } else if changes {
        PlanStatus::Changes
    } else {
        PlanStatus::NoChanges
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
