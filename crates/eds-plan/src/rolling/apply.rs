//! Second pass of the rolling update: budgets, pauses and the creation limit applied in
//! node-name order.

use std::sync::Arc;

use jiff::Timestamp;

use super::{
    Limits, RollingInputs, WAIT,
    classify::{Classified, Need},
};
use crate::{Backoff, Budget, NodeAction, PlannerState, digest::PodDigest, observe::after};

/// The decision for one node.
#[derive(Clone, Debug)]
pub struct NodeDecision<'a> {
    /// What happens.
    pub action: NodeAction,
    /// Why (shared by the nodes that wait for the same thing).
    pub reason: Arc<str>,
    /// 0 when acting now; estimated later step when waiting.
    pub wave: Option<u32>,
    /// Pods deleted, with the reason.
    pub deletes: Vec<(&'a PodDigest, String)>,
    /// Base name of the pod created.
    pub create: Option<String>,
}

/// The rolling update of every node.
pub struct RollingOutcome<'a> {
    /// Per node, same index as `cluster.nodes`.
    pub decisions: Vec<NodeDecision<'a>>,
    /// The budget used.
    pub budget: Budget,
    /// Times at which the plan may change.
    pub deadlines: Vec<Timestamp>,
    /// Failed-pod backoff after this plan.
    pub state: PlannerState,
    /// Why the rollout cannot progress, when unresponsive nodes hold the whole budget.
    pub blocked: Option<String>,
}

/// Applies budgets and limits to classified nodes, in node order.
pub struct Applier<'a, 'b, 'c> {
    pub(super) inp: &'c RollingInputs<'a, 'b>,
    pub(super) limits: &'c Limits,
    pub(super) decisions: Vec<NodeDecision<'a>>,
    pub(super) unavailable: Vec<usize>,
    ignored: Vec<usize>,
    stuck: Vec<usize>,
    /// Available nodes made unavailable at once (canary replacements).
    pub(super) consumed: Vec<usize>,
    pub(super) deadlines: Vec<Timestamp>,
    state: PlannerState,
    pub(super) max_creation: i32,
    pub(super) budget_waits: u32,
    /// `up to date (<revision>)`, per revision.
    up_to_date: Vec<Arc<str>>,
    /// The empty reason of a decision made later (most nodes of a rollout in progress have
    /// one: shared, not allocated per node).
    empty: Arc<str>,
}

pub(super) fn decision<'a>(action: NodeAction, reason: impl Into<Arc<str>>) -> NodeDecision<'a> {
    NodeDecision {
        action,
        reason: reason.into(),
        wave: (action != NodeAction::Keep && action != NodeAction::Skip).then_some(0),
        deletes: Vec::new(),
        create: None,
    }
}

/// Up to three node names, then the count of the others.
pub(super) fn names(list: &[&str]) -> String {
    let mut text = list.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if list.len() > 3 {
        text.push_str(&format!(" and {} more", list.len() - 3));
    }
    text
}

impl<'a, 'b, 'c> Applier<'a, 'b, 'c> {
    pub fn new(inp: &'c RollingInputs<'a, 'b>, limits: &'c Limits, _desired: i32) -> Self {
        let mut this = Self {
            inp,
            limits,
            decisions: Vec::with_capacity(inp.cluster.nodes.len()),
            unavailable: Vec::new(),
            ignored: Vec::new(),
            stuck: Vec::new(),
            consumed: Vec::new(),
            deadlines: Vec::new(),
            state: PlannerState::default(),
            max_creation: 0,
            budget_waits: 0,
            up_to_date: inp
                .revisions
                .revs
                .iter()
                .map(|r| format!("up to date ({})", r.name).into())
                .collect(),
            empty: "".into(),
        };
        let max_ignored = usize::try_from(limits.max_scheduler_failure).unwrap_or(0);
        for (i, node) in inp.cluster.nodes.iter().enumerate() {
            for p in &node.pods {
                this.deadlines.extend(p.facts.available_at);
                this.deadlines.extend(p.facts.unresponsive_at);
            }
            if !node.runs() {
                continue;
            }
            let unresponsive = node.pods.iter().any(|p| p.facts.unresponsive);
            if unresponsive && this.ignored.len() < max_ignored {
                this.ignored.push(i);
            } else if !node.available() {
                this.unavailable.push(i);
                if unresponsive {
                    this.stuck.push(i);
                }
            }
        }
        this
    }

    /// Why node `i` may not act now (`deleting`: the action deletes or replaces a pod).
    /// A node hold (a paused canary) keeps the node's pods as they are, but does not leave a
    /// node without a pod: a create on an empty node goes on (we differ from upstream, which
    /// creates nothing while the canary is paused, so an evicted canary pod never came back
    /// and the canary could no longer fail).
    pub(super) fn block(&self, i: usize, deleting: bool) -> Option<String> {
        let intent = &self.inp.intents[i];
        if self.inp.frozen {
            return Some("rollout frozen (rollout-frozen annotation)".into());
        }
        if let Some(hold) = &intent.hold
            && deleting
        {
            return Some(hold.clone());
        }
        (deleting && self.inp.paused && !intent.canary)
            .then(|| "rolling update paused (rolling-update-paused annotation)".into())
    }

    pub fn run(&mut self, classified: &[Classified<'a, 'b>]) {
        for (i, c) in classified.iter().enumerate() {
            let d = self.first_pass(i, c);
            self.decisions.push(d);
        }
        if self.limits.max_surge == 0 {
            self.budgeted_deletes(classified);
        }
        self.creates(classified);
        self.backoff(classified);
    }

    fn first_pass(&mut self, i: usize, c: &Classified<'a, 'b>) -> NodeDecision<'a> {
        let node = &self.inp.cluster.nodes[i];
        let mut deletes = Vec::new();
        let free_block = (!c.free_deletes.is_empty())
            .then(|| self.block(i, true))
            .flatten();
        if free_block.is_none() && !c.free_deletes.is_empty() {
            deletes = c.free_deletes.clone();
        }
        let first_reason = deletes
            .first()
            .map(|(p, r): &(&PodDigest, String)| format!("delete {}: {r}", p.name()));
        let mut d = match &c.need {
            Need::Nothing(why) if !node.runs() => match first_reason {
                Some(r) => decision(NodeAction::Delete, r),
                None if !c.free_deletes.is_empty() => {
                    decision(WAIT, free_block.unwrap_or_default())
                }
                None if node.live().next().is_some() => decision(NodeAction::Keep, why.clone()),
                None => decision(NodeAction::Skip, why.clone()),
            },
            Need::Nothing(_) => match first_reason {
                Some(r) => decision(NodeAction::Delete, r),
                None => decision(NodeAction::Keep, self.keep_reason(c)),
            },
            Need::FreeDelete => match (first_reason, &free_block) {
                (Some(r), _) if c.replacing => decision(NodeAction::Replace, r),
                (Some(r), _) => decision(NodeAction::Delete, r),
                (None, Some(b)) => decision(WAIT, b.clone()),
                (None, None) => self.backoff_wait(node.name),
            },
            Need::Wait(why) => {
                let mut d = decision(WAIT, why.clone());
                d.wave = None;
                d
            }
            Need::Immediate => match (self.block(i, true), c.old) {
                (Some(b), _) => decision(WAIT, b),
                (None, None) => decision(WAIT, self.empty.clone()),
                (None, Some(old)) => {
                    let why = if self.inp.intents[i].canary {
                        "canary node: replaced at once"
                    } else {
                        "former canary node: active revision restored at once"
                    };
                    deletes.push((old.digest, why.to_string()));
                    if node.available() {
                        self.consumed.push(i);
                    }
                    decision(NodeAction::Replace, format!("delete {}: {why}", old.name))
                }
            },
            // Decided once budgets are known.
            Need::Create | Need::SurgeFree | Need::Budgeted => decision(WAIT, self.empty.clone()),
        };
        if c.failed_waiting && d.action != WAIT {
            let b = self.backoff_wait(node.name);
            d.reason = format!("{}; {}", d.reason, b.reason).into();
        }
        d.deletes = deletes;
        d
    }

    fn backoff_wait(&mut self, node: &str) -> NodeDecision<'a> {
        let until = self
            .inp
            .state
            .failed_pod_backoff
            .get(node)
            .map(|b| b.not_before);
        self.deadlines.extend(until);
        let mut d = decision(
            WAIT,
            "failed pod: deletion held back by the failed-pod backoff",
        );
        if let Some(until) = until {
            d.reason = format!("{} until {until}", d.reason).into();
        }
        d
    }

    fn backoff(&mut self, classified: &[Classified<'a, 'b>]) {
        let cfg = self.inp.config;
        for (i, node) in self.inp.cluster.nodes.iter().enumerate() {
            let previous = self.inp.state.failed_pod_backoff.get(node.name);
            let failed_deleted = self.decisions[i].deletes.iter().any(|(p, _)| {
                node.pods
                    .iter()
                    .any(|v| std::ptr::eq(v.digest, *p) && v.facts.failed)
            });
            if failed_deleted {
                let delay = previous
                    .map_or(cfg.failed_pod_backoff_initial, |b| b.delay * 2)
                    .min(cfg.failed_pod_backoff_max);
                self.state.failed_pod_backoff.insert(
                    node.name.to_string(),
                    Backoff {
                        delay,
                        not_before: after(self.inp.now, delay),
                    },
                );
            } else if let Some(b) = previous {
                // Forget the backoff once the node runs an available pod without failures.
                let healthy = !classified[i].failed_waiting && node.available();
                if !healthy {
                    self.state
                        .failed_pod_backoff
                        .insert(node.name.to_string(), b.clone());
                }
            }
        }
    }

    pub fn finish(self) -> RollingOutcome<'a> {
        let waiting_for_budget = self.budget_waits > 0;
        let blocked = (waiting_for_budget && !self.stuck.is_empty()).then(|| {
            let stuck: Vec<&str> = self.stuck.iter().map(|&i| self.inp.cluster.nodes[i].name).collect();
            format!(
                "unresponsive node(s) {} hold the maxUnavailable budget; fix them or raise maxPodSchedulerFailure",
                names(&stuck)
            )
        });
        RollingOutcome {
            decisions: self.decisions,
            budget: Budget {
                unavailable: self.unavailable.len() as i32,
                ignored_unresponsive_nodes: self.ignored.len() as i32,
                max_creation: self.max_creation,
                ..Budget::default()
            },
            deadlines: self.deadlines,
            state: self.state,
            blocked,
        }
    }
}

impl Applier<'_, '_, '_> {
    /// Why a node that needs nothing is fine.
    fn keep_reason(&self, c: &Classified<'_, '_>) -> Arc<str> {
        let Some(new) = c.new else {
            return self.empty.clone();
        };
        let rev = new.rev.map_or("unknown revision", |r| {
            self.inp.revisions.revs[r].name.as_str()
        });
        match (new.facts.available, new.facts.ready, new.facts.available_at) {
            (true, _, _) => match new.rev {
                Some(r) => self.up_to_date[r].clone(),
                None => format!("up to date ({rev})").into(),
            },
            (false, true, Some(at)) => format!("up to date ({rev}), available at {at}").into(),
            _ => format!("up to date ({rev}), not ready yet").into(),
        }
    }
}
