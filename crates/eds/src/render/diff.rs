//! Unified diffs of YAML texts, and their colouring for a terminal.

use similar::TextDiff;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// ANSI escape sequences used on a terminal.
pub mod ansi {
    /// Removed lines.
    pub const RED: &str = "\x1b[31m";
    /// Added lines.
    pub const GREEN: &str = "\x1b[32m";
    /// Hunk headers.
    pub const CYAN: &str = "\x1b[36m";
    /// File headers and section titles.
    pub const BOLD: &str = "\x1b[1m";
    /// Back to normal.
    pub const RESET: &str = "\x1b[0m";
}

/// The unified diff of `old` and `new` (empty when they are equal), with `---`/`+++` headers
/// naming the two sides. Each line ends with a newline, even the last line of a text without one.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(old, new);
    let mut out = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .missing_newline_hint(false)
        .header(old_label, new_label)
        .to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Colours a unified diff line by line: headers bold, hunk headers cyan, removals red, additions
/// green, context unchanged.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.lines() {
        let colour = if line.starts_with("---") || line.starts_with("+++") {
            Some(ansi::BOLD)
        } else if line.starts_with("@@") {
            Some(ansi::CYAN)
        } else if line.starts_with('-') {
            Some(ansi::RED)
        } else if line.starts_with('+') {
            Some(ansi::GREEN)
        } else {
            None
        };
        match colour {
            Some(c) => {
                out.push_str(c);
                out.push_str(line);
                out.push_str(ansi::RESET);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a: 1\n", "a: 1\n", "x", "y"), "");
    }

    #[test]
    fn changed_line_is_one_hunk_with_headers() {
        let diff = unified("a: 1\nb: 2\n", "a: 1\nb: 3\n", "old", "new");
        assert_eq!(
            diff,
            "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"
        );
    }

    #[test]
    fn missing_final_newline_still_ends_lines() {
        let diff = unified("a: 1", "a: 2", "old", "new");
        assert!(diff.ends_with("+a: 2\n"), "{diff:?}");
    }

    #[test]
    fn colours_follow_line_kinds() {
        let coloured = colorize("--- old\n+++ new\n@@ -1 +1 @@\n ctx\n-b\n+c\n");
        let lines: Vec<&str> = coloured.lines().collect();
        assert_eq!(lines[0], "\x1b[1m--- old\x1b[0m");
        assert_eq!(lines[2], "\x1b[36m@@ -1 +1 @@\x1b[0m");
        assert_eq!(lines[3], " ctx");
        assert_eq!(lines[4], "\x1b[31m-b\x1b[0m");
        assert_eq!(lines[5], "\x1b[32m+c\x1b[0m");
    }
}
