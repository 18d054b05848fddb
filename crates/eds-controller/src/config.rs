//! Controller configuration: command-line flags and the upstream environment variables.

use std::{net::SocketAddr, str::FromStr, time::Duration};

use clap::{Args, ValueEnum};

use eds_api::{ValidationMode, constants::env};

/// Flags of `eds controller`.
#[derive(Args, Clone, Debug)]
pub struct ControllerArgs {
    /// Kubeconfig file; in-cluster configuration or $KUBECONFIG when absent.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Namespaces to watch: empty for all namespaces, `a` or `a,b`.
    #[arg(long, env = env::WATCH_NAMESPACE, default_value = "", value_parser = parse_watch_namespace)]
    pub watch_namespace: String,
    /// Default canary validation mode for ExtendedDaemonSets that do not set one: auto or manual.
    #[arg(long, env = env::VALIDATION_MODE, default_value = "auto", value_parser = parse_validation_mode)]
    pub validation_mode: ValidationMode,
    /// Address of the Prometheus metrics endpoint (`/metrics`).
    #[arg(long, default_value = ":8080", value_parser = parse_addr)]
    pub metrics_addr: SocketAddr,
    /// Address of the health endpoints (`/healthz`, `/readyz`).
    #[arg(long, default_value = ":8081", value_parser = parse_addr)]
    pub health_addr: SocketAddr,
    /// Elect a leader through a Lease so that only one replica writes.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// Name of the Lease used for leader election.
    #[arg(long, default_value = "extendeddaemonset-controller")]
    pub leader_elect_lease: String,
    /// Namespace of the Lease; defaults to the pod's namespace (POD_NAMESPACE) or `default`.
    #[arg(long, env = "POD_NAMESPACE")]
    pub leader_elect_namespace: Option<String>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log level (off, error, warn, info, debug, trace) or comma-separated directives
    /// `level` or `target=level`, e.g. `info,eds_controller=debug`.
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = parse_log_level)]
    pub log_level: String,
    /// ExtendedDaemonSets reconciled concurrently.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true, value_parser = parse_concurrency)]
    pub concurrency: u16,
    /// Pod creates, deletes and label updates of one ExtendedDaemonSet sent at once.
    #[arg(long, default_value_t = DEFAULT_MAX_CONCURRENT_WRITES, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_writes: u16,
}

/// Default of `--max-concurrent-writes`: a rolling-update wave of a few hundred pods takes a
/// handful of round trips instead of hundreds, without a burst that trips the API server's
/// priority and fairness limits.
pub const DEFAULT_MAX_CONCURRENT_WRITES: u16 = 64;

/// Levels `--log-level` accepts, alone or after `target=`.
pub const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Pattern of `--log-level` for the chart's values schema; [`parse_log_level`] accepts exactly
/// the same strings.
pub use eds_api::constants::LOG_LEVEL_PATTERN;

/// Validates `--log-level`. tracing's own parser takes an unknown word such as `verbose` for a
/// target name and then logs nothing at all; this refuses it, naming what is allowed.
pub fn parse_log_level(value: &str) -> Result<String, String> {
    let target_ok = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'))
    };
    for directive in value.split(',') {
        let (target, level) = match directive.split_once('=') {
            Some((t, l)) => (Some(t), l),
            None => (None, directive),
        };
        if !LOG_LEVELS.contains(&level) || target.is_some_and(|t| !target_ok(t)) {
            return Err(format!(
                "{directive:?} is not a log level: use one of {} or target=level, \
                 comma-separated (e.g. info,eds_controller=debug)",
                LOG_LEVELS.join(", ")
            ));
        }
    }
    Ok(value.to_string())
}

/// Validates `--concurrency`: 0 would reconcile nothing at all.
pub fn parse_concurrency(value: &str) -> Result<u16, String> {
    value
        .parse::<u16>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            format!("{value:?} is not a number of reconciles: use a whole number from 1 to 65535")
        })
}

/// Validates `--watch-namespace` (`WATCH_NAMESPACE`): empty, or comma-separated namespace
/// names. A misspelt name would otherwise be watched, silently, forever empty.
pub fn parse_watch_namespace(value: &str) -> Result<String, String> {
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !is_dns_label(name) {
            return Err(format!(
                "{name:?} is not a namespace name (lowercase letters, digits and '-', starting \
                 and ending with a letter or digit, at most 63 characters); {} takes \
                 comma-separated namespace names, or nothing for all namespaces",
                env::WATCH_NAMESPACE
            ));
        }
    }
    Ok(value.to_string())
}

/// An RFC 1123 label, what a namespace name is.
fn is_dns_label(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.len() <= 63
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name.chars().all(|c| alnum(c) || c == '-')
}

/// Log output format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// Which namespaces the controller serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchScope {
    /// Every namespace (`WATCH_NAMESPACE` unset or empty).
    All,
    /// The listed namespaces.
    Namespaces(Vec<String>),
}

impl WatchScope {
    /// Parses `WATCH_NAMESPACE`: empty = all, else a comma-separated list.
    pub fn parse(value: &str) -> Self {
        let namespaces: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if namespaces.is_empty() {
            Self::All
        } else {
            Self::Namespaces(namespaces)
        }
    }

    /// The namespaces to watch, `None` meaning all.
    pub fn namespaces(&self) -> Vec<Option<String>> {
        match self {
            Self::All => vec![None],
            Self::Namespaces(list) => list.iter().cloned().map(Some).collect(),
        }
    }
}

/// Settings the running controller needs, resolved from the flags.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    pub scope: WatchScope,
    pub validation_mode: ValidationMode,
    pub concurrency: u16,
    /// Pod writes of one ExtendedDaemonSet in flight at once.
    pub max_concurrent_writes: usize,
    /// Identity written into the Lease and into events.
    pub identity: String,
    /// How long to wait for the caches to show our own writes before acting again anyway.
    pub expectations_timeout: Duration,
}

fn parse_validation_mode(value: &str) -> Result<ValidationMode, String> {
    ValidationMode::from_str(value).map_err(|e| format!("{} {e}", env::VALIDATION_MODE))
}

/// Parses `:8080` (all interfaces) or `127.0.0.1:8080`.
pub fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    let full = if value.starts_with(':') {
        format!("0.0.0.0{value}")
    } else {
        value.to_string()
    };
    full.parse()
        .map_err(|e| format!("invalid address {value:?}: {e}; expected :PORT or HOST:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_namespace_forms() {
        assert_eq!(WatchScope::parse(""), WatchScope::All);
        assert_eq!(WatchScope::parse(" "), WatchScope::All);
        assert_eq!(
            WatchScope::parse("a"),
            WatchScope::Namespaces(vec!["a".into()])
        );
        assert_eq!(
            WatchScope::parse("a, b"),
            WatchScope::Namespaces(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn concurrency_is_at_least_one() {
        assert_eq!(parse_concurrency("8"), Ok(8));
        for bad in ["0", "-1", "many", "70000"] {
            let err = parse_concurrency(bad).unwrap_err();
            assert!(err.contains("from 1 to 65535"), "{bad}: {err}");
        }
    }

    #[test]
    fn watch_namespace_names_are_checked() {
        for ok in ["", "a", "a,b", " monitoring , kube-system ", "a,,b", "x1-2"] {
            assert_eq!(parse_watch_namespace(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["Team_A", "a b", "-a", "a-", "a,B", &"x".repeat(64)] {
            let err = parse_watch_namespace(bad).unwrap_err();
            assert!(
                err.contains("is not a namespace name") && err.contains("WATCH_NAMESPACE"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn validation_mode_is_checked() {
        assert_eq!(parse_validation_mode("manual"), Ok(ValidationMode::Manual));
        let err = parse_validation_mode("sometimes").unwrap_err();
        assert!(
            err.contains("EDS_VALIDATION_MODE") && err.contains("auto or manual"),
            "{err}"
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr(":8080").unwrap().port(), 8080);
        assert!(parse_addr("127.0.0.1:9").is_ok());
        assert!(parse_addr("nope").is_err());
    }

    #[test]
    fn log_level_is_checked() {
        for ok in [
            "info",
            "off",
            "info,eds_controller=debug",
            "kube_runtime::controller=trace",
        ] {
            assert_eq!(parse_log_level(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "verbose", "", "info,", "INFO", "=debug", "foo=loud", "a b=info",
        ] {
            let err = parse_log_level(bad).unwrap_err();
            assert!(
                err.contains("is not a log level") && err.contains("trace"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_flag_is_named_when_the_level_is_refused() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: ControllerArgs,
        }
        let err = Cli::try_parse_from(["eds", "--log-level", "verbose"])
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("--log-level") && err.contains("verbose"),
            "{err}"
        );
        let err = Cli::try_parse_from(["eds", "--log-format", "yaml"])
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("--log-format") && err.contains("json"),
            "{err}"
        );
    }
}
