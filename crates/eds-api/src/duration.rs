//! Durations in the Kubernetes/Go format (`10s`, `5m`, `1h30m`, `1.5h`, `300ms`).
//!
//! Parsing follows Go's `time.ParseDuration` (which upstream's `metav1.Duration` uses): an
//! optional sign, then `0` alone or one or more decimal numbers (`5`, `1.5`, `.5`, `5.`) each
//! followed by its unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`). A number without a unit
//! (`5m0`, `10`) is refused, as Go refuses it. The schema pattern is the same grammar, so the
//! API server rejects `5 minutes` before the controller ever sees it; negative durations are
//! refused by both.

use std::{borrow::Cow, fmt, str::FromStr};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Regular expression of a non-negative Go duration, used in the CRD schema.
pub const DURATION_PATTERN: &str =
    r"^[-+]?0$|^\+?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$";

/// What a duration looks like, for error messages.
const EXPECTED: &str = "expected a Go duration: numbers each followed by a unit (ns, us, µs, \
    ms, s, m, h), such as 10s, 5m, 1h30m or 1.5h, or 0";

/// A non-negative duration written in the Go `time.ParseDuration` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    value: std::time::Duration,
}

/// Why a duration string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a sequence of numbers with units (a stray character, a number without digits).
    #[error("invalid duration {0:?}: {EXPECTED}")]
    Syntax(String),
    /// A number without its unit (`5m0`, `10`).
    #[error("invalid duration {text:?}: missing unit after {number:?}; {EXPECTED}")]
    MissingUnit {
        /// The whole text.
        text: String,
        /// The number left without a unit.
        number: String,
    },
    /// A unit Go does not know (`1d`).
    #[error("invalid duration {text:?}: unknown unit {unit:?}; {EXPECTED}")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit.
        unit: String,
    },
    /// More than Go's duration holds (about 292 years).
    #[error("invalid duration {0:?}: out of range (at most 2562047h47m16.854775807s)")]
    Overflow(String),
    /// The text is empty (Go's parser rejects it too).
    #[error("invalid duration \"\": {EXPECTED}")]
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

/// Nanoseconds per unit, as Go's `unitMap`.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses `text` as Go's `time.ParseDuration` does: the sign and the length in nanoseconds.
fn parse_go(text: &str) -> Result<(bool, u128), DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let (negative, mut rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok((negative, 0));
    }
    if rest.is_empty() {
        return Err(DurationError::Syntax(text.into()));
    }
    // Go's limit: 1<<63 - 1 nanoseconds (1<<63 when negative).
    let max = (1u128 << 63) - u128::from(!negative);
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(DurationError::Syntax(text.into()));
        }
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                text: text.into(),
                number: number.into(),
            });
        }
        let per = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            text: text.into(),
            unit: unit.into(),
        })?;
        let overflow = || DurationError::Overflow(text.into());
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        // Only the digits that can matter at nanosecond precision (Go drops the rest too).
        let fraction = &fraction[..fraction.len().min(20)];
        let fraction_value: u128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| overflow())?
        };
        let scale = 10u128.pow(fraction.len() as u32);
        total = whole
            .checked_mul(per)
            .and_then(|w| w.checked_add(fraction_value * per / scale))
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= max)
            .ok_or_else(overflow)?;
        rest = next;
    }
    Ok((negative, total))
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (negative, nanos) = parse_go(text)?;
        if negative && nanos > 0 {
            return Err(DurationError::Negative(text.to_string()));
        }
        let nanos = u64::try_from(nanos).map_err(|_| DurationError::Overflow(text.into()))?;
        Ok(Self {
            value: std::time::Duration::from_nanos(nanos),
        })
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

    /// Accepted by Go's `time.ParseDuration`, with their length in nanoseconds.
    const GO_ACCEPTS: &[(&str, u64)] = &[
        ("10s", 10_000_000_000),
        ("5m", 300_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("1.5h", 5_400_000_000_000),
        ("300ms", 300_000_000),
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("1h2m3.5s", 3_723_500_000_000),
        (".5s", 500_000_000),
        ("5.s", 5_000_000_000),
        ("+5s", 5_000_000_000),
        ("1us", 1_000),
        ("1µs", 1_000),
        ("1μs", 1_000),
        ("7ns", 7),
        ("2h45m0.5s", 9_900_500_000_000),
        ("0s", 0),
        ("1.0000000001s", 1_000_000_000),
        ("2562047h47m16.854775807s", 9_223_372_036_854_775_807),
    ];

    #[test]
    fn parses_what_go_parses() {
        for (text, nanos) in GO_ACCEPTS {
            let d: Duration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(d.as_std().as_nanos(), u128::from(*nanos), "{text}");
        }
    }

    #[test]
    fn refuses_what_go_refuses_and_says_why() {
        let missing = |number: &str| DurationError::MissingUnit {
            text: String::new(),
            number: number.into(),
        };
        let unknown = |unit: &str| DurationError::UnknownUnit {
            text: String::new(),
            unit: unit.into(),
        };
        let syntax = DurationError::Syntax(String::new());
        let overflow = DurationError::Overflow(String::new());
        for (text, want) in [
            ("5m0", missing("0")),
            ("10", missing("10")),
            ("00", missing("00")),
            ("1h30", missing("30")),
            ("1d", unknown("d")),
            ("5 minutes", unknown(" minutes")),
            ("1h 30m", unknown("h ")),
            ("1S", unknown("S")),
            ("s", syntax.clone()),
            (".s", syntax.clone()),
            ("-", syntax.clone()),
            ("1..5s", syntax.clone()),
            ("2562047h47m16.854775808s", overflow.clone()),
            ("99999999999999999999999h", overflow),
            ("", DurationError::Empty),
            ("-1s", DurationError::Negative(String::new())),
        ] {
            let got = text.parse::<Duration>().expect_err(text);
            let blank = match got.clone() {
                DurationError::MissingUnit { number, .. } => DurationError::MissingUnit {
                    text: String::new(),
                    number,
                },
                DurationError::UnknownUnit { unit, .. } => DurationError::UnknownUnit {
                    text: String::new(),
                    unit,
                },
                DurationError::Syntax(_) => DurationError::Syntax(String::new()),
                DurationError::Overflow(_) => DurationError::Overflow(String::new()),
                DurationError::Negative(_) => DurationError::Negative(String::new()),
                DurationError::Empty => DurationError::Empty,
            };
            assert_eq!(blank, want, "{text}");
        }
        assert_eq!(
            "5m0".parse::<Duration>().unwrap_err().to_string(),
            "invalid duration \"5m0\": missing unit after \"0\"; expected a Go duration: \
             numbers each followed by a unit (ns, us, µs, ms, s, m, h), such as 10s, 5m, 1h30m \
             or 1.5h, or 0"
        );
    }

    #[test]
    fn pattern_agrees_with_parser() {
        let re = regex_lite(DURATION_PATTERN);
        for (text, _) in GO_ACCEPTS {
            assert!(re(text), "{text} should match");
        }
        for text in [
            "5 minutes",
            "10",
            "-1s",
            "1d",
            "",
            "s",
            "5m0",
            "1h30",
            ".s",
            "00",
            "1..5s",
        ] {
            assert!(!re(text), "{text} should not match");
            assert!(text.parse::<Duration>().is_err(), "{text} should not parse");
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
