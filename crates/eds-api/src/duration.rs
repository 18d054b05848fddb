//! Durations in the Kubernetes/Go format (`10s`, `5m`, `1h30m`, `1.5h`, `300ms`).
//!
//! Parsing is kube's [`kube::core::Duration`]; this newtype adds the schema pattern so the API
//! server rejects `5 minutes` before the controller ever sees it, and exposes the value as a
//! [`std::time::Duration`] (negative durations are rejected by the pattern).

use std::{borrow::Cow, fmt, str::FromStr};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Regular expression of a non-negative Go duration, used in the CRD schema.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$";

/// A non-negative duration written in the Go `time.ParseDuration` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    value: std::time::Duration,
}

/// Why a duration string was rejected.
#[derive(Debug, thiserror::Error)]
pub enum DurationError {
    /// The text is not in the Go duration format.
    #[error(
        "invalid duration {text:?}: {source}; expected a Go duration such as 10s, 5m, 1h30m or 1.5h"
    )]
    Parse {
        text: String,
        source: kube::core::duration::ParseError,
    },
    /// The text is empty (Go's parser rejects it too).
    #[error("invalid duration \"\": expected a Go duration such as 10s, 5m, 1h30m or 1.5h")]
    Empty,
    /// The duration is negative.
    #[error("invalid duration {0:?}: must not be negative")]
    Negative(String),
}

impl Duration {
    /// Builds a duration from a number of seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            value: std::time::Duration::from_secs(secs),
        }
    }

    /// The duration as a standard library value.
    pub const fn as_std(&self) -> std::time::Duration {
        self.value
    }
}

impl From<std::time::Duration> for Duration {
    fn from(value: std::time::Duration) -> Self {
        Self { value }
    }
}

impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        d.value
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().is_empty() {
            return Err(DurationError::Empty);
        }
        let parsed =
            kube::core::Duration::from_str(text).map_err(|source| DurationError::Parse {
                text: text.to_string(),
                source,
            })?;
        if parsed.is_negative() {
            return Err(DurationError::Negative(text.to_string()));
        }
        let value: std::time::Duration = parsed.into();
        Ok(Self { value })
    }
}

impl fmt::Display for Duration {
    /// Formats like Go's `Duration.String()` (`1h30m0s`, `10s`, `1.5s`, `0s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&kube::core::Duration::from(self.value), f)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration in the Go format, e.g. 10s, 5m, 1h30m or 1.5h."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        for (text, secs) in [
            ("10s", 10.0),
            ("5m", 300.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("300ms", 0.3),
            ("0", 0.0),
        ] {
            let d: Duration = text.parse().unwrap();
            assert!((d.as_std().as_secs_f64() - secs).abs() < 1e-9, "{text}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        for text in ["5 minutes", "10", "-1s", "1d", ""] {
            assert!(
                text.parse::<Duration>().is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn pattern_agrees_with_parser() {
        let re = regex_lite(DURATION_PATTERN);
        for text in ["10s", "5m", "1h30m", "1.5h", "300ms", "0", "2h45m0.5s"] {
            assert!(re(text), "{text} should match");
            assert!(text.parse::<Duration>().is_ok(), "{text} should parse");
        }
        for text in ["5 minutes", "10", "-1s", "1d", "", "s"] {
            assert!(!re(text), "{text} should not match");
        }
    }

    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
        let re = regex::Regex::new(pattern).unwrap();
        move |s| re.is_match(s)
    }

    #[test]
    fn display_round_trips() {
        for text in ["10s", "5m", "1h30m", "1.5s", "300ms", "0"] {
            let d: Duration = text.parse().unwrap();
            let shown = d.to_string();
            assert_eq!(
                shown.parse::<Duration>().unwrap(),
                d,
                "{text} shown as {shown}"
            );
        }
        assert_eq!(Duration::from_secs(10).to_string(), "10s");
    }
}
