//! The Argo CD health check and actions of `argocd/datadoghq.com/ExtendedDaemonSet`, run with a
//! real Lua 5.1 interpreter (Argo CD runs gopher-lua, Lua 5.1 semantics) on the test cases in
//! Argo CD's own format (`health_test.yaml`, `actions/action_test.yaml`), on objects with
//! missing fields, and on the statuses the planner writes for every row of `docs/status.md`.

use std::path::{Path, PathBuf};

use mlua::{Lua, LuaSerdeExt, SerializeOptions, Value as LuaValue};
use serde_json::{Value, json};

use eds_plan::testing::contract::{SITUATIONS, situation};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../argocd/datadoghq.com/ExtendedDaemonSet")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `script` with the global `obj` set to `object`, as Argo CD does; JSON nulls are nil.
fn run(script: &Path, object: &Value) -> mlua::Result<Value> {
    let lua = Lua::new();
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    let obj = lua.to_value_with(object, options)?;
    lua.globals().set("obj", obj)?;
    let out: LuaValue = lua
        .load(read(script))
        .set_name(script.display().to_string())
        .eval()?;
    lua.from_value(out)
}

/// `(status, message)` of the health check on `object`.
fn health(object: &Value) -> (String, String) {
    let hs = run(&dir().join("health.lua"), object)
        .unwrap_or_else(|e| panic!("health.lua failed on {object}: {e}"));
    (
        hs["status"].as_str().unwrap_or_default().to_string(),
        hs["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// Lua 5.1 has only floats: compare integral numbers as integers.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 => json!(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

#[test]
fn health_tests_in_argo_cd_format() {
    let tests = yaml(&dir().join("health_test.yaml"));
    let tests = tests["tests"].as_array().expect("tests");
    assert!(tests.len() >= 10);
    for t in tests {
        let input = t["inputPath"].as_str().expect("inputPath");
        let object = yaml(&dir().join(input));
        let (status, message) = health(&object);
        assert_eq!(
            (status.as_str(), message.as_str()),
            (
                t["healthStatus"]["status"].as_str().unwrap(),
                t["healthStatus"]["message"].as_str().unwrap()
            ),
            "{input}"
        );
    }
}

/// Every object of the test data, with each field removed in turn (and set to null): the
/// health check never fails and always answers one of Argo CD's statuses.
#[test]
fn health_survives_any_missing_field() {
    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(o) = v {
            for (k, child) in o {
                at.push(k.clone());
                out.push(at.clone());
                paths(child, at, out);
                at.pop();
            }
        }
        if let Value::Array(a) = v {
            for (i, child) in a.iter().enumerate() {
                at.push(i.to_string());
                paths(child, at, out);
                at.pop();
            }
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(dir().join("testdata")).expect("testdata") {
        let object = yaml(&entry.expect("entry").path());
        let mut all = Vec::new();
        paths(&object, &mut Vec::new(), &mut all);
        for path in all {
            for replacement in [None, Some(Value::Null), Some(json!("")), Some(json!(7))] {
                let mut o = object.clone();
                let (last, parents) = path.split_last().unwrap();
                let mut cur = &mut o;
                for p in parents {
                    cur = if cur.is_array() {
                        &mut cur[p.parse::<usize>().unwrap()]
                    } else {
                        &mut cur[p.as_str()]
                    };
                }
                match (cur, &replacement) {
                    (Value::Object(m), None) => {
                        m.remove(last);
                    }
                    (Value::Object(m), Some(r)) => {
                        m.insert(last.clone(), r.clone());
                    }
                    _ => continue,
                }
                let (status, _) = health(&o);
                assert!(
                    ["Healthy", "Progressing", "Suspended", "Degraded"].contains(&status.as_str()),
                    "{path:?} -> {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

/// The Argo CD column of `docs/status.md`, on the statuses the planner writes.
#[test]
fn health_follows_the_status_contract() {
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/status.md"));
    let cells = |l: &str| -> Vec<String> {
        l.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with("| Situation"))
        .take_while(|l| l.starts_with('|'));
    let header = cells(lines.next().expect("header"));
    let argo = header
        .iter()
        .position(|h| h == "Argo CD")
        .expect("Argo CD column");
    let rows: Vec<Vec<String>> = lines.skip(1).map(cells).collect();
    assert_eq!(rows.len(), SITUATIONS.len());
    for row in rows {
        let (eds, _) = situation(&row[0]);
        let object = serde_json::to_value(&eds).expect("json");
        let (status, message) = health(&object);
        assert_eq!(status, row[argo], "{}: {message}", row[0]);
        assert!(!message.is_empty(), "{}", row[0]);
    }
    // A spec the controller has not seen yet is Progressing, whatever the conditions say.
    let (mut eds, _) = situation("done");
    eds.metadata.generation = eds.metadata.generation.map(|g| g + 1);
    let (status, _) = health(&serde_json::to_value(&eds).unwrap());
    assert_eq!(status, "Progressing");
}

#[test]
fn action_tests_in_argo_cd_format() {
    let actions = dir().join("actions");
    let tests = yaml(&actions.join("action_test.yaml"));
    for t in tests["discoveryTests"].as_array().expect("discoveryTests") {
        let input = t["inputPath"].as_str().unwrap();
        let found = run(&actions.join("discovery.lua"), &yaml(&actions.join(input)))
            .unwrap_or_else(|e| panic!("discovery.lua on {input}: {e}"));
        let expected = t["result"].as_array().unwrap();
        assert_eq!(
            found.as_object().map(|o| o.len()),
            Some(expected.len()),
            "{input}: {found}"
        );
        for e in expected {
            let name = e["name"].as_str().unwrap();
            assert_eq!(
                found[name]["disabled"], e["disabled"],
                "{input}: action {name}"
            );
            assert!(
                actions.join(name).join("action.lua").exists(),
                "no action.lua for {name}"
            );
        }
    }
    let action_tests = tests["actionTests"].as_array().expect("actionTests");
    assert_eq!(action_tests.len(), 8);
    for t in action_tests {
        let action = t["action"].as_str().unwrap();
        let input = yaml(&actions.join(t["inputPath"].as_str().unwrap()));
        let expected = yaml(&actions.join(t["expectedOutputPath"].as_str().unwrap()));
        let out = run(&actions.join(action).join("action.lua"), &input)
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        assert_eq!(normalize(out), normalize(expected), "{action}");
    }
}

#[test]
fn canary_actions_refuse_without_a_canary() {
    let actions = dir().join("actions");
    for object in ["running.yaml", "no_status.yaml"] {
        let input = yaml(&actions.join("testdata").join(object));
        for action in ["promote", "pause", "resume", "abort"] {
            let err = run(&actions.join(action).join("action.lua"), &input)
                .expect_err("refused")
                .to_string();
            assert!(
                err.contains("no canary in progress"),
                "{action} on {object}: {err}"
            );
        }
    }
}
