//! `kubectl_complete-eds`: completions for kubectl's plugin completion (kubectl 1.26+). For
//! `kubectl eds <words> <TAB>` kubectl runs `kubectl_complete-eds <words> <partial>` and
//! expects Cobra's protocol: one candidate per line (`value\tdescription`), then
//! `:<directive>`. Verbs and flags come from the clap definition; ExtendedDaemonSet and
//! ExtendedDaemonSetReplicaSet names and namespaces from the cluster, contexts from the
//! kubeconfig.

use clap::CommandFactory;
use kube::{Api, Client, ResourceExt, api::ListParams, core::NamespaceResourceScope};

use super::{Cli, cli::ClientArgs, client::build_client, client::namespace};
use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet};

/// Cobra's `ShellCompDirectiveNoFileComp`: do not fall back to file names.
pub const NO_FILE_COMPLETION: u32 = 4;
/// Cobra's `ShellCompDirectiveDefault`: the shell may complete file names.
pub const FILES: u32 = 0;

/// What the word under the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Fixed candidates with descriptions (verbs, flags).
    Fixed(Vec<(String, String)>),
    /// The name of an ExtendedDaemonSet of the namespace.
    EdsName,
    /// The name of an ExtendedDaemonSetReplicaSet of the namespace.
    ErsName,
    /// A kubeconfig context.
    Context,
    /// A file (`--kubeconfig`, `--certificate-authority`).
    File,
    /// Nothing to offer.
    Nothing,
}

/// The value-taking connection flags and how they fill [`ClientArgs`].
fn connection_flag(args: &mut ClientArgs, flag: &str, value: &str) {
    let value = value.to_string();
    match flag {
        "--kubeconfig" => args.kubeconfig = Some(value.into()),
        "--context" => args.context = Some(value),
        "-n" | "--namespace" => args.namespace = Some(value),
        "--cluster" => args.cluster = Some(value),
        "--user" => args.user = Some(value),
        "-s" | "--server" => args.server = Some(value),
        "--token" => args.token = Some(value),
        "--as" => args.impersonate = Some(value),
        "--as-group" => args.impersonate_groups.push(value),
        "--certificate-authority" => args.certificate_authority = Some(value.into()),
        _ => {}
    }
}

/// Decides what to complete from the words before the cursor and the partial word, and
/// collects the connection flags among them.
pub fn want(words: &[String]) -> (Want, ClientArgs) {
    let mut command = Cli::command();
    command.build();
    let (partial, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", &[][..]),
    };
    let mut client = ClientArgs::default();
    let mut positionals = 0;
    let mut pending: Option<String> = None;
    for word in before {
        if let Some(flag) = pending.take() {
            connection_flag(&mut client, &flag, word);
            continue;
        }
        if word == "--insecure-skip-tls-verify" {
            client.insecure_skip_tls_verify = true;
        } else if let Some((flag, value)) = word.split_once('=').filter(|_| word.starts_with('-')) {
            connection_flag(&mut client, flag, value);
        } else if word.starts_with('-') {
            let takes_value = command.get_arguments().any(|a| {
                (a.get_long().is_some_and(|l| format!("--{l}") == *word)
                    || a.get_short().is_some_and(|s| format!("-{s}") == *word))
                    && a.get_action().takes_values()
            });
            if takes_value {
                pending = Some(word.clone());
            }
        } else if let Some(sub) = command.find_subcommand(word).cloned() {
            command = sub;
            positionals = 0;
        } else {
            positionals += 1;
        }
    }
    let want = match pending.as_deref() {
        Some("--context") => Want::Context,
        Some("--kubeconfig" | "--certificate-authority") => Want::File,
        Some(_) => Want::Nothing,
        None if partial.starts_with('-') => Want::Fixed(
            command
                .get_arguments()
                .filter_map(|a| {
                    let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                    a.get_long().map(|l| (format!("--{l}"), help))
                })
                .collect(),
        ),
        None if command.has_subcommands() => Want::Fixed(
            command
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| {
                    let about = s.get_about().map(|h| h.to_string()).unwrap_or_default();
                    (s.get_name().to_string(), about)
                })
                .collect(),
        ),
        None if positionals == 0 && command.get_positionals().any(|a| a.get_id() == "name") => {
            match command.get_name() {
                "get-ers" => Want::ErsName,
                _ => Want::EdsName,
            }
        }
        None => Want::Nothing,
    };
    (want, client)
}

async fn names<K>(client: &Client, namespace: &str) -> Vec<String>
where
    K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.list_metadata(&ListParams::default()).await {
        Ok(list) => list.items.iter().map(ResourceExt::name_any).collect(),
        Err(_) => Vec::new(),
    }
}

/// The Cobra-protocol answer for `words` (the plugin's arguments, the last one partial).
pub async fn complete(words: &[String]) -> String {
    let partial = words.last().map(String::as_str).unwrap_or_default();
    let (want, args) = want(words);
    let (candidates, directive): (Vec<(String, String)>, u32) = match want {
        Want::Fixed(candidates) => (candidates, NO_FILE_COMPLETION),
        Want::File => (Vec::new(), FILES),
        Want::Nothing => (Vec::new(), NO_FILE_COMPLETION),
        Want::Context => {
            let file = match &args.kubeconfig {
                Some(path) => kube::config::Kubeconfig::read_from(path),
                None => kube::config::Kubeconfig::read(),
            };
            let contexts = file.map(|f| f.contexts).unwrap_or_default();
            let names = contexts
                .into_iter()
                .map(|c| (c.name, String::new()))
                .collect();
            (names, NO_FILE_COMPLETION)
        }
        Want::EdsName | Want::ErsName => {
            let names = match build_client(&args).await {
                Ok(client) => {
                    let ns = namespace(&args, &client);
                    if want == Want::EdsName {
                        names::<ExtendedDaemonSet>(&client, &ns).await
                    } else {
                        names::<ExtendedDaemonSetReplicaSet>(&client, &ns).await
                    }
                }
                Err(_) => Vec::new(),
            };
            (
                names.into_iter().map(|n| (n, String::new())).collect(),
                NO_FILE_COMPLETION,
            )
        }
    };
    let mut out = String::new();
    for (value, description) in candidates.iter().filter(|(v, _)| v.starts_with(partial)) {
        match description.lines().next() {
            Some(line) if !line.is_empty() => out.push_str(&format!("{value}\t{line}\n")),
            _ => out.push_str(&format!("{value}\n")),
        }
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut words: Vec<String> = text.split(' ').map(String::from).collect();
        if text.is_empty() {
            words = vec![String::new()];
        }
        words
    }

    #[test]
    fn verbs_flags_names_and_contexts_are_told_apart() {
        let verbs = match want(&words("")).0 {
            Want::Fixed(v) => v.into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert!(verbs.contains(&"get".to_string()) && verbs.contains(&"canary".to_string()));
        assert_eq!(want(&words("get ")).0, Want::EdsName);
        assert_eq!(want(&words("get-ers ")).0, Want::ErsName);
        assert_eq!(want(&words("canary validate f")).0, Want::EdsName);
        assert_eq!(want(&words("-n team get ")).0, Want::EdsName);
        assert_eq!(want(&words("get foo ")).0, Want::Nothing, "one name only");
        assert_eq!(want(&words("get --context ")).0, Want::Context);
        assert_eq!(want(&words("get --kubeconfig ")).0, Want::File);
        let canary = match want(&words("canary ")).0 {
            Want::Fixed(v) => v.into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert!(canary.contains(&"validate".to_string()), "{canary:?}");
        match want(&words("get --")).0 {
            Want::Fixed(flags) => {
                assert!(flags.iter().any(|(f, _)| f == "--as-group"), "{flags:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connection_flags_among_the_words_are_used() {
        let (_, args) = want(&words(
            "--kubeconfig /k --context=prod -n team --as jane get f",
        ));
        assert_eq!(args.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(args.context.as_deref(), Some("prod"));
        assert_eq!(args.namespace.as_deref(), Some("team"));
        assert_eq!(args.impersonate.as_deref(), Some("jane"));
    }

    #[tokio::test]
    async fn the_answer_follows_cobra_and_filters_by_prefix() {
        let out = complete(&words("canary v")).await;
        assert_eq!(out.lines().last(), Some(":4"));
        assert!(out.starts_with("validate\t"), "{out}");
        assert!(!out.contains("pause"), "{out}");
    }
}
