//! The bad-input corpus (`tests/bad-input/*.yaml`): invalid ExtendedDaemonSets and Settings,
//! each applied as a user would (server-side apply) and refused by the API server with a
//! message naming the field and what is allowed (every `# expect:` line of the case must be in
//! it), while the controller keeps rolling out a good ExtendedDaemonSet beside them.

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
                if status.code != 422 || !missing.is_empty() {
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
