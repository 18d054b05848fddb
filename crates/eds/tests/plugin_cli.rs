//! The `kubectl-eds` binary as a user runs it: `--help` text (golden), completions, exit codes,
//! and the kubeconfig flags against the simulator.

use std::{path::Path, process::Output};

use eds_api::ExtendedDaemonSet;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, CustomResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use kube_sim::apiserver::{Config, SimApiServer};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eds");

async fn kubectl_eds(args: &[&str]) -> Output {
    tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run kubectl-eds")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[tokio::test]
async fn help_texts() {
    let verbs: &[&[&str]] = &[
        &[],
        &["get"],
        &["get-ers"],
        &["pods"],
        &["diff"],
        &["canary"],
        &["canary", "validate"],
        &["canary", "pause"],
        &["canary", "unpause"],
        &["canary", "fail"],
        &["canary", "pods"],
        &["pause-rolling-update"],
        &["unpause-rolling-update"],
        &["freeze-rollout"],
        &["unfreeze-rollout"],
        &["rollout"],
        &["rollout", "history"],
        &["rollout", "undo"],
        &["rollout", "status"],
        &["completion"],
        &["plan"],
    ];
    for verb in verbs {
        let mut args = verb.to_vec();
        args.push("--help");
        let out = kubectl_eds(&args).await;
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let name = if verb.is_empty() {
            "kubectl-eds".to_string()
        } else {
            verb.join("-")
        };
        insta::assert_snapshot!(format!("help_{name}"), text(&out.stdout));
    }
}

#[tokio::test]
async fn usage_errors_exit_2() {
    for args in [
        &["pods", "foo"][..],
        &["pods", "foo", "--select", "all"],
        &["get", "foo", "-A"],
        &["rollout", "status", "foo", "--timeout", "soon", "--watch"],
        &["rollout", "status", "foo", "--watch=maybe"],
    ] {
        let out = kubectl_eds(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("error:"), "{args:?}");
    }
}

#[tokio::test]
async fn completions() {
    for (shell, marker) in [
        ("bash", "complete -F _kubectl__eds"),
        ("zsh", "#compdef kubectl-eds"),
        ("fish", "complete -c kubectl-eds"),
    ] {
        let out = kubectl_eds(&["completion", shell]).await;
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("pause-rolling-update"), "{shell}");
    }
}

/// Writes a kubeconfig for `server` whose context's namespace is `namespace`.
fn write_kubeconfig(server: &SimApiServer, namespace: &str, path: &Path) {
    let mut config = server.kubeconfig();
    config.contexts[0].context.as_mut().unwrap().namespace = Some(namespace.into());
    std::fs::write(path, serde_saphyr::to_string(&config).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_context_namespace_and_exit_codes() {
    let server = SimApiServer::start(Config::default()).await.unwrap();
    let client = server.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &ExtendedDaemonSet::crd())
        .await
        .unwrap();
    let eds: ExtendedDaemonSet = serde_json::from_value(json!({
        "apiVersion": "datadoghq.com/v1alpha1", "kind": "ExtendedDaemonSet",
        "metadata": {"name": "foo"},
        "spec": {"template": {"spec": {"containers": [{"name": "d", "image": "i"}]}}, "strategy": {}},
    }))
    .unwrap();
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), "kube-system");
    api.create(&PostParams::default(), &eds).await.unwrap();
    let failed = json!({"status": {"state": "Canary Failed", "reason": "MaxRestartsExceeded"}});
    api.patch_status("foo", &PatchParams::default(), &Patch::Merge(failed))
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    write_kubeconfig(&server, "kube-system", &kubeconfig);
    let kc = kubeconfig.to_str().unwrap();

    // The namespace comes from the context.
    let out = kubectl_eds(&["--kubeconfig", kc, "get"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.lines().nth(1).unwrap().starts_with("foo "),
        "{stdout}"
    );

    // -n wins over the context; a missing object is exit 2 with its name.
    let out = kubectl_eds(&["get", "foo", "-n", "default", "--kubeconfig", kc]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: ExtendedDaemonSet default/foo not found\n"
    );

    // A failed rollout is exit 1.
    let out = kubectl_eds(&["rollout", "status", "foo", "--kubeconfig", kc]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: rollout of ExtendedDaemonSet kube-system/foo failed: canary failed (MaxRestartsExceeded)\n"
    );

    // An unknown context is exit 2 and says why: the file, and the contexts it has.
    let out = kubectl_eds(&["get", "--kubeconfig", kc, "--context", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cannot load the kubeconfig"), "{err}");
    assert!(
        err.contains("context \"nope\"") && err.contains(kc),
        "{err}"
    );
    assert!(err.contains("it has: "), "{err}");

    // kubectl's plugin completion gets the ExtendedDaemonSet names of the context's namespace.
    let complete = |args: Vec<&str>| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl_complete-eds"))
            .args(args)
            .env_remove("KUBECONFIG")
            .output()
    };
    let out = complete(vec!["--kubeconfig", kc, "get", "f"])
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), "foo\n:4\n");
    let out = complete(vec!["--kubeconfig", kc, "-n", "default", "get", ""])
        .await
        .unwrap();
    assert_eq!(text(&out.stdout), ":4\n", "no ExtendedDaemonSet in default");
    // --token and --as reach the server: the simulator accepts any token.
    let out = kubectl_eds(&[
        "get",
        "foo",
        "--kubeconfig",
        kc,
        "--token",
        "t",
        "--as",
        "jane",
        "--request-timeout",
        "5s",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    server.stop().await;
}
