//! The API server's checks of a container's `resources` (requests and limits):
//! `ValidateContainerResourceRequirements` of kube-apiserver's `pkg/apis/core/validation`.
//! The simulated API server refuses pods with them; the planner refuses a template that would
//! make such pods before it deletes any pod for it.
//!
//! - A value outside the quantity grammar fails decoding ([`decode`]): the server answers 400
//!   before validating anything.
//! - [`check`] gives the 422 causes, in the server's order per container (limits, then
//!   requests, keys sorted here where the server follows map order):
//!   - a resource name without a domain must be `cpu`, `memory`, `ephemeral-storage` or
//!     `hugepages-<size>`; a name with a domain must be a valid extended resource name;
//!   - a quantity must not be negative; extended resources must be whole numbers; hugepages
//!     a multiple of their page size, and only beside a cpu or memory entry;
//!   - a request must not exceed its limit; requests of resources that cannot be overcommitted
//!     (extended resources, hugepages) must equal their limit, which must be set.
//!
//! Values in messages are printed as written; the real server prints the canonical form
//! (`0.5` as `500m`), so messages about non-canonical values differ in that detail.

use serde_json::{Map, Value};

use super::Quantity;

/// `reason` of an invalid value.
pub const INVALID: &str = "FieldValueInvalid";
/// `reason` of a missing value.
pub const REQUIRED: &str = "FieldValueRequired";
/// `reason` of a forbidden value.
pub const FORBIDDEN: &str = "FieldValueForbidden";

/// One refused field, as a `details.causes[]` entry of the API server's 422.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// `FieldValueInvalid`, `FieldValueRequired` or `FieldValueForbidden`.
    pub reason: &'static str,
    /// The message, e.g. `Invalid value: "1": must be less than or equal to cpu limit of 500m`.
    pub message: String,
    /// Path of the field, e.g. `spec.containers[0].resources.requests`.
    pub field: String,
}

/// Container resource names a pod may use without a domain prefix.
fn standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// `IsStandardResourceName`: the names without a domain that the API knows at all.
fn standard_resource(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    ];
    NAMES.contains(&name)
        || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
}

/// Native resources have no domain or the `kubernetes.io/` one; the others are extended.
fn native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// Integer-only resources: extended ones, and object counts (of quotas).
fn integer_resource(name: &str) -> bool {
    (!native(name) && !name.starts_with("requests."))
        || matches!(
            name,
            "pods"
                | "services"
                | "replicationcontrollers"
                | "resourcequotas"
                | "secrets"
                | "configmaps"
                | "persistentvolumeclaims"
                | "services.nodeports"
                | "services.loadbalancers"
        )
}

/// Cannot be overcommitted: a request must equal its limit.
fn overcommit_allowed(name: &str) -> bool {
    native(name) && !hugepages(name)
}

const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', \
    and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or \
    '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const PREFIX_PART: &str = "prefix part a lowercase RFC 1123 subdomain must consist of lower case \
    alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character \
    (e.g. 'example.com', regex used for validation is \
    '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// `IsQualifiedName`: `[prefix/]name`, the messages of what is wrong.
fn qualified_name_errors(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => {
            return vec![
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and \
                 must start and end with an alphanumeric character (e.g. 'MyName',  or \
                 'my.name',  or '123-abc', regex used for validation is \
                 '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain \
                 prefix and '/' (e.g. 'example.com/MyName')"
                    .into(),
            ];
        }
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errors.push("prefix part must be non-empty".into());
        } else if !dns_subdomain(prefix) {
            errors.push(PREFIX_PART.into());
        }
    }
    if name.is_empty() {
        errors.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errors.push("name part must be no more than 63 characters".into());
    } else if !name_part(name) {
        errors.push(NAME_PART.into());
    }
    errors
}

fn name_part(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

fn invalid(field: String, value: &str, message: &str) -> Issue {
    Issue {
        reason: INVALID,
        message: format!("Invalid value: \"{value}\": {message}"),
        field,
    }
}

/// `validateContainerResourceName`.
fn name_causes(name: &str, field: &str, causes: &mut Vec<Issue>) {
    let qualified = qualified_name_errors(name);
    let had_errors = !qualified.is_empty();
    causes.extend(
        qualified
            .into_iter()
            .map(|m| invalid(field.to_string(), name, &m)),
    );
    if !had_errors && !name.contains('/') && !standard_resource(name) {
        causes.push(invalid(
            field.to_string(),
            name,
            "must be a standard resource type or fully qualified",
        ));
    }
    if !name.contains('/') {
        if !standard_container_resource(name) {
            causes.push(invalid(
                field.to_string(),
                name,
                "must be a standard resource for containers",
            ));
        }
    } else if !native(name)
        && (name.starts_with("requests.")
            || !qualified_name_errors(&format!("requests.{name}")).is_empty())
    {
        causes.push(invalid(
            field.to_string(),
            name,
            "doesn't follow extended resource name standard",
        ));
    }
}

/// The decoding error of the first quantity of `resources` outside the grammar.
pub fn decode(resources: &Value) -> Result<(), &'static str> {
    for list in ["limits", "requests"] {
        if let Some(map) = resources.get(list).and_then(Value::as_object) {
            for v in map.values() {
                Quantity::from_json(v)?;
            }
        }
    }
    Ok(())
}

/// The 422 causes of one container's `resources` at `at` (`spec.containers[0].resources`).
/// Quantities are assumed to decode (see [`decode`]).
pub fn check(resources: &Value, at: &str, causes: &mut Vec<Issue>) {
    let empty = Map::new();
    let list = |key: &str| -> Vec<(&String, Quantity)> {
        let mut entries: Vec<_> = resources
            .get(key)
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .iter()
            .filter_map(|(k, v)| Some((k, Quantity::from_json(v).ok()?)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries
    };
    let limits = list("limits");
    let requests = list("requests");
    let mut cpu_or_memory = false;
    let mut has_hugepages = false;
    let mut value_causes =
        |name: &str, q: &Quantity, raw: &str, field: &str, c: &mut Vec<Issue>| {
            name_causes(name, field, c);
            if q.is_negative() {
                c.push(invalid(
                    field.into(),
                    raw,
                    "must be greater than or equal to 0",
                ));
            }
            if integer_resource(name) && !q.is_integer() {
                c.push(invalid(field.into(), raw, "must be an integer"));
            }
            if hugepages(name) {
                has_hugepages = true;
                let page = Quantity::parse(name.trim_start_matches("hugepages-"));
                if !page.is_ok_and(|p| q.multiple_of(&p)) {
                    c.push(invalid(
                        field.into(),
                        raw,
                        &format!("{raw} is not positive integer multiple of {name}"),
                    ));
                }
            }
            if matches!(name, "cpu" | "memory") {
                cpu_or_memory = true;
            }
        };
    let raw = |key: &str, name: &str| -> String {
        match resources.get(key).and_then(|m| m.get(name)) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    };
    for (name, q) in &limits {
        let field = format!("{at}.limits[{name}]");
        value_causes(name, q, &raw("limits", name), &field, causes);
    }
    for (name, q) in &requests {
        let field = format!("{at}.requests[{name}]");
        let written = raw("requests", name);
        value_causes(name, q, &written, &field, causes);
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, limit)) => {
                let order = q.cmp_value(limit);
                let limit_raw = raw("limits", name);
                if !overcommit_allowed(name) && order.is_ne() {
                    causes.push(invalid(
                        format!("{at}.requests"),
                        &written,
                        &format!("must be equal to {name} limit of {limit_raw}"),
                    ));
                } else if order.is_gt() {
                    causes.push(invalid(
                        format!("{at}.requests"),
                        &written,
                        &format!("must be less than or equal to {name} limit of {limit_raw}"),
                    ));
                }
            }
            None if !overcommit_allowed(name) => causes.push(Issue {
                reason: REQUIRED,
                message: "Required value: Limit must be set for non overcommitable resources"
                    .into(),
                field: format!("{at}.limits"),
            }),
            None => {}
        }
    }
    if has_hugepages && !cpu_or_memory {
        causes.push(Issue {
            reason: FORBIDDEN,
            message: "Forbidden: HugePages require cpu or memory".into(),
            field: at.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn issues(resources: Value) -> Vec<String> {
        let mut out = Vec::new();
        super::check(&resources, "spec.containers[0].resources", &mut out);
        out.iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    #[test]
    fn accepts_what_the_api_server_accepts() {
        for ok in [
            json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1024Mi"}}),
            json!({"requests": {"cpu": 0.5, "ephemeral-storage": "1G"}}),
            json!({"limits": {"example.com/gpu": "2"}, "requests": {"example.com/gpu": 2}}),
            json!({"limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi"}}),
        ] {
            assert_eq!(issues(ok.clone()), Vec::<String>::new(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_the_api_server_refuses() {
        let p = "spec.containers[0].resources";
        assert_eq!(
            issues(json!({"limits": {"memory": "-1Gi"}})),
            [format!(
                "{p}.limits[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0"
            )]
        );
        assert_eq!(
            issues(json!({"limits": {"cpu": "500m"}, "requests": {"cpu": "1"}})),
            [format!(
                "{p}.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"
            )]
        );
        assert_eq!(
            issues(json!({"requests": {"gpu": "1"}})),
            [
                format!(
                    "{p}.requests[gpu]: Invalid value: \"gpu\": must be a standard resource type \
                     or fully qualified"
                ),
                format!(
                    "{p}.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for \
                     containers"
                ),
            ]
        );
        assert_eq!(
            issues(json!({"requests": {"example.com/gpu": "1"}})),
            [format!(
                "{p}.limits: Required value: Limit must be set for non overcommitable resources"
            )]
        );
        assert_eq!(
            issues(json!({"limits": {"example.com/gpu": "500m"}})),
            [format!(
                "{p}.limits[example.com/gpu]: Invalid value: \"500m\": must be an integer"
            )]
        );
        assert_eq!(
            issues(json!({"limits": {"hugepages-2Mi": "3Mi"}})),
            [
                format!(
                    "{p}.limits[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive \
                     integer multiple of hugepages-2Mi"
                ),
                format!("{p}: Forbidden: HugePages require cpu or memory"),
            ]
        );
        assert_eq!(
            decode(&json!({"limits": {"cpu": "lots"}})),
            Err(crate::FORMAT_ERROR)
        );
        assert!(decode(&json!({"limits": {"cpu": "1"}})).is_ok());
    }
}
