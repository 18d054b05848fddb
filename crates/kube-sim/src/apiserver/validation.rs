//! `fieldValidation`: what a write does with unknown and duplicate fields, as the real API
//! server does it (KEP 2885).
//!
//! - `Strict`: the write fails with 400 `BadRequest`, naming every field:
//!   `ExtendedDaemonSet in version "v1alpha1" cannot be handled as a ExtendedDaemonSet: strict
//!   decoding error: unknown field "spec.foo", duplicate field "spec.bar"`; a server-side apply
//!   fails with `failed to create typed patch object (...): .spec.foo: field not declared in
//!   schema`.
//! - `Warn` (the default when the parameter is absent): the write succeeds, unknown fields are
//!   dropped and each one is reported in a `Warning: 299 - "unknown field \"spec.foo\""`
//!   response header, as kubectl prints them.
//! - `Ignore`: unknown fields are dropped silently.
//!
//! Unknown fields are those of a custom resource that its CRD schema would prune (and unknown
//! `metadata` fields); duplicate fields are repeated keys of one JSON object of the body.

use std::{borrow::Cow, collections::HashSet};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::error::ApiError;

/// The `fieldValidation` query parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop unknown fields silently (also what internal writes use).
    #[default]
    Ignore,
    /// Drop unknown fields and warn about each (the server default).
    Warn,
    /// Reject the write.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter (absent: `Warn`, as the real server).
    pub fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::BadRequest(format!(
                "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \
                 \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// Field validation of one write: the directive, the duplicate fields of its body and whether
/// it is a server-side apply (whose strict error reads differently).
#[derive(Clone, Debug, Default)]
pub struct FieldCheck {
    /// `fieldValidation`.
    pub directive: FieldValidation,
    /// Paths of the keys repeated in one object of the body (`spec.replicas`).
    pub duplicates: Vec<String>,
    /// The write is a server-side apply.
    pub apply: bool,
}

impl FieldCheck {
    /// Applies the directive to the unknown fields of the written object: `Ok` with the
    /// warnings to send, or the `Strict` rejection.
    pub fn check(
        &self,
        kind: &str,
        version: &str,
        object: &str,
        unknown: &[String],
    ) -> Result<Vec<String>, ApiError> {
        let mut problems: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect();
        problems.extend(
            self.duplicates
                .iter()
                .map(|f| format!("duplicate field \"{f}\"")),
        );
        if problems.is_empty() {
            return Ok(Vec::new());
        }
        match self.directive {
            FieldValidation::Ignore => Ok(Vec::new()),
            FieldValidation::Warn => Ok(problems),
            FieldValidation::Strict if self.apply && !unknown.is_empty() => {
                let fields: Vec<String> = unknown
                    .iter()
                    .map(|f| format!(".{f}: field not declared in schema"))
                    .collect();
                Err(ApiError::BadRequest(format!(
                    "failed to create typed patch object ({object}; {version}, Kind={kind}): {}",
                    fields.join(", ")
                )))
            }
            FieldValidation::Strict => {
                let short = version.rsplit('/').next().unwrap_or(version);
                Err(ApiError::BadRequest(format!(
                    "{kind} in version \"{short}\" cannot be handled as a {kind}: strict \
                     decoding error: {}",
                    problems.join(", ")
                )))
            }
        }
    }
}

/// Paths of the keys that appear twice in one object of a JSON body (`spec.replicas`,
/// `spec.containers[0].name`). A body that is not JSON has none (its parse error comes later).
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Walk {
        at: &Step::Root,
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

/// Where a value is in the body: the chain of keys and indexes from the root, rendered as a
/// path only for a repeated key.
enum Step<'a> {
    Root,
    Key(&'a str, &'a Step<'a>),
    Index(usize, &'a Step<'a>),
}

impl Step<'_> {
    /// Appends the path: keys joined by `.`, indexes as `[i]`.
    fn render(&self, out: &mut String) {
        match self {
            Step::Root => {}
            Step::Key(key, parent) => {
                parent.render(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i, parent) => {
                parent.render(out);
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

/// Walks a JSON value, recording repeated keys with their path.
struct Walk<'a> {
    at: &'a Step<'a>,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// An object key, borrowed from the body unless it has escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let at = Step::Key(&key, self.at);
            if seen.contains(&key) {
                let mut path = String::new();
                at.render(&mut path);
                self.found.push(path);
            }
            map.next_value_seed(Walk {
                at: &at,
                found: &mut *self.found,
            })?;
            seen.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(Walk {
                at: &Step::Index(i, self.at),
                found: &mut *self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeated_keys_with_their_path() {
        let body = br#"{"spec": {"replicas": 1, "replicas": 2,
            "containers": [{"name": "a"}, {"name": "b", "name": "c"}]}}"#;
        assert_eq!(
            duplicate_fields(body),
            ["spec.replicas", "spec.containers[1].name"]
        );
        assert!(duplicate_fields(br#"{"a": {"b": 1}, "c": {"b": 2}}"#).is_empty());
        assert!(duplicate_fields(b"not json").is_empty());
        // A key written with an escape repeats the same key written plainly.
        assert_eq!(
            duplicate_fields(br#"{"m": {"a\u0062": 1, "ab": 2}}"#),
            ["m.ab"]
        );
        assert_eq!(
            duplicate_fields(br#"[{"x": 1, "x": 2}, [{"z": {"y": 1, "y": 2}}]]"#),
            ["[0].x", "[1][0].z.y"]
        );
    }

    #[test]
    fn directives_reject_warn_or_ignore() {
        let unknown = vec!["spec.foo".to_string()];
        let strict = FieldCheck {
            directive: FieldValidation::Strict,
            duplicates: vec!["spec.bar".into()],
            apply: false,
        };
        let err = strict
            .check("Widget", "example.com/v1", "ns/w", &unknown)
            .expect_err("strict rejects");
        assert_eq!(
            err.to_string(),
            "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: \
             unknown field \"spec.foo\", duplicate field \"spec.bar\""
        );
        let apply = FieldCheck {
            apply: true,
            duplicates: Vec::new(),
            ..strict.clone()
        };
        let err = apply
            .check("Widget", "example.com/v1", "ns/w", &unknown)
            .expect_err("strict apply rejects");
        assert_eq!(
            err.to_string(),
            "failed to create typed patch object (ns/w; example.com/v1, Kind=Widget): \
             .spec.foo: field not declared in schema"
        );
        let warn = FieldCheck {
            directive: FieldValidation::Warn,
            ..FieldCheck::default()
        };
        assert_eq!(
            warn.check("Widget", "example.com/v1", "ns/w", &unknown)
                .expect("warn accepts"),
            ["unknown field \"spec.foo\""]
        );
        let ignore = FieldCheck::default();
        assert!(
            ignore
                .check("Widget", "example.com/v1", "ns/w", &unknown)
                .expect("ignore accepts")
                .is_empty()
        );
        assert_eq!(
            FieldValidation::parse(None).expect("absent"),
            FieldValidation::Warn
        );
        assert!(FieldValidation::parse(Some("strict")).is_err());
    }
}
