//! Plain-text tables in kubectl's layout: upper-case headers, left-aligned columns separated by
//! three spaces, no borders; and kubectl's short ages (`44s`, `9m21s`, `5h`, `3d4h`).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Space between two columns, as kubectl prints them.
const GAP: usize = 3;

/// A table being built: a header and rows of cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles (printed upper-case).
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            header: header
                .into_iter()
                .map(|h| h.as_ref().to_uppercase())
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells print empty, extra cells are dropped.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    /// Number of rows (the header not counted).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table, one line per row, each line ending in `\n`, without trailing blanks.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                std::iter::once(&self.header[i])
                    .chain(self.rows.iter().map(|r| &r[i]))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for line in std::iter::once(&self.header).chain(self.rows.iter()) {
            let mut text = String::new();
            for (cell, width) in line.iter().zip(&widths) {
                text.push_str(cell);
                let pad = width - cell.chars().count() + GAP;
                text.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Age of an object created at `created`, as kubectl prints it; `<unknown>` without a time.
pub fn age(created: Option<&Time>, now: Timestamp) -> String {
    match created {
        Some(created) => human_duration(now.duration_since(created.0)),
        None => "<unknown>".to_string(),
    }
}

/// kubectl's short human duration: seconds up to 2 minutes, then minutes and seconds up to 10
/// minutes, minutes up to 3 hours, hours and minutes up to 8 hours, hours up to 2 days, days and
/// hours up to 8 days, days up to 2 years, then years (and days up to 8 years).
pub fn human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < 0 {
        // A creation time in the future means clock skew; kubectl shows the same.
        return "<invalid>".to_string();
    }
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    let years = days / 365;
    match () {
        _ if secs < 120 => format!("{secs}s"),
        _ if mins < 10 => match secs % 60 {
            0 => format!("{mins}m"),
            s => format!("{mins}m{s}s"),
        },
        _ if mins < 180 => format!("{mins}m"),
        _ if hours < 8 => match mins % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        },
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 192 => match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        },
        _ if years < 2 => format!("{days}d"),
        _ if years < 8 => match days % 365 {
            0 => format!("{years}y"),
            dd => format!("{years}y{dd}d"),
        },
        _ => format!("{years}y"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_and_lines_trimmed() {
        let mut t = Table::new(["Name", "Status", "Canary RS"]);
        t.row(["foo-8z7lr", "active", ""]);
        t.row(["foo-xdj4b-long", "canary", "x"]);
        assert_eq!(
            t.render(),
            "NAME             STATUS   CANARY RS\n\
             foo-8z7lr        active\n\
             foo-xdj4b-long   canary   x\n"
        );
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn short_rows_are_padded() {
        let mut t = Table::new(["a", "b"]);
        t.row(["1"]);
        assert_eq!(t.render(), "A   B\n1\n");
    }

    #[test]
    fn human_durations_match_kubectl() {
        let cases = [
            (44, "44s"),
            (85, "85s"),
            (120, "2m"),
            (561, "9m21s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600 + 120, "3h2m"),
            (5 * 3600, "5h"),
            (47 * 3600, "47h"),
            (3 * 86_400 + 4 * 3600, "3d4h"),
            (10 * 86_400, "10d"),
            (3 * 365 * 86_400 + 86_400, "3y1d"),
            (9 * 365 * 86_400, "9y"),
            (-5, "<invalid>"),
        ];
        for (secs, want) in cases {
            assert_eq!(
                human_duration(SignedDuration::from_secs(secs)),
                want,
                "{secs}s"
            );
        }
    }

    #[test]
    fn age_without_timestamp_is_unknown() {
        assert_eq!(age(None, Timestamp::UNIX_EPOCH), "<unknown>");
    }
}
