//! Helm templates from typed objects: an object is serialized to YAML as usual, after the
//! values at chosen JSON pointers were replaced by markers; each marker line then becomes the
//! Helm expression or block that computes that value. The templates therefore have exactly the
//! shape of the objects kustomize gets, and only the marked places vary with the values.

use serde::Serialize;
use serde_json::Value;

use super::{Error, yaml};

/// A value of the object computed by Helm.
#[derive(Clone, Debug)]
pub enum Insert {
    /// The scalar at `pointer` becomes `expr`, verbatim (a quoted Helm expression).
    Expr { pointer: String, expr: String },
    /// The value at `pointer` becomes `toYaml` of `value` (e.g. `$.Values.resources`); with
    /// `omit_empty` the key is left out when the value is empty.
    Yaml {
        pointer: String,
        value: String,
        omit_empty: bool,
    },
    /// The value at `pointer` becomes the text of `body`, a template producing YAML lines
    /// where `{n}` stands for the indentation of the value (for `nindent`). At a list index,
    /// `body` replaces the item and produces list items itself (`{n}` is the list's
    /// indentation).
    Text { pointer: String, body: String },
    /// The value or list item at `pointer` is the value of the first branch whose condition
    /// holds (an empty condition is the `else` branch); without one, it is left out.
    Choice {
        pointer: String,
        branches: Vec<(String, Value)>,
    },
}

impl Insert {
    /// Shorthand for [`Insert::Expr`].
    pub fn expr(pointer: &str, expr: impl Into<String>) -> Self {
        Self::Expr {
            pointer: pointer.to_string(),
            expr: expr.into(),
        }
    }

    /// Shorthand for [`Insert::Yaml`].
    pub fn yaml(pointer: &str, value: &str, omit_empty: bool) -> Self {
        Self::Yaml {
            pointer: pointer.to_string(),
            value: value.to_string(),
            omit_empty,
        }
    }

    /// Shorthand for [`Insert::Text`].
    pub fn text(pointer: &str, body: impl Into<String>) -> Self {
        Self::Text {
            pointer: pointer.to_string(),
            body: body.into(),
        }
    }

    fn pointer(&self) -> &str {
        match self {
            Self::Expr { pointer, .. }
            | Self::Yaml { pointer, .. }
            | Self::Text { pointer, .. }
            | Self::Choice { pointer, .. } => pointer,
        }
    }
}

fn marker(index: usize) -> String {
    format!("helm_insert_{index}_")
}

fn template_error(pointer: &str, reason: impl Into<String>) -> Error {
    Error::Template {
        pointer: pointer.to_string(),
        reason: reason.into(),
    }
}

/// Puts `marker` at `pointer`, creating the last key (or appending the next list item).
fn set(root: &mut Value, pointer: &str, marker: String) -> Result<(), Error> {
    let (parent, last) = pointer
        .rsplit_once('/')
        .ok_or_else(|| template_error(pointer, "not a JSON pointer"))?;
    let parent = root
        .pointer_mut(parent)
        .ok_or_else(|| template_error(pointer, "parent does not exist"))?;
    match parent {
        Value::Object(map) => {
            map.insert(last.replace("~1", "/").replace("~0", "~"), marker.into());
        }
        Value::Array(items) => {
            let index: usize = last
                .parse()
                .map_err(|_| template_error(pointer, "not a list index"))?;
            match index.cmp(&items.len()) {
                std::cmp::Ordering::Less => items[index] = marker.into(),
                std::cmp::Ordering::Equal => items.push(marker.into()),
                std::cmp::Ordering::Greater => {
                    return Err(template_error(pointer, "list index out of range"));
                }
            }
        }
        _ => return Err(template_error(pointer, "parent is a scalar")),
    }
    Ok(())
}

/// The Helm template of `object` with `inserts` applied (no header, no `---`).
pub fn template<T: Serialize>(object: &T, inserts: &[Insert]) -> Result<String, Error> {
    let mut value = serde_json::to_value(object).map_err(|e| template_error("", e.to_string()))?;
    for (index, insert) in inserts.iter().enumerate() {
        set(&mut value, insert.pointer(), marker(index))?;
    }
    let text = yaml::to_yaml(&value)?;
    let mut out = String::new();
    let mut seen = vec![false; inserts.len()];
    for line in text.lines() {
        match inserts
            .iter()
            .enumerate()
            .find(|(i, _)| line.contains(&marker(*i)))
        {
            Some((index, insert)) => {
                seen[index] = true;
                out.push_str(&expand(line, &marker(index), insert)?);
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if let Some(index) = seen.iter().position(|s| !s) {
        return Err(template_error(
            inserts[index].pointer(),
            "marker not found in the YAML (quoted by the serializer?)",
        ));
    }
    Ok(out)
}

/// The position of a marker line: `<indent><key>: <marker>` or `<indent>- <marker>`.
struct Position<'a> {
    indent: usize,
    key: Option<&'a str>,
}

fn position<'a>(line: &'a str, marker: &str, pointer: &str) -> Result<Position<'a>, Error> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let head = trimmed
        .strip_suffix(marker)
        .ok_or_else(|| template_error(pointer, format!("marker not alone on line {line:?}")))?;
    if head == "- " {
        return Ok(Position { indent, key: None });
    }
    let key = head
        .strip_suffix(": ")
        .ok_or_else(|| template_error(pointer, format!("unexpected line {line:?}")))?;
    Ok(Position {
        indent,
        key: Some(key),
    })
}

fn indented(text: &str, indent: usize) -> String {
    text.lines()
        .map(|line| format!("{:indent$}{line}\n", ""))
        .collect()
}

fn expand(line: &str, marker: &str, insert: &Insert) -> Result<String, Error> {
    let pointer = insert.pointer();
    if let Insert::Expr { expr, .. } = insert {
        return Ok(format!("{}\n", line.replace(marker, expr)));
    }
    let Position { indent, key } = position(line, marker, pointer)?;
    let pad = " ".repeat(indent);
    let keyed = || key.ok_or_else(|| template_error(pointer, "needs a key, not a list item"));
    Ok(match insert {
        Insert::Expr { .. } => unreachable!("handled above"),
        Insert::Yaml {
            value,
            omit_empty: true,
            ..
        } => format!(
            "{pad}{{{{- with {value} }}}}\n{pad}{key}:\n{pad}  {{{{- toYaml . | nindent {n} }}}}\n{pad}{{{{- end }}}}\n",
            key = keyed()?,
            n = indent + 2
        ),
        Insert::Yaml { value, .. } => format!(
            "{pad}{key}:\n{pad}  {{{{- toYaml {value} | nindent {n} }}}}\n",
            key = keyed()?,
            n = indent + 2
        ),
        Insert::Text { body, .. } if key.is_none() => {
            indented(&body.replace("{n}", &indent.to_string()), indent)
        }
        Insert::Text { body, .. } => format!(
            "{pad}{key}:\n{body}",
            key = keyed()?,
            body = indented(&body.replace("{n}", &(indent + 2).to_string()), indent + 2)
        ),
        Insert::Choice { branches, .. } => {
            let mut out = String::new();
            for (i, (condition, value)) in branches.iter().enumerate() {
                let keyword = match (i, condition.is_empty()) {
                    (_, true) => "else".to_string(),
                    (0, false) => format!("if {condition}"),
                    (_, false) => format!("else if {condition}"),
                };
                out.push_str(&format!("{pad}{{{{- {keyword} }}}}\n"));
                let fragment = match key {
                    Some(key) => yaml::to_yaml(&serde_json::json!({ key: value }))?,
                    None => yaml::to_yaml(&vec![value])?,
                };
                out.push_str(&indented(&fragment, indent));
            }
            out.push_str(&format!("{pad}{{{{- end }}}}\n"));
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inserts_expressions_blocks_and_choices() {
        let object = json!({"spec": {"replicas": 1, "env": [{"name": "A", "value": "a"}]}});
        let text = template(
            &object,
            &[
                Insert::expr("/spec/replicas", "{{ $.Values.replicas }}"),
                Insert::yaml("/spec/nodeSelector", "$.Values.nodeSelector", true),
                Insert::Choice {
                    pointer: "/spec/env/0".to_string(),
                    branches: vec![
                        ("$.Values.x".to_string(), json!({"name": "A", "value": "x"})),
                        (String::new(), json!({"name": "A", "value": "z"})),
                    ],
                },
            ],
        )
        .unwrap();
        let expected = "spec:
  env:
  {{- if $.Values.x }}
  - name: A
    value: x
  {{- else }}
  - name: A
    value: z
  {{- end }}
  {{- with $.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  replicas: {{ $.Values.replicas }}
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_pointer_without_parent_is_an_error() {
        let err = template(&json!({"a": 1}), &[Insert::expr("/b/c", "x")]).unwrap_err();
        assert!(err.to_string().contains("/b/c"), "{err}");
    }
}
