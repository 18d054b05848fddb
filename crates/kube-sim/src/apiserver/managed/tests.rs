//! Field ownership of updates, written back to `metadata.managedFields`.

use serde_json::{Value, json};

use super::*;

fn writer<'a>(manager: &'a str, lists: &'a Lists) -> Writer<'a> {
    Writer {
        manager,
        api_version: "v1",
        subresource: "",
        scope: Scope::All,
        now: "2026-01-01T00:00:00Z",
        lists,
    }
}

fn fields_of(obj: &Value, manager: &str) -> Value {
    let list = obj["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields");
    list.iter()
        .find(|e| e["manager"] == manager)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn an_update_takes_the_changed_fields_from_the_stored_entries() {
    let lists = Lists::Builtin;
    let mut old = json!({ "data": { "x": "1", "y": "2" } });
    let mut entries = Vec::new();
    track_update(&mut entries, None, &old, &writer("a", &lists));
    write(&mut old, entries, None);
    assert_eq!(
        fields_of(&old, "a"),
        json!({ "f:data": { "f:x": {}, "f:y": {} } })
    );

    // Read back from the stored object, as every later write does.
    let mut new = old.clone();
    new["data"]["x"] = json!("3");
    let mut entries = read(&old);
    track_update(&mut entries, Some(&old), &new, &writer("b", &lists));
    write(&mut new, entries, Some(&old));
    assert_eq!(fields_of(&new, "a"), json!({ "f:data": { "f:y": {} } }));
    assert_eq!(fields_of(&new, "b"), json!({ "f:data": { "f:x": {} } }));

    // An entry no write touches is written back as it was stored.
    let mut newer = new.clone();
    newer["data"]["z"] = json!("4");
    let mut entries = read(&new);
    track_update(&mut entries, Some(&new), &newer, &writer("b", &lists));
    write(&mut newer, entries, Some(&new));
    assert_eq!(fields_of(&newer, "a"), json!({ "f:data": { "f:y": {} } }));
    assert_eq!(
        fields_of(&newer, "b"),
        json!({ "f:data": { "f:x": {}, "f:z": {} } })
    );
}

#[test]
fn a_writer_changing_only_fields_it_owns_keeps_its_fields_and_takes_the_new_time() {
    let lists = Lists::Builtin;
    let at = |manager, now| Writer {
        now,
        ..writer(manager, &lists)
    };
    let mut old = json!({ "data": { "x": "1", "y": "2" } });
    let mut entries = Vec::new();
    track_update(&mut entries, None, &old, &at("a", "t1"));
    let stored = write(&mut old, entries, None);
    assert_eq!(stored, read(&old));

    // `a` changes a field it owns a second later: same fields, new time, whether the new
    // object holds the stored list (a patch) or another one (a client's update).
    for given in [old["metadata"]["managedFields"].clone(), json!([])] {
        let mut new = old.clone();
        new["data"]["x"] = json!("3");
        new["metadata"]["managedFields"] = given;
        let mut entries = read(&old);
        track_update(&mut entries, Some(&old), &new, &at("a", "t2"));
        let written = write(&mut new, entries, Some(&old));
        let list = &new["metadata"]["managedFields"];
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["time"], json!("t2"));
        assert_eq!(
            list[0]["fieldsV1"],
            json!({ "f:data": { "f:x": {}, "f:y": {} } })
        );
        assert_eq!(written, read(&new));
    }

    // `a` removing `x` loses it and keeps `y`; `b` then taking `y` leaves `a` nothing.
    let mut new = old.clone();
    new["data"] = json!({ "y": "2" });
    let mut entries = read(&old);
    track_update(&mut entries, Some(&old), &new, &at("a", "t3"));
    write(&mut new, entries, Some(&old));
    assert_eq!(fields_of(&new, "a"), json!({ "f:data": { "f:y": {} } }));
    let mut newer = new.clone();
    newer["data"] = json!({ "y": "5" });
    let mut entries = read(&new);
    track_update(&mut entries, Some(&new), &newer, &at("b", "t4"));
    write(&mut newer, entries, Some(&new));
    assert_eq!(fields_of(&newer, "a"), Value::Null);
    assert_eq!(fields_of(&newer, "b"), json!({ "f:data": { "f:y": {} } }));
}
