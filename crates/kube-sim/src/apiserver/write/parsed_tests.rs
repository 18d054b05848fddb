//! The managedFields entries a write keeps next to the stored object are what parsing the
//! stored `fieldsV1` gives, and a server keeping them writes exactly what a server parsing
//! every write does.

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::super::{
    core::{Core, Sub, Target, WriteOpts},
    delete::DeleteOptions,
    managed,
    patch::PatchKind,
    resources::ResKey,
};
use super::Ownership;

const NS: &str = "default";
const MANAGERS: &[&str] = &["kubectl", "controller", "kubelet"];
const KEYS: &[&str] = &["a", "b", "c"];

fn opts(manager: &str) -> WriteOpts {
    WriteOpts {
        dry_run: false,
        manager: manager.into(),
        fields: Default::default(),
    }
}

fn target(core: &Core, plural: &str, sub: Sub) -> Target {
    let info = core.store.registry.get(&ResKey::new("", plural)).unwrap();
    Target {
        version: "v1".into(),
        info: info.clone(),
        namespace: NS.into(),
        sub,
    }
}

fn core(keep_parsed: bool) -> Core {
    let mut core = Core::new(1_000, 7);
    core.store.keep_parsed = keep_parsed;
    let mut t = target(&core, "namespaces", Sub::Main);
    t.namespace = String::new();
    let ns = json!({ "metadata": { "name": NS } });
    core.create(&t, ns, Ownership::Update, &opts("test"))
        .unwrap();
    core
}

/// A map of some of `KEYS` to small values (`null` too when `nulls`).
fn some_map(rng: &mut ChaCha8Rng, nulls: bool) -> Value {
    let mut m = Map::new();
    for k in KEYS {
        match rng.random_range(0..4) {
            0 => {}
            1 if nulls => {
                m.insert((*k).into(), Value::Null);
            }
            n => {
                m.insert((*k).into(), json!(format!("v{n}")));
            }
        }
    }
    Value::Object(m)
}

fn conditions(rng: &mut ChaCha8Rng) -> Value {
    let mut items = Vec::new();
    for t in ["Ready", "Initialized", "ContainersReady"] {
        if rng.random_bool(0.6) {
            let status = if rng.random_bool(0.5) {
                "True"
            } else {
                "False"
            };
            items.push(json!({ "type": t, "status": status }));
        }
    }
    Value::Array(items)
}

/// One write drawn from `rng`, as the request a client would send.
enum Write {
    Create(Target, Value, String),
    Patch(Target, String, PatchKind, Value, String),
    Put(Target, String, Value, Value, String),
    Delete(Target, String),
    Bind(Target, String, String),
}

fn draw(rng: &mut ChaCha8Rng, core: &Core) -> Write {
    let manager = MANAGERS.choose(rng).unwrap().to_string();
    let cm = format!("cm{}", rng.random_range(0..3));
    let pod = format!("p{}", rng.random_range(0..2));
    let cms = target(core, "configmaps", Sub::Main);
    let pods = target(core, "pods", Sub::Main);
    let status = target(core, "pods", Sub::Status);
    let labels = some_map(rng, false);
    match rng.random_range(0..10) {
        0 => Write::Create(
            cms,
            json!({ "metadata": { "name": cm, "labels": labels,
                    "finalizers": if rng.random_bool(0.3) { json!(["x/y"]) } else { json!([]) } },
                    "data": some_map(rng, false) }),
            manager,
        ),
        1 => Write::Patch(
            cms,
            cm,
            PatchKind::Merge,
            json!({ "metadata": { "labels": some_map(rng, true) }, "data": some_map(rng, true) }),
            manager,
        ),
        2 => Write::Patch(
            cms,
            cm.clone(),
            PatchKind::Apply {
                force: rng.random_bool(0.5),
            },
            json!({ "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": { "name": cm, "labels": labels }, "data": some_map(rng, false) }),
            manager,
        ),
        3 => {
            let mut data = some_map(rng, false);
            if rng.random_bool(0.3) {
                data = Value::Null;
            }
            // A client may send any managedFields in an update (the stored ones count).
            let managed = match rng.random_range(0..3) {
                0 => json!([]),
                1 => json!([{ "manager": "m", "operation": "Update", "fieldsType": "FieldsV1",
                              "fieldsV1": { "f:data": {} } }]),
                _ => Value::Null,
            };
            Write::Put(cms, cm, data, managed, manager)
        }
        4 => {
            if rng.random_bool(0.5) {
                Write::Delete(cms, cm)
            } else {
                Write::Patch(
                    cms,
                    cm,
                    PatchKind::Merge,
                    json!({ "metadata": { "finalizers": null } }),
                    manager,
                )
            }
        }
        5 => Write::Create(
            pods,
            json!({ "metadata": { "name": pod, "labels": labels },
                    "spec": { "containers": [{ "name": "c", "image": "img:1" }] } }),
            manager,
        ),
        6 => {
            let phase = *["Pending", "Running"].choose(rng).unwrap();
            Write::Patch(
                status,
                pod,
                if rng.random_bool(0.5) {
                    PatchKind::Strategic
                } else {
                    PatchKind::Merge
                },
                json!({ "status": { "phase": phase, "conditions": conditions(rng) } }),
                manager,
            )
        }
        7 => Write::Patch(
            status,
            pod.clone(),
            PatchKind::Apply {
                force: rng.random_bool(0.5),
            },
            json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": pod },
                    "status": { "conditions": conditions(rng) } }),
            manager,
        ),
        8 => Write::Patch(
            pods,
            pod,
            PatchKind::Strategic,
            json!({ "metadata": { "labels": some_map(rng, true) },
                    "spec": { "containers": [{ "name": "c",
                              "image": format!("img:{}", rng.random_range(1..3)) }] } }),
            manager,
        ),
        _ => Write::Bind(pods, pod, format!("node-{}", rng.random_range(0..2))),
    }
}

/// Runs `w` on `core`: the stored object (or what the error says).
fn run(core: &mut Core, w: &Write) -> Result<Value, String> {
    let stored = match w {
        Write::Create(t, obj, m) => core.create(t, obj.clone(), Ownership::Update, &opts(m)),
        Write::Patch(t, name, kind, body, m) => {
            let body = serde_json::to_vec(body).unwrap();
            core.patch(t, name, *kind, &body, &opts(m)).map(|(o, _)| o)
        }
        Write::Put(t, name, data, managed, m) => {
            let Some(old) = core.store.get(&t.info.key(), NS, name).cloned() else {
                return Err("absent".into());
            };
            let mut new = (*old).clone();
            new["data"] = data.clone();
            if !managed.is_null() {
                new["metadata"]["managedFields"] = managed.clone();
            }
            core.commit(t, &old, new, Ownership::Update, &opts(m))
        }
        Write::Delete(t, name) => {
            let deleted = core.delete(t, name, &DeleteOptions::default(), false);
            return deleted.map(|_| Value::Null).map_err(|e| format!("{e:?}"));
        }
        Write::Bind(t, name, node) => core
            .bind(
                t,
                name,
                &serde_json::to_vec(&json!({ "target": { "name": node } })).unwrap(),
            )
            .map(std::sync::Arc::new),
    };
    stored.map(|o| (*o).clone()).map_err(|e| format!("{e:?}"))
}

/// `v` with its timestamps blanked (two runs may straddle a second).
fn untimed(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if matches!(
                        k.as_str(),
                        "time" | "creationTimestamp" | "lastTransitionTime"
                    ) {
                        *x = json!("T");
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn stored(core: &Core) -> Vec<Value> {
    ["configmaps", "pods"]
        .iter()
        .flat_map(|p| core.store.iter(&ResKey::new("", p), None))
        .map(|(_, o)| untimed((**o).clone()))
        .collect()
}

#[test]
fn kept_entries_are_the_parsed_stored_ones_and_change_nothing_written() {
    for seed in 0..150 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut kept = core(true);
        let mut parsed = core(false);
        for step in 0..40 {
            let w = draw(&mut rng, &kept);
            let a = run(&mut kept, &w).map(untimed);
            let b = run(&mut parsed, &w).map(untimed);
            assert_eq!(a, b, "seed {seed} step {step}: the write's result");
            assert_eq!(
                stored(&kept),
                stored(&parsed),
                "seed {seed} step {step}: the stored objects"
            );
            for p in ["configmaps", "pods"] {
                let res = ResKey::new("", p);
                for (_, obj) in kept.store.iter(&res, None) {
                    assert_eq!(
                        kept.store.managed(&res, obj),
                        managed::read(obj),
                        "seed {seed} step {step}: the kept entries of {obj}"
                    );
                }
            }
        }
    }
}
