//! Process figures printed by the scale examples: resident memory and CPU time, read from
//! `/proc/self` (Linux; zero elsewhere).

// Each example uses part of this module.
#![allow(dead_code)]

/// Resident memory of the process, in MiB.
pub fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// CPU time of the process so far, user and system, in seconds: on a shared, loaded machine
/// a steadier figure than wall time.
#[derive(Clone, Copy, Default)]
pub struct Cpu {
    pub user: f64,
    pub sys: f64,
}

impl Cpu {
    pub fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may contain spaces) start after the last ')'.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the ')').
        Self {
            user: ticks(11) / 100.0,
            sys: ticks(12) / 100.0,
        }
    }

    pub fn since(self, earlier: Self) -> Self {
        Self {
            user: self.user - earlier.user,
            sys: self.sys - earlier.sys,
        }
    }

    pub fn total(self) -> f64 {
        self.user + self.sys
    }

    pub fn summary(self) -> String {
        format!(
            "{:.2} s (user {:.2} s + sys {:.2} s)",
            self.total(),
            self.user,
            self.sys
        )
    }
}
