use super::*;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
- name: prod-cluster
  cluster:
    server: https://prod.example:6443
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    token: prod-token
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
"#;

fn kubeconfig() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, KUBECONFIG).unwrap();
    (dir, path)
}

/// The bearer token (a kubeconfig serializes it in clear).
fn token(config: &kube::Config) -> String {
    let user = serde_json::to_value(&config.auth_info).unwrap();
    user["token"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_unknown_context_lists_the_contexts_and_names_the_file() {
    let (_dir, path) = kubeconfig();
    let err = config(Some(&path), Some("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"nope\""), "{err}");
    assert!(err.contains("dev, prod"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[tokio::test]
async fn a_missing_kubeconfig_is_named() {
    let err = config(Some(Path::new("/nonexistent/kubeconfig")), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
}

#[tokio::test]
async fn cluster_and_user_flags_pick_other_entries() {
    let (_dir, path) = kubeconfig();
    let flags = Overrides {
        kubeconfig: Some(path.clone()),
        cluster: Some("prod-cluster".into()),
        user: Some("prod-user".into()),
        ..Overrides::default()
    };
    let config = config_with(&flags).await.unwrap();
    assert_eq!(config.cluster_url.host(), Some("prod.example"));
    assert_eq!(token(&config), "prod-token");
    assert_eq!(config.default_namespace, "team-a", "still the dev context");
    let err = config_with(&Overrides {
        user: Some("ghost".into()),
        ..flags
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("user \"ghost\"") && err.contains("dev-user, prod-user"),
        "{err}"
    );
}

#[tokio::test]
async fn server_token_impersonation_tls_and_timeout_override_the_context() {
    let (dir, path) = kubeconfig();
    let ca = dir.path().join("ca.crt");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let flags = Overrides {
        kubeconfig: Some(path),
        context: Some("prod".into()),
        server: Some("https://other.example:8443".into()),
        token: Some("flag-token".into()),
        impersonate: Some("jane".into()),
        impersonate_groups: vec!["ops".into(), "dev".into()],
        certificate_authority: Some(ca),
        request_timeout: parse_timeout("1m30s").unwrap(),
        ..Overrides::default()
    };
    let config = config_with(&flags).await.unwrap();
    assert_eq!(config.cluster_url.host(), Some("other.example"));
    assert_eq!(config.cluster_url.port_u16(), Some(8443));
    assert_eq!(token(&config), "flag-token");
    assert_eq!(config.auth_info.impersonate.as_deref(), Some("jane"));
    assert_eq!(
        config.auth_info.impersonate_groups,
        Some(vec!["ops".to_string(), "dev".to_string()])
    );
    assert!(config.root_cert.is_some(), "the CA file is loaded");
    assert!(!config.accept_invalid_certs);
    assert_eq!(config.read_timeout, Some(Duration::from_secs(90)));
    let insecure = config_with(&Overrides {
        insecure_skip_tls_verify: true,
        certificate_authority: None,
        ..flags
    })
    .await
    .unwrap();
    assert!(insecure.accept_invalid_certs);
}

#[test]
fn request_timeouts_read_like_kubectl() {
    assert_eq!(parse_timeout("0").unwrap(), None);
    assert_eq!(parse_timeout("5").unwrap(), Some(Duration::from_secs(5)));
    assert_eq!(
        parse_timeout("500ms").unwrap(),
        Some(Duration::from_millis(500))
    );
    assert_eq!(
        parse_timeout("2h").unwrap(),
        Some(Duration::from_secs(7200))
    );
    for bad in ["", "abc", "5x", "m", "1.5s"] {
        let err = parse_timeout(bad).unwrap_err().to_string();
        assert!(err.contains("--request-timeout"), "{bad}: {err}");
    }
}
