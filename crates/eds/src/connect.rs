//! Connecting to a cluster the way kubectl does: `--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`, else the in-cluster service account; `--context`, `--cluster` and `--user`
//! pick entries of that file, and kubectl's other connection flags (`--server`, `--token`,
//! `--as`...) override what they name, as kubectl's do.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use kube::config::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster,
    NamedContext,
};

/// Why no client configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The kubeconfig file cannot be read or parsed.
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    /// `--context`, `--cluster` or `--user` names an entry the kubeconfig does not have.
    #[error("{what} {name:?} is not in {path}; it has: {}", list(.available))]
    Unknown {
        what: &'static str,
        name: String,
        path: String,
        available: Vec<String>,
    },
    /// The kubeconfig cannot be used (bad credentials, no server...).
    #[error("{path}: {message}")]
    Kubeconfig { path: String, message: String },
    /// A flag value is invalid.
    #[error("invalid {flag} {value:?}: {expected}")]
    Flag {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    /// No kubeconfig at all, and not running in a cluster.
    #[error("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not in a cluster: {0}")]
    NoConfig(String),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// kubectl's connection flags; `None` and `false` leave the kubeconfig's choice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub context: Option<String>,
    /// `--cluster`: the kubeconfig cluster to use instead of the context's.
    pub cluster: Option<String>,
    /// `--user`: the kubeconfig user to use instead of the context's.
    pub user: Option<String>,
    /// `--server`: the API server URL.
    pub server: Option<String>,
    /// `--certificate-authority`: a PEM file of the API server's CA.
    pub certificate_authority: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
    /// `--token`: a bearer token, replacing the user's credentials.
    pub token: Option<String>,
    /// `--as`: the user to impersonate.
    pub impersonate: Option<String>,
    /// `--as-group`: the groups to impersonate.
    pub impersonate_groups: Vec<String>,
    /// `--request-timeout`: the limit of one request (`None`: no limit).
    pub request_timeout: Option<Duration>,
}

/// Parses kubectl's `--request-timeout`: `0` (no limit), a number of seconds, or a duration
/// such as `500ms`, `30s`, `1m30s`, `2h`.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, ConnectError> {
    let invalid = || ConnectError::Flag {
        flag: "--request-timeout",
        value: text.to_string(),
        expected: "a number of seconds, or a duration like 500ms, 30s, 1m30s, 2h (0: no limit)",
    };
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok((seconds > 0).then(|| Duration::from_secs(seconds)));
    }
    let (mut total, mut rest) = (Duration::ZERO, text);
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += match &rest[..unit] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number * 60),
            "h" => Duration::from_secs(number * 3600),
            _ => return Err(invalid()),
        };
        rest = &rest[unit..];
    }
    if text.is_empty() {
        return Err(invalid());
    }
    Ok((!total.is_zero()).then_some(total))
}

/// Where the kubeconfig comes from, for messages.
fn source(kubeconfig: Option<&Path>) -> String {
    if let Some(path) = kubeconfig {
        return path.display().to_string();
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return format!("{} (from $KUBECONFIG)", paths.to_string_lossy());
    }
    match std::env::var_os("HOME") {
        Some(home) => Path::new(&home).join(".kube/config").display().to_string(),
        None => "~/.kube/config".to_string(),
    }
}

/// The client configuration for `kubeconfig` (a path) and `context` alone.
pub async fn config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<kube::Config, ConnectError> {
    config_with(&Overrides {
        kubeconfig: kubeconfig.map(Path::to_path_buf),
        context: context.map(String::from),
        ..Overrides::default()
    })
    .await
}

/// The client configuration kubectl would use with these flags.
pub async fn config_with(flags: &Overrides) -> Result<kube::Config, ConnectError> {
    let path = source(flags.kubeconfig.as_deref());
    let file = match &flags.kubeconfig {
        Some(file) => Some(Kubeconfig::read_from(file).map_err(|e| ConnectError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?),
        None => match Kubeconfig::read() {
            Ok(file) => Some(file),
            Err(e) if flags.context.is_some() || flags.cluster.is_some() => {
                return Err(ConnectError::Read {
                    path,
                    message: e.to_string(),
                });
            }
            Err(_) => None,
        },
    };
    let file = match (file, &flags.server) {
        (Some(file), _) => Some(file),
        // `--server` alone is a complete configuration, as for kubectl.
        (None, Some(_)) => Some(Kubeconfig {
            clusters: vec![NamedCluster {
                name: "flags".into(),
                cluster: Some(Cluster::default()),
                other: Default::default(),
            }],
            auth_infos: vec![NamedAuthInfo {
                name: "flags".into(),
                auth_info: Some(AuthInfo::default()),
                other: Default::default(),
            }],
            contexts: vec![NamedContext {
                name: "flags".into(),
                context: Some(Context {
                    cluster: "flags".into(),
                    user: Some("flags".into()),
                    ..Context::default()
                }),
                other: Default::default(),
            }],
            current_context: Some("flags".into()),
            ..Kubeconfig::default()
        }),
        (None, None) => None,
    };
    let mut config = match file {
        Some(mut file) => {
            let options = apply(&mut file, flags, &path)?;
            kube::Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| ConnectError::Kubeconfig {
                    path: path.clone(),
                    message: e.to_string(),
                })?
        }
        None => {
            let mut config =
                kube::Config::incluster().map_err(|e| ConnectError::NoConfig(e.to_string()))?;
            override_user(&mut config.auth_info, flags);
            config
        }
    };
    if let Some(timeout) = flags.request_timeout {
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
    }
    Ok(config)
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| name(i).to_string()).collect()
}

fn check(
    what: &'static str,
    name: &str,
    available: Vec<String>,
    path: &str,
) -> Result<(), ConnectError> {
    if available.iter().any(|a| a == name) {
        return Ok(());
    }
    Err(ConnectError::Unknown {
        what,
        name: name.to_string(),
        path: path.to_string(),
        available,
    })
}

/// Checks the names the flags give and writes the overrides into the entries the chosen
/// context uses; returns the options that select them.
fn apply(
    file: &mut Kubeconfig,
    flags: &Overrides,
    path: &str,
) -> Result<KubeConfigOptions, ConnectError> {
    if let Some(context) = &flags.context {
        check("context", context, names(&file.contexts, |c| &c.name), path)?;
    }
    if let Some(cluster) = &flags.cluster {
        check("cluster", cluster, names(&file.clusters, |c| &c.name), path)?;
    }
    if let Some(user) = &flags.user {
        check("user", user, names(&file.auth_infos, |u| &u.name), path)?;
    }
    let context_name = flags
        .context
        .clone()
        .or_else(|| file.current_context.clone());
    let context = file
        .contexts
        .iter()
        .find(|c| Some(&c.name) == context_name.as_ref())
        .and_then(|c| c.context.clone());
    let cluster = flags
        .cluster
        .clone()
        .or_else(|| context.as_ref().map(|c| c.cluster.clone()));
    let user = flags
        .user
        .clone()
        .or_else(|| context.as_ref().and_then(|c| c.user.clone()));
    if let Some(entry) = file
        .clusters
        .iter_mut()
        .find(|c| Some(&c.name) == cluster.as_ref())
    {
        let cluster = entry.cluster.get_or_insert_with(Cluster::default);
        if let Some(server) = &flags.server {
            cluster.server = Some(server.clone());
        }
        if let Some(ca) = &flags.certificate_authority {
            cluster.certificate_authority = Some(ca.display().to_string());
            cluster.certificate_authority_data = None;
        }
        if flags.insecure_skip_tls_verify {
            cluster.insecure_skip_tls_verify = Some(true);
        }
    }
    if let Some(entry) = file
        .auth_infos
        .iter_mut()
        .find(|u| Some(&u.name) == user.as_ref())
    {
        override_user(entry.auth_info.get_or_insert_with(AuthInfo::default), flags);
    }
    Ok(KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    })
}

/// `--token` replaces the user's credentials; `--as`/`--as-group` impersonate.
fn override_user(user: &mut AuthInfo, flags: &Overrides) {
    if let Some(token) = &flags.token {
        *user = AuthInfo {
            token: Some(token.clone().into()),
            impersonate: user.impersonate.clone(),
            impersonate_groups: user.impersonate_groups.clone(),
            ..AuthInfo::default()
        };
    }
    if let Some(name) = &flags.impersonate {
        user.impersonate = Some(name.clone());
    }
    if !flags.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(flags.impersonate_groups.clone());
    }
}

#[cfg(test)]
mod tests;
