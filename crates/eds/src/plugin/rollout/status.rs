//! `rollout status <eds> [--watch] [--timeout D]`.
//!
//! Done means what it means for a DaemonSet, plus the ExtendedDaemonSet state: the controller
//! has seen the latest spec (`status.observedGeneration >= metadata.generation`), every desired
//! node runs an up-to-date and available pod, and the state is `Running`. A failed canary or a
//! `Stalled` condition is a failure (exit 1), as is running out of `--timeout`.

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
    Duration, ExtendedDaemonSet,
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
    if view.show(&eds, out)? || !options.watch {
        return Ok(());
    }
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client.clone(), namespace);
    let wait = async {
        let mut stream = watcher::watch_object(api, name).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            match event {
                Ok(Some(eds)) => {
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

/// The printed side of `rollout status`: one line per new message, and the progress bar.
struct View<'a> {
    eds: &'a ObjectRef,
    last: Option<String>,
    bar: ProgressBar,
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
                self.bar.set_message(format!("{available} available"));
                (format!("ExtendedDaemonSet {}: {m}", self.eds), false)
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
}
