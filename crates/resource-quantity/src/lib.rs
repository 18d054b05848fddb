//! `resource.Quantity` as the API server decodes it: the grammar (a value outside it fails the
//! decoding of the whole object) and exact comparison. The simulated API server validates pods
//! with it; the planner checks node resource overrides with it before they reach a pod.
//!
//! ```text
//! quantity ::= ["+" | "-"] number suffix
//! number   ::= digits | digits "." digits | digits "." | "." digits
//! suffix   ::= "" | n | u | m | k | M | G | T | P | E | Ki | Mi | Gi | Ti | Pi | Ei
//!            | ("e" | "E") ["+" | "-"] digits
//! ```

pub mod requirements;

use std::cmp::Ordering;

use serde_json::Value;

/// The decoding error of a value outside the grammar, worded as the API server's.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// The decoding error of a number part that does not parse (`1.2.3`).
pub const NUMERIC_ERROR: &str = "unable to parse numeric part of quantity";
/// The decoding error of an unknown suffix of the right shape (`1Ki2`, `5mi`).
pub const SUFFIX_ERROR: &str = "unable to parse quantity's suffix";

/// A parsed quantity: `sign × digits × 2^(10 × binary) × 10^exp10`.
#[derive(Clone, Debug)]
pub struct Quantity {
    negative: bool,
    digits: u128,
    binary: u32,
    exp10: i32,
}

impl Quantity {
    /// Parses a JSON value of a resource list (a string or a number, as the API server
    /// accepts); the error is the API server's decoding message.
    pub fn from_json(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::String(s) => Self::parse(s.trim()),
            Value::Number(n) => Self::parse(&n.to_string()),
            _ => Err(FORMAT_ERROR),
        }
    }

    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let (negative, rest) = match text.as_bytes().first() {
            None => return Err(FORMAT_ERROR),
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            Some(_) => (false, text),
        };
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(end);
        if number.is_empty() || !shaped_suffix(suffix) {
            return Err(FORMAT_ERROR);
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
            return Err(NUMERIC_ERROR);
        }
        let (binary, suffix_exp) = suffix_value(suffix).ok_or(SUFFIX_ERROR)?;
        let significant = format!("{whole}{fraction}");
        let significant = significant.trim_start_matches('0');
        // Digits beyond what u128 holds only matter for absurd values; they are dropped from
        // the right (scaling the exponent), which keeps comparisons of real quantities exact.
        let kept = &significant[..significant.len().min(38)];
        let dropped = (significant.len() - kept.len()) as i32;
        let digits = if kept.is_empty() {
            0
        } else {
            kept.parse::<u128>().map_err(|_| NUMERIC_ERROR)?
        };
        Ok(Quantity {
            negative: negative && digits != 0,
            digits,
            binary,
            exp10: suffix_exp - fraction.len() as i32 + dropped,
        })
    }

    /// Below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// A whole number (`1`, `2k`, `1Gi`, but not `500m` or `1.5`).
    pub fn is_integer(&self) -> bool {
        if self.digits == 0 || self.exp10 >= 0 {
            return true;
        }
        let scaled = 1u128
            .checked_shl(10 * self.binary)
            .and_then(|b| self.digits.checked_mul(b));
        match (scaled, 10u128.checked_pow(self.exp10.unsigned_abs())) {
            (Some(v), Some(p)) => v.is_multiple_of(p),
            _ => self.approx().fract() == 0.0,
        }
    }

    /// Whether this is a whole multiple of `unit` (a positive integer quantity).
    pub fn multiple_of(&self, unit: &Quantity) -> bool {
        match (self.exact_integer(), unit.exact_integer()) {
            (Some(v), Some(u)) if u > 0 => v % u == 0,
            _ => false,
        }
    }

    /// The value as an integer, when it is one and fits.
    fn exact_integer(&self) -> Option<u128> {
        if !self.is_integer() || self.negative {
            return None;
        }
        let scaled = self
            .digits
            .checked_mul(1u128.checked_shl(10 * self.binary)?)?;
        if self.exp10 >= 0 {
            scaled.checked_mul(10u128.checked_pow(self.exp10 as u32)?)
        } else {
            Some(scaled / 10u128.checked_pow(self.exp10.unsigned_abs())?)
        }
    }

    /// Compares the values (`1` equals `1000m`, `1Ki` equals `1024`).
    pub fn cmp_value(&self, other: &Quantity) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let magnitude = exact_cmp(self, other).unwrap_or_else(|| {
            self.approx()
                .partial_cmp(&other.approx())
                .unwrap_or(Ordering::Equal)
        });
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    fn approx(&self) -> f64 {
        self.digits as f64 * 2f64.powi(10 * self.binary as i32) * 10f64.powi(self.exp10)
    }
}

/// `|a|` against `|b|` with integer arithmetic, when it does not overflow.
fn exact_cmp(a: &Quantity, b: &Quantity) -> Option<Ordering> {
    let scale = |q: &Quantity, exp: i32| -> Option<u128> {
        q.digits
            .checked_mul(1u128.checked_shl(10 * q.binary)?)?
            .checked_mul(10u128.checked_pow((q.exp10 - exp) as u32)?)
    };
    let low = a.exp10.min(b.exp10);
    Some(scale(a, low)?.cmp(&scale(b, low)?))
}

/// The shape the API server's regular expression allows after the number.
fn shaped_suffix(s: &str) -> bool {
    let letters = s
        .find(|c: char| !"eEinumkKMGTP".contains(c))
        .unwrap_or(s.len());
    let rest = &s[letters..];
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    rest.bytes().all(|b| b.is_ascii_digit())
}

/// Binary power (of 1024) and decimal exponent of a suffix; `None` when it is unknown.
fn suffix_value(s: &str) -> Option<(u32, i32)> {
    Some(match s {
        "" => (0, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        "Ki" => (1, 0),
        "Mi" => (2, 0),
        "Gi" => (3, 0),
        "Ti" => (4, 0),
        "Pi" => (5, 0),
        "Ei" => (6, 0),
        e => {
            let exp = e.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (0, exp.parse().ok()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn grammar_and_errors_of_the_api_server() {
        for ok in [
            "1", "100m", "0.5", ".5", "5.", "+1", "256Mi", "1Gi", "1e3", "1E-2", "2k", "0", "-1",
            "10n", "3u",
        ] {
            assert!(Quantity::parse(ok).is_ok(), "{ok}");
        }
        for (bad, err) in [
            ("", FORMAT_ERROR),
            ("lots", FORMAT_ERROR),
            ("1KB", FORMAT_ERROR),
            ("1 Gi", FORMAT_ERROR),
            ("Mi", FORMAT_ERROR),
            ("0x10", FORMAT_ERROR),
            ("1.2.3", NUMERIC_ERROR),
            (".", NUMERIC_ERROR),
            ("1Ki2", SUFFIX_ERROR),
            ("1ki", SUFFIX_ERROR),
            ("1e", SUFFIX_ERROR),
            ("1m1", SUFFIX_ERROR),
        ] {
            assert_eq!(Quantity::parse(bad).map(|_| ()), Err(err), "{bad:?}");
        }
        assert_eq!(
            Quantity::from_json(&serde_json::json!(true)).map(|_| ()),
            Err(FORMAT_ERROR)
        );
        assert!(Quantity::from_json(&serde_json::json!(1.5)).is_ok());
    }

    #[test]
    fn compares_values_across_suffixes() {
        assert_eq!(q("1").cmp_value(&q("1000m")), Ordering::Equal);
        assert_eq!(q("1Ki").cmp_value(&q("1024")), Ordering::Equal);
        assert_eq!(q("1Gi").cmp_value(&q("1G")), Ordering::Greater);
        assert_eq!(q("500m").cmp_value(&q("0.6")), Ordering::Less);
        assert_eq!(q("-1").cmp_value(&q("0")), Ordering::Less);
        assert_eq!(q("1e3").cmp_value(&q("1k")), Ordering::Equal);
        assert_eq!(q("-0").cmp_value(&q("0")), Ordering::Equal);
        assert!(q("-1Gi").is_negative() && !q("-0").is_negative());
    }

    #[test]
    fn integers_and_multiples() {
        assert!(q("2").is_integer() && q("1k").is_integer() && q("1000m").is_integer());
        assert!(!q("500m").is_integer() && !q("1.5").is_integer());
        assert!(q("4Mi").multiple_of(&q("2Mi")) && !q("3Mi").multiple_of(&q("2Mi")));
        assert!(q("1Gi").multiple_of(&q("1Gi")));
    }
}
