//! The status contract of `docs/status.md`, checked row by row against statuses the planner
//! writes, with the kstatus result computed by kstatus's rules.

use eds_api::{ExtendedDaemonSet, condition::find, constants::condition_type};
use eds_plan::testing::contract::{SITUATIONS, scenario, situation};

/// One row of the table, by column name.
struct Row(Vec<(String, String)>);

impl Row {
    fn get(&self, column: &str) -> &str {
        self.0
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no column {column:?}"))
    }
}

/// The rows of the first table of `docs/status.md`.
fn contract() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/status.md");
    let doc = std::fs::read_to_string(path).expect("docs/status.md");
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('`', ""))
            .collect()
    };
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with("| Situation"))
        .take_while(|l| l.starts_with('|'));
    let header = cells(lines.next().expect("table header"));
    lines
        .skip(1)
        .map(|l| Row(header.iter().cloned().zip(cells(l)).collect()))
        .collect()
}

/// kstatus's result for a custom resource (sigs.k8s.io/cli-utils/pkg/kstatus/status, the
/// generic rules applied to every CRD): `InProgress` while `observedGeneration` is behind
/// `metadata.generation`, then `InProgress` if `Reconciling` is True, `Failed` if `Stalled` is
/// True, else `Current`.
fn kstatus(eds: &ExtendedDaemonSet) -> &'static str {
    let Some(status) = eds.status.as_ref() else {
        return "Current";
    };
    if let (Some(generation), Some(observed)) =
        (eds.metadata.generation, status.observed_generation)
        && observed < generation
    {
        return "InProgress";
    }
    let holds = |t: &str| find(&status.conditions, t).is_some_and(|c| c.is_true());
    if holds(condition_type::RECONCILING) {
        "InProgress"
    } else if holds(condition_type::STALLED) {
        "Failed"
    } else {
        "Current"
    }
}

/// `True Reason` / `False Reason` / `False`, as the table writes a condition.
fn condition_cell(eds: &ExtendedDaemonSet, type_: &str) -> Option<String> {
    let c = find(&eds.status.as_ref()?.conditions, type_)?;
    Some(match (type_, c.reason.as_deref()) {
        // The table names the reason of the kstatus conditions that hold, and of Ready and
        // Reconciling always (they explain what the rollout waits for).
        (condition_type::STALLED, Some(r)) if c.is_true() => format!("{} {r}", c.status),
        (condition_type::READY | condition_type::RECONCILING, Some(r)) => {
            format!("{} {r}", c.status)
        }
        _ => c.status.clone(),
    })
}

#[test]
fn every_situation_has_a_row_and_every_row_a_situation() {
    let rows: Vec<String> = contract()
        .iter()
        .map(|r| r.get("Situation").to_string())
        .collect();
    assert_eq!(rows, SITUATIONS, "docs/status.md rows");
}

#[test]
fn statuses_the_planner_writes_match_the_contract() {
    for row in contract() {
        let name = row.get("Situation");
        let (eds, before) = situation(name);
        let status = eds.status.clone().expect("status");
        let prev = before.status.clone().unwrap_or_default();
        let expect = |column: &str, actual: Option<String>, kept: Option<String>| {
            let want = match row.get(column) {
                "-" => None,
                "kept" => kept,
                w => Some(w.to_string()),
            };
            // A cell with a description (`pod's reason, e.g. StartError`) is checked on its
            // example; a plain cell must match exactly.
            let ok = match (&want, &actual) {
                (Some(w), Some(a)) if w.contains("e.g.") || w.contains("else") => {
                    w.split([' ', ',', '(', ')']).any(|word| word == a)
                }
                _ => want == actual,
            };
            assert!(
                ok,
                "{name}: {column} is {actual:?}, the contract says {want:?}"
            );
        };
        expect("state", status.state.clone(), prev.state.clone());
        expect("reason", status.reason.clone(), prev.reason.clone());
        for type_ in [
            condition_type::READY,
            condition_type::RECONCILING,
            condition_type::STALLED,
        ] {
            expect(type_, condition_cell(&eds, type_), None);
        }
        let has_canary = eds.spec.strategy.canary.is_some();
        for type_ in [condition_type::CANARY_PAUSED, condition_type::CANARY_FAILED] {
            let actual = condition_cell(&eds, type_);
            if has_canary {
                expect(type_, actual, condition_cell(&before, type_));
            } else {
                assert_eq!(actual, None, "{name}: {type_} without a canary strategy");
            }
        }
        assert_eq!(kstatus(&eds), row.get("kstatus"), "{name}: kstatus");
    }
}

#[test]
fn an_unobserved_generation_is_in_progress_whatever_the_conditions() {
    let (mut eds, _) = situation("done");
    assert_eq!(kstatus(&eds), "Current");
    eds.metadata.generation = eds.metadata.generation.map(|g| g + 1);
    assert_eq!(kstatus(&eds), "InProgress");
}

/// The controller plans without the per-node explanations: in every situation of the contract
/// (an invalid spec among them) its plan is the full plan less `nodes`.
#[test]
fn the_controllers_plan_is_the_plan_without_explanations() {
    for name in SITUATIONS {
        let sc = scenario(name);
        let full = eds_plan::plan(&sc.snapshot, sc.now);
        assert!(
            !full.nodes.is_empty(),
            "{name}: the full plan explains its nodes"
        );
        let changes = eds_plan::plan_changes(&sc.snapshot, sc.now);
        assert_eq!(
            changes,
            eds_plan::Plan {
                nodes: Vec::new(),
                ..full
            },
            "{name}"
        );
    }
}
