//! Aligned text tables (the per-node table, the waves), the budget line and small formatters.

use super::report::{Action, BudgetReport};

/// Columns separated by at least this many spaces.
const GAP: usize = 2;

/// Formats rows under a header, every column but the last padded to its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + GAP;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The per-node table: NODE, CURRENT, TARGET, ACTION, WAVE, REASON; with a simulated rollout
/// (`--full`), also AT, the simulated time of the node's wave.
pub fn node_table(actions: &[Action]) -> String {
    let timed = actions.iter().any(|a| a.planned_at.is_some());
    let rows: Vec<Vec<String>> = actions
        .iter()
        .map(|a| {
            let mut row = vec![
                a.node.clone(),
                dash(a.current_revision.as_deref()),
                dash(a.target_revision.as_deref()),
                a.action.as_str().to_string(),
                a.wave.map_or_else(|| "-".to_string(), |w| w.to_string()),
            ];
            if timed {
                row.push(
                    a.planned_at
                        .as_deref()
                        .map_or_else(|| "-".to_string(), clock),
                );
            }
            row.push(a.reason.clone());
            row
        })
        .collect();
    let header: &[&str] = if timed {
        &[
            "NODE", "CURRENT", "TARGET", "ACTION", "WAVE", "AT", "REASON",
        ]
    } else {
        &["NODE", "CURRENT", "TARGET", "ACTION", "WAVE", "REASON"]
    };
    table(header, &rows)
}

/// The budget line: desired pods, unavailable now, and what maxUnavailable/maxSurge allow.
pub fn budget_line(b: &BudgetReport) -> String {
    let mut line = format!(
        "Budget: {} desired, {} unavailable now; allowed: {} unavailable (maxUnavailable), {} surge (maxSurge)",
        b.desired, b.unavailable, b.max_unavailable, b.max_surge
    );
    if b.ignored_unresponsive_nodes > 0 {
        line.push_str(&format!(
            "; {} unresponsive node(s) ignored",
            b.ignored_unresponsive_nodes
        ));
    }
    line.push('\n');
    line
}

/// The time of day (UTC) of an RFC 3339 timestamp, for the AT column.
fn clock(at: &str) -> String {
    at.parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%H:%M:%S").to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// `value`, or `-` when absent.
pub fn dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

/// Up to `max` names separated by commas, then `and N more`.
pub fn names(list: &[String], max: usize) -> String {
    if list.len() <= max {
        return list.join(", ");
    }
    format!("{}, and {} more", list[..max].join(", "), list.len() - max)
}

/// Seconds as `1h2m3s`, `10m`, `45s` (`0s` for zero).
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_last_is_not_padded() {
        let t = table(
            &["A", "BB", "C"],
            &[
                vec!["xxx".into(), "y".into(), "z".into()],
                vec!["x".into(), "yyyy".into(), "".into()],
            ],
        );
        assert_eq!(t, "A    BB    C\nxxx  y     z\nx    yyyy\n");
    }

    #[test]
    fn durations_read_like_go() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(600), "10m");
        assert_eq!(duration(3723), "1h2m3s");
    }

    #[test]
    fn long_name_lists_are_cut() {
        let list: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
        assert_eq!(names(&list, 5), "n1, n2, n3, n4, n5");
        assert_eq!(names(&list, 2), "n1, n2, and 3 more");
    }

    #[test]
    fn budget_line_mentions_ignored_nodes_only_when_any() {
        let mut b = BudgetReport {
            desired: 3,
            unavailable: 1,
            max_unavailable: 1,
            max_surge: 0,
            ..BudgetReport::default()
        };
        assert_eq!(
            budget_line(&b),
            "Budget: 3 desired, 1 unavailable now; allowed: 1 unavailable (maxUnavailable), 0 surge (maxSurge)\n"
        );
        b.ignored_unresponsive_nodes = 2;
        assert!(budget_line(&b).contains("; 2 unresponsive node(s) ignored"));
    }
}
