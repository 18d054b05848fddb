//! `rollout status <eds> [--watch=false] [--timeout D]`.
//!
//! Done means what it means for a DaemonSet, plus the ExtendedDaemonSet state: the controller
//! has seen the latest spec (`status.observedGeneration >= metadata.generation`), every desired
//! node runs an up-to-date and available pod, and the state is `Running`. As in the status
//! contract (`docs/status.md`), a failed canary or a `Stalled` condition is a failure (exit 1),
//! as is running out of `--timeout`; a pause a user asked for is not: it waits. It watches by
//! default, as `kubectl rollout status` does, and shows the time a canary has left.

use std::io::Write;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, watcher},
};

use crate::plugin::{
    annotate::object_ref,
    client::get_eds,
    error::{Error, ObjectRef, Result},
};
use eds_api::{
    Duration, ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ValidationMode,
    condition::find,
    constants::{condition_type, state},
};

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The rollout is complete.
    Done(String),
    /// The rollout goes on (or is held): what it waits for, and `(updated, available, desired)`.
    Waiting(String, (i32, i32, i32)),
    /// The rollout failed; why.
    Failed(String),
}

/// Evaluates the rollout from the object alone.
pub fn evaluate(eds: &ExtendedDaemonSet) -> Progress {
    let status = eds.status.clone().unwrap_or_default();
    let counts = (status.up_to_date, status.available, status.desired);
    let state = status.state.clone().unwrap_or_default();
    let reason = status.reason.clone().unwrap_or_default();
    let with_reason = |what: &str| match reason.as_str() {
        "" => what.to_string(),
        r => format!("{what} ({r})"),
    };
    if state == state::CANARY_FAILED {
        return Progress::Failed(with_reason("canary failed"));
    }
    for type_ in [condition_type::CANARY_FAILED, condition_type::STALLED] {
        if let Some(c) = find(&status.conditions, type_).filter(|c| c.is_true()) {
            let why = [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            return Progress::Failed(format!("condition {type_} is True: {why}"));
        }
    }
    let generation = eds.metadata.generation.unwrap_or(0);
    if status.observed_generation.is_none_or(|g| g < generation) {
        return Progress::Waiting(
            "waiting for the controller to observe the latest spec".into(),
            counts,
        );
    }
    let (updated, available, desired) = counts;
    let held = match state.as_str() {
        state::CANARY => Some(match status.canary.as_ref().map(|c| &c.replica_set) {
            Some(ers) if !ers.is_empty() => format!("canary {ers} in progress"),
            _ => "canary in progress".to_string(),
        }),
        state::CANARY_PAUSED => Some(with_reason("canary paused")),
        state::ROLLING_UPDATE_PAUSED => Some("rolling update paused".to_string()),
        state::ROLLOUT_FROZEN => Some("rollout frozen".to_string()),
        _ => None,
    };
    let message = if updated < desired {
        format!("{updated} of {desired} pods updated")
    } else if available < desired {
        format!("{available} of {desired} updated pods available")
    } else if state != state::RUNNING {
        format!("state {state:?}")
    } else {
        return Progress::Done(format!(
            "successfully rolled out ({desired} pods, ERS {})",
            status.active_replica_set
        ));
    };
    let message = match held {
        Some(h) => format!("{h}: {message}"),
        None => format!("waiting for the rollout to finish: {message}"),
    };
    Progress::Waiting(message, counts)
}

/// What a canary in progress waits for: the time left of its `duration` (counted from the
/// creation of the canary ERS, `ers_created`), or `canary validate` in manual mode. `None` when
/// no canary runs.
pub fn canary_note(
    eds: &ExtendedDaemonSet,
    ers_created: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Option<String> {
    let status = eds.status.as_ref()?;
    if status.state.as_deref() != Some(state::CANARY) {
        return None;
    }
    // The controller's default mode (EDS_VALIDATION_MODE) is not visible here: auto unless the
    // spec says otherwise.
    let canary = eds.spec.resolve(ValidationMode::Auto).canary?;
    let Some(duration) = canary
        .duration
        .filter(|_| canary.validation_mode == ValidationMode::Auto)
    else {
        return Some("manual validation: waiting for `kubectl eds canary validate`".into());
    };
    let created = ers_created?;
    let total = std::time::Duration::from(duration).as_secs();
    let elapsed = u64::try_from(now.as_second() - created.as_second()).unwrap_or(0);
    Some(match total.checked_sub(elapsed).filter(|left| *left > 0) {
        Some(left) => format!("{} of {} left", minutes(left), minutes(total)),
        None => format!(
            "{} elapsed, promotion once no canary pod restarts",
            minutes(total)
        ),
    })
}

/// `6m`, `5m30s`, `45s`.
fn minutes(secs: u64) -> String {
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// How `rollout status` shows its progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusOptions {
    /// Wait until done or failed.
    pub watch: bool,
    /// Stop waiting after this long.
    pub timeout: Option<Duration>,
    /// Draw a progress bar on stderr (on a terminal).
    pub progress_bar: bool,
}

/// Runs `rollout status`: prints each new state on `out`; returns when done (or at once
/// without `watch`), or fails with [`Error::RolloutFailed`] or [`Error::Timeout`].
pub async fn status(
    client: &Client,
    namespace: &str,
    name: &str,
    options: StatusOptions,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let eds_ref = ObjectRef::new(namespace, name);
    let eds = get_eds(client, namespace, name).await?;
    let mut view = View::new(&eds_ref, options.progress_bar);
    let ers_api: Api<ExtendedDaemonSetReplicaSet> = Api::namespaced(client.clone(), namespace);
    view.canary_created = canary_created(&ers_api, &eds).await;
    if view.show(&eds, out)? || !options.watch {
        return Ok(());
    }
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let wait = async {
        let mut stream = watcher::watch_object(api, name).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            match event {
                Ok(Some(eds)) => {
                    view.canary_created = canary_created(&ers_api, &eds).await;
                    if view.show(&eds, out)? {
                        return Ok(());
                    }
                }
                Ok(None) => return Err(Error::NoSuchEds(eds_ref.clone())),
                // The watcher re-lists after transient errors; only a failing first list is final.
                Err(e @ watcher::Error::InitialListFailed(_)) => {
                    return Err(Error::Watch {
                        eds: eds_ref.clone(),
                        message: e.to_string(),
                    });
                }
                Err(_) => {}
            }
        }
        Err(Error::Watch {
            eds: eds_ref.clone(),
            message: "the watch ended".into(),
        })
    };
    let result = match options.timeout {
        Some(t) => tokio::time::timeout(t.into(), wait)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    eds: eds_ref.clone(),
                    timeout: t.to_string(),
                })
            }),
        None => wait.await,
    };
    view.bar.finish_and_clear();
    result
}

/// Creation time of the canary ERS (best effort: without it, no time left is shown).
async fn canary_created(
    api: &Api<ExtendedDaemonSetReplicaSet>,
    eds: &ExtendedDaemonSet,
) -> Option<jiff::Timestamp> {
    let name = eds.status.as_ref()?.canary.as_ref()?.replica_set.clone();
    let ers = api.get_opt(&name).await.ok().flatten()?;
    ers.metadata.creation_timestamp.map(|t| t.0)
}

/// The printed side of `rollout status`: one line per new message, and the progress bar.
struct View<'a> {
    eds: &'a ObjectRef,
    last: Option<String>,
    bar: ProgressBar,
    /// Creation time of the canary ERS, for the time left.
    canary_created: Option<jiff::Timestamp>,
}

impl<'a> View<'a> {
    fn new(eds: &'a ObjectRef, progress_bar: bool) -> Self {
        let bar = if progress_bar {
            let bar = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} updated  {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            // The spinner shows the command is alive between status changes.
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            eds,
            last: None,
            bar,
            canary_created: None,
        }
    }

    /// Shows the object's progress; returns whether waiting is over (done), or the failure.
    fn show(&mut self, eds: &ExtendedDaemonSet, out: &mut (dyn Write + Send)) -> Result<bool> {
        let progress = evaluate(eds);
        let (line, finished) = match &progress {
            Progress::Done(m) => (format!("ExtendedDaemonSet {}: {m}", self.eds), true),
            Progress::Waiting(m, (updated, available, desired)) => {
                self.bar.set_length((*desired).max(0) as u64);
                self.bar.set_position((*updated).max(0) as u64);
                let note = canary_note(eds, self.canary_created, jiff::Timestamp::now());
                self.bar.set_message(match note.as_ref() {
                    Some(n) => format!("{available} available, {n}"),
                    None => format!("{available} available"),
                });
                // Lines are printed on status changes only, so the time left they show is
                // the one at that change; the bar's message follows it.
                let line = match note {
                    Some(n) => format!("ExtendedDaemonSet {}: {m} ({n})", self.eds),
                    None => format!("ExtendedDaemonSet {}: {m}", self.eds),
                };
                (line, false)
            }
            Progress::Failed(reason) => {
                self.bar.finish_and_clear();
                return Err(Error::RolloutFailed {
                    eds: object_ref(eds),
                    reason: reason.clone(),
                });
            }
        };
        if self.last.as_ref() != Some(&line) {
            self.bar.suspend(|| writeln!(out, "{line}"))?;
            self.last = Some(line);
        }
        if finished {
            self.bar.finish_and_clear();
        }
        Ok(finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::testing;
    use eds_api::Condition;

    fn with(f: impl FnOnce(&mut ExtendedDaemonSet)) -> ExtendedDaemonSet {
        let mut eds = testing::eds("foo");
        f(&mut eds);
        eds
    }

    #[test]
    fn running_and_complete_is_done() {
        assert_eq!(
            evaluate(&testing::eds("foo")),
            Progress::Done("successfully rolled out (3 pods, ERS foo-8z7lr)".into())
        );
    }

    #[test]
    fn unobserved_generation_waits() {
        let eds = with(|e| e.metadata.generation = Some(2));
        assert!(matches!(evaluate(&eds), Progress::Waiting(m, _) if m.contains("observe")));
        let eds = with(|e| e.status.as_mut().unwrap().observed_generation = None);
        assert!(matches!(evaluate(&eds), Progress::Waiting(..)));
    }

    #[test]
    fn counts_below_desired_wait() {
        let eds = with(|e| e.status.as_mut().unwrap().up_to_date = 1);
        assert_eq!(
            evaluate(&eds),
            Progress::Waiting(
                "waiting for the rollout to finish: 1 of 3 pods updated".into(),
                (1, 3, 3)
            )
        );
        let eds = with(|e| e.status.as_mut().unwrap().available = 2);
        assert_eq!(
            evaluate(&eds),
            Progress::Waiting(
                "waiting for the rollout to finish: 2 of 3 updated pods available".into(),
                (3, 2, 3)
            )
        );
    }

    #[test]
    fn canary_in_progress_waits_even_when_counts_are_met() {
        let eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        assert_eq!(
            evaluate(&eds),
            Progress::Waiting(
                "canary foo-xdj4b in progress: state \"Canary\"".into(),
                (3, 3, 3)
            )
        );
    }

    #[test]
    fn canary_state_without_a_canary_name_still_reads_well() {
        let eds = with(|e| e.status.as_mut().unwrap().state = Some(state::CANARY.into()));
        assert!(
            matches!(evaluate(&eds), Progress::Waiting(m, _) if m == "canary in progress: state \"Canary\""),
            "{:?}",
            evaluate(&eds)
        );
    }

    #[test]
    fn canary_failed_and_stalled_fail() {
        let eds = with(|e| {
            let s = e.status.as_mut().unwrap();
            s.state = Some(state::CANARY_FAILED.into());
            s.reason = Some("MaxRestartsExceeded".into());
        });
        assert_eq!(
            evaluate(&eds),
            Progress::Failed("canary failed (MaxRestartsExceeded)".into())
        );
        let eds = with(|e| {
            e.status.as_mut().unwrap().conditions = vec![Condition::new(
                condition_type::STALLED,
                true,
                "RolloutBlocked",
                "node-2 cannot run the pod",
            )];
        });
        assert_eq!(
            evaluate(&eds),
            Progress::Failed(
                "condition Stalled is True: RolloutBlocked: node-2 cannot run the pod".into()
            )
        );
    }

    #[test]
    fn canary_note_counts_down_the_duration_or_waits_for_validation() {
        let t = |s: i64| jiff::Timestamp::from_second(1_700_000_000 + s).unwrap();
        let running = testing::eds("foo");
        assert_eq!(canary_note(&running, Some(t(0)), t(60)), None);
        let mut eds = testing::canary(testing::eds("foo"), "foo-xdj4b");
        eds.spec.strategy.canary = Some(eds_api::Canary {
            duration: Some("10m".parse().unwrap()),
            ..Default::default()
        });
        assert_eq!(
            canary_note(&eds, Some(t(0)), t(240)).as_deref(),
            Some("6m of 10m left")
        );
        assert_eq!(
            canary_note(&eds, Some(t(0)), t(601)).as_deref(),
            Some("10m elapsed, promotion once no canary pod restarts")
        );
        assert_eq!(canary_note(&eds, None, t(240)), None);
        eds.spec.strategy.canary = Some(eds_api::Canary {
            validation_mode: Some(ValidationMode::Manual),
            ..Default::default()
        });
        assert!(
            canary_note(&eds, Some(t(0)), t(240))
                .unwrap()
                .contains("canary validate")
        );
    }

    #[test]
    fn a_pause_a_user_asked_for_waits_and_an_auto_pause_fails() {
        let paused = |reason: &str, stalled: bool| {
            with(|e| {
                let s = e.status.as_mut().unwrap();
                s.state = Some(state::CANARY_PAUSED.into());
                s.conditions = vec![
                    Condition::new(condition_type::RECONCILING, !stalled, reason, "m"),
                    Condition::new(condition_type::STALLED, stalled, reason, "m"),
                ];
            })
        };
        assert!(matches!(
            evaluate(&paused("CanaryPausedByUser", false)),
            Progress::Waiting(m, _) if m.starts_with("canary paused")
        ));
        assert!(matches!(
            evaluate(&paused("CanaryPaused", true)),
            Progress::Failed(m) if m.contains("CanaryPaused")
        ));
    }
}
