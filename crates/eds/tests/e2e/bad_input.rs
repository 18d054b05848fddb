//! The bad-input corpus (`tests/bad-input/*.yaml`): invalid ExtendedDaemonSets and Settings,
//! each applied as a user would (server-side apply) and refused by the API server with a
//! message naming the field and what is allowed (every `# expect:` line of the case must be in
//! it; a real API server words a value of the wrong type its own way, see
//! [`typed_patch_refusal`]), while the controller keeps rolling out a good ExtendedDaemonSet
//! beside them.

use eds_api::{ExtendedDaemonSet, ExtendedDaemonsetSetting};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, Patch, PatchParams},
};
use serde_json::{Value, json};

use super::{corpus, harness::TestCluster};

/// One case: its file, the message fragments it expects and the manifest.
struct Case {
    file: String,
    expect: Vec<String>,
    manifest: Value,
}

fn cases() -> Vec<Case> {
    corpus::read("")
        .into_iter()
        .map(|c| Case {
            manifest: serde_saphyr::from_str(&c.text)
                .unwrap_or_else(|e| panic!("{} is not YAML: {e}", c.file)),
            file: c.file,
            expect: c.expect,
        })
        .collect()
}

/// Whether `message` is the real API server's refusal of a server-side apply whose value has
/// the wrong type, and names the expected field and type in its own words. kube-apiserver
/// refuses such a value before any schema validation, with a 500: `failed to create typed patch
/// object (ns/bad; datadoghq.com/v1alpha1, Kind=ExtendedDaemonSet): .spec.minReadySeconds:
/// expected numeric (int or float), got string`, or for a list item without its key
/// `.spec.template.spec.containers: element 0: associative list with keys has an element that
/// omits all key fields ["name"]`. The simulated API server answers these cases with the
/// schema's 422, whose words the `# expect:` lines give.
fn typed_patch_refusal(message: &str, expect: &[String]) -> bool {
    message.starts_with("failed to create typed patch object")
        && expect.iter().all(|e| {
            let words = match e.as_str() {
                "integer" => "expected numeric".to_string(),
                "object" => "expected map".to_string(),
                "array" => "expected list".to_string(),
                "string" | "boolean" => format!("expected {e}"),
                "Required value" => "omits all key fields".to_string(),
                // A field path, named up to its first list index: `.spec.template.spec.containers`
                // for `spec.template.spec.containers[0].name`.
                path => format!(".{}", path.split('[').next().unwrap_or(path)),
            };
            message.contains(&words)
        })
}

#[test]
fn the_real_servers_typed_patch_refusals_are_recognised() {
    let expect = |e: &[&str]| e.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let typed = "failed to create typed patch object (ns/bad; datadoghq.com/v1alpha1, \
                 Kind=ExtendedDaemonSet): .spec.minReadySeconds: expected numeric (int or float), \
                 got string";
    assert!(typed_patch_refusal(
        typed,
        &expect(&["spec.minReadySeconds", "integer"])
    ));
    // Another field, or another type, is not this refusal.
    assert!(!typed_patch_refusal(
        typed,
        &expect(&["spec.strategy", "integer"])
    ));
    assert!(!typed_patch_refusal(
        typed,
        &expect(&["spec.minReadySeconds", "array"])
    ));
    let keyless = "failed to create typed patch object (ns/bad; datadoghq.com/v1alpha1, \
                   Kind=ExtendedDaemonSet): .spec.template.spec.containers: element 0: \
                   associative list with keys has an element that omits all key fields [\"name\"]";
    assert!(typed_patch_refusal(
        keyless,
        &expect(&["spec.template.spec.containers[0].name", "Required value"])
    ));
    // A 500 of another kind is no refusal of the input.
    assert!(!typed_patch_refusal(
        "etcdserver: request timed out",
        &expect(&["spec.minReadySeconds", "integer"])
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_refused_with_its_field_and_what_is_allowed() {
    let cases = cases();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let tc = TestCluster::start("bad-input", 2).await;
    let strategy = json!({ "reconcileFrequency": "1s" });
    tc.apply(&tc.eds("good", "registry.k8s.io/pause:3.0", strategy.clone()))
        .await;
    let v1 = tc.wait_available("good", 2).await;
    let params = PatchParams::apply("bad-input-user").force();
    let mut wrong = Vec::new();
    for case in &cases {
        let resource = match case.manifest["kind"].as_str() {
            Some("ExtendedDaemonsetSetting") => ApiResource::erase::<ExtendedDaemonsetSetting>(&()),
            _ => ApiResource::erase::<ExtendedDaemonSet>(&()),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(tc.client.clone(), &tc.namespace, &resource);
        let name = case.manifest["metadata"]["name"].as_str().unwrap_or("bad");
        match api
            .patch(name, &params, &Patch::Apply(&case.manifest))
            .await
        {
            Ok(_) => wrong.push(format!("{}: accepted", case.file)),
            Err(kube::Error::Api(status)) => {
                let missing: Vec<&String> = case
                    .expect
                    .iter()
                    .filter(|f| !status.message.contains(f.as_str()))
                    .collect();
                let refused = (status.code == 422 && missing.is_empty())
                    || (status.code == 500 && typed_patch_refusal(&status.message, &case.expect));
                if !refused {
                    wrong.push(format!(
                        "{}: {} {:?} lacks {missing:?}",
                        case.file, status.code, status.message
                    ));
                }
            }
            Err(e) => wrong.push(format!("{}: {e}", case.file)),
        }
    }
    // The controller kept serving: the good EDS rolls out to a new image.
    tc.apply(&tc.eds("good", "registry.k8s.io/pause:3.1", strategy))
        .await;
    tc.wait_eds("good", "good rolled out after the bad inputs", |e| {
        e.status
            .as_ref()
            .is_some_and(|s| s.active_replica_set != v1 && s.up_to_date == 2 && s.available == 2)
    })
    .await;
    tc.finish().await;
    assert!(
        wrong.is_empty(),
        "{} of {} cases not refused as expected:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
