//! The Kubernetes quantity grammar (`resource.Quantity`), to refuse what the API server would:
//!
//! ```text
//! quantity ::= signedNumber suffix
//! signedNumber ::= number | "+" number | "-" number
//! number ::= digits | digits "." digits | digits "." | "." digits
//! suffix ::= "" | m | k | M | G | T | P | E | Ki | Mi | Gi | Ti | Pi | Ei | ("e" | "E") signedDigits
//! ```

/// The sign of a valid quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// Zero or more.
    NonNegative,
    /// Below zero.
    Negative,
}

/// Parses `text`; `None` when it is not a quantity.
pub fn parse(text: &str) -> Option<Sign> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(digits_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let suffix_ok = match suffix {
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        s => s
            .strip_prefix(['e', 'E'])
            .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
            .is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())),
    };
    if !suffix_ok {
        return None;
    }
    let zero = number.bytes().all(|b| b == b'0' || b == b'.');
    Some(if negative && !zero {
        Sign::Negative
    } else {
        Sign::NonNegative
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_forms() {
        for ok in [
            "1", "100m", "0.5", ".5", "5.", "+1", "256Mi", "1Gi", "1e3", "1E-2", "2k", "0",
        ] {
            assert_eq!(parse(ok), Some(Sign::NonNegative), "{ok}");
        }
        for neg in ["-1", "-0.5Gi", "-1e3"] {
            assert_eq!(parse(neg), Some(Sign::Negative), "{neg}");
        }
        assert_eq!(parse("-0"), Some(Sign::NonNegative));
        for bad in [
            "", "lots", "1.2.3", ".", "1KB", "1ki", "Mi", "1 Gi", "1e", "1e+", "--1", "0x10", "1m1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
