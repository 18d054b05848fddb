//! Behaviour rules: how a simulated container behaves, chosen by its `SIM_BEHAVIOUR` env
//! value (which wins) or by words in its image name. See the table in the [`super`] docs.

use k8s_openapi::api::core::v1::Container;

/// Env variable whose literal value selects a container's behaviour.
pub const BEHAVIOUR_ENV: &str = "SIM_BEHAVIOUR";
/// Env variable overriding the exit code of a crash-looping container (`Error` crashes).
pub const EXIT_CODE_ENV: &str = "SIM_EXIT_CODE";
/// Image tag that is never found by the simulated registry.
pub const MISSING_TAG: &str = "does-not-exist";

/// How a container behaves once the kubelet starts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Starts, becomes ready after the start delay and keeps running.
    #[default]
    Normal,
    /// Runs briefly, exits and is restarted after a back-off, forever.
    CrashLoop(Crash),
    /// The image cannot be pulled: `ErrImagePull`, then `ImagePullBackOff`, alternating.
    ImagePullError,
    /// Runs but never passes its readiness check.
    NeverReady,
    /// Runs and its readiness flips every flap period.
    Flapping,
}

/// How a crash-looping container terminates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    /// `lastState.terminated.reason`.
    pub reason: CrashReason,
    /// `lastState.terminated.exitCode`.
    pub exit_code: i32,
}

/// `lastState.terminated.reason` of a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashReason {
    /// The process exited with a non-zero code (default exit code 1).
    Error,
    /// The process was killed for exceeding its memory limit (exit code 137).
    OomKilled,
    /// The runtime could not start the process at all (exit code 128); it never runs.
    StartError,
}

impl CrashReason {
    /// The reason as the kubelet writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "Error",
            Self::OomKilled => "OOMKilled",
            Self::StartError => "StartError",
        }
    }

    fn crash(self) -> Crash {
        let exit_code = match self {
            Self::Error => 1,
            Self::OomKilled => 137,
            Self::StartError => 128,
        };
        Crash {
            reason: self,
            exit_code,
        }
    }
}

impl Behaviour {
    /// The behaviour of a container: its `SIM_BEHAVIOUR` value if it names one, else the first
    /// word of the image that does, else [`Behaviour::Normal`].
    pub fn of(container: &Container) -> Behaviour {
        let env = |name: &str| {
            container
                .env
                .iter()
                .flatten()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        let chosen = env(BEHAVIOUR_ENV)
            .and_then(|word| Self::parse(&word))
            .or_else(|| container.image.as_deref().and_then(Self::from_image))
            .unwrap_or_default();
        match (
            chosen,
            env(EXIT_CODE_ENV).and_then(|c| c.parse::<i32>().ok()),
        ) {
            (Behaviour::CrashLoop(crash), Some(exit_code)) => {
                Behaviour::CrashLoop(Crash { exit_code, ..crash })
            }
            (behaviour, _) => behaviour,
        }
    }

    /// Parses a `SIM_BEHAVIOUR` value (case-insensitive).
    pub fn parse(word: &str) -> Option<Behaviour> {
        Some(match word.to_ascii_lowercase().as_str() {
            "normal" => Self::Normal,
            "crashloop" | "error" => Self::CrashLoop(CrashReason::Error.crash()),
            "oomkilled" | "oomkill" => Self::CrashLoop(CrashReason::OomKilled.crash()),
            "starterror" => Self::CrashLoop(CrashReason::StartError.crash()),
            "imagepullerror" | "errimagepull" | "bad-image" => Self::ImagePullError,
            "never-ready" | "neverready" => Self::NeverReady,
            "flapping" => Self::Flapping,
            _ => return None,
        })
    }

    fn from_image(image: &str) -> Option<Behaviour> {
        let lower = image.to_ascii_lowercase();
        let tag = lower
            .rsplit_once(':')
            .map(|(_, t)| t)
            .filter(|t| !t.contains('/'));
        if tag == Some(MISSING_TAG) || lower.contains("bad-image") {
            return Some(Self::ImagePullError);
        }
        let words = [
            ("starterror", CrashReason::StartError),
            ("oomkill", CrashReason::OomKilled),
            ("crashloop", CrashReason::Error),
        ];
        if let Some((_, reason)) = words.iter().find(|(w, _)| lower.contains(w)) {
            return Some(Self::CrashLoop(reason.crash()));
        }
        if lower.contains("never-ready") {
            return Some(Self::NeverReady);
        }
        lower.contains("flapping").then_some(Self::Flapping)
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::EnvVar;

    use super::*;

    fn container(image: &str, env: &[(&str, &str)]) -> Container {
        Container {
            name: "c".into(),
            image: Some(image.into()),
            env: Some(
                env.iter()
                    .map(|(k, v)| EnvVar {
                        name: k.to_string(),
                        value: Some(v.to_string()),
                        ..EnvVar::default()
                    })
                    .collect(),
            ),
            ..Container::default()
        }
    }

    #[test]
    fn images_select_behaviours() {
        let of = |image| Behaviour::of(&container(image, &[]));
        assert_eq!(of("registry.k8s.io/pause:3.0"), Behaviour::Normal);
        assert_eq!(
            of("registry.k8s.io/pause:does-not-exist"),
            Behaviour::ImagePullError
        );
        assert_eq!(of("example.com/bad-image:1"), Behaviour::ImagePullError);
        assert_eq!(
            of("example.com/crashloop:1"),
            Behaviour::CrashLoop(Crash {
                reason: CrashReason::Error,
                exit_code: 1
            })
        );
        assert_eq!(
            of("example.com/oomkill:1"),
            Behaviour::CrashLoop(Crash {
                reason: CrashReason::OomKilled,
                exit_code: 137
            })
        );
        assert_eq!(
            of("example.com/starterror"),
            Behaviour::CrashLoop(Crash {
                reason: CrashReason::StartError,
                exit_code: 128
            })
        );
        assert_eq!(of("localhost:5000/never-ready"), Behaviour::NeverReady);
        assert_eq!(of("flapping:2"), Behaviour::Flapping);
        // A registry port is not a tag.
        assert_eq!(of("localhost:5000/pause"), Behaviour::Normal);
    }

    #[test]
    fn env_wins_over_image_and_sets_the_exit_code() {
        let c = container("example.com/crashloop:1", &[(BEHAVIOUR_ENV, "normal")]);
        assert_eq!(Behaviour::of(&c), Behaviour::Normal);
        let c = container(
            "pause",
            &[(BEHAVIOUR_ENV, "CrashLoop"), (EXIT_CODE_ENV, "3")],
        );
        assert_eq!(
            Behaviour::of(&c),
            Behaviour::CrashLoop(Crash {
                reason: CrashReason::Error,
                exit_code: 3
            })
        );
        let c = container("crashloop", &[(BEHAVIOUR_ENV, "no-such-behaviour")]);
        assert!(matches!(Behaviour::of(&c), Behaviour::CrashLoop(_)));
    }
}
