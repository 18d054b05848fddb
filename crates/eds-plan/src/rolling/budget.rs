//! The budgets of the rolling update: maxUnavailable for deletions, maxSurge and the
//! slow-start limit for creations.

use std::sync::Arc;

use super::{
    WAIT,
    apply::{Applier, NodeDecision, decision, names},
    classify::{Classified, Need},
};
use crate::NodeAction;

impl<'a, 'b> Applier<'a, 'b, '_> {
    /// Rule (strict budget, see the rules in [`crate::rolling`]; we differ from upstream and
    /// the DaemonSet controller): an available outdated pod is deleted only while fewer than
    /// `maxUnavailable` nodes are unavailable or already chosen in this plan, counting every
    /// node with no available pod whatever its revision (unresponsive nodes excepted, up to
    /// `maxPodSchedulerFailure`). Nodes are taken in name order; the others wait, numbered in
    /// waves of `maxUnavailable`.
    pub(super) fn budgeted_deletes(&mut self, classified: &[Classified<'a, 'b>]) {
        let max = self.limits.max_unavailable;
        let mut used: Vec<&str> = self
            .unavailable
            .iter()
            .chain(&self.consumed)
            .map(|&i| self.inp.cluster.nodes[i].name)
            .collect();
        used.sort_unstable();
        let mut wait_message: Option<Arc<str>> = None;
        for (i, c) in classified.iter().enumerate() {
            if c.need != Need::Budgeted {
                continue;
            }
            let Some(old) = c.old else { continue };
            let d = if let Some(b) = self.block(i, true) {
                decision(WAIT, b)
            } else if (used.len() as i32) < max {
                used.push(self.inp.cluster.nodes[i].name);
                let mut d = decision(
                    NodeAction::Replace,
                    format!(
                        "delete {} (outdated), then create the new pod (maxUnavailable {}/{max})",
                        old.name,
                        used.len()
                    ),
                );
                d.deletes.push((
                    old.digest,
                    "outdated: replaced by the rolling update".into(),
                ));
                d
            } else {
                // Once the budget is spent it does not change: one message for every node.
                let why = wait_message.get_or_insert_with(|| {
                    format!(
                        "wait (maxUnavailable {}/{max} used by {})",
                        used.len(),
                        names(&used)
                    )
                    .into()
                });
                let mut d = decision(WAIT, why.clone());
                d.wave = Some(1 + self.budget_waits / max.max(1) as u32);
                self.budget_waits += 1;
                d
            };
            let mut deletes = std::mem::take(&mut self.decisions[i].deletes);
            if deletes.is_empty() {
                deletes = d.deletes;
            } else {
                deletes.extend(d.deletes);
            }
            self.decisions[i] = NodeDecision { deletes, ..d };
        }
    }

    /// Rule (upstream slow start, see the rules in [`crate::rolling`]): at most
    /// `min((1 + elapsed / slowStartIntervalDuration) * slowStartAdditiveIncrease,
    /// maxParallelPodCreation)` pods start at once, counted from when the revision became
    /// active; we differ in counting pods created and not ready yet against the limit, so it
    /// holds however often the controller plans. Canary nodes and nodes given back after a
    /// failed canary are outside the limit. In surge mode (`maxSurge > 0`) a new pod beside an
    /// available old one also takes one of `maxSurge` slots.
    pub(super) fn creates(&mut self, classified: &[Classified<'a, 'b>]) {
        let nodes = &self.inp.cluster.nodes;
        let in_flight = classified
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.inp.intents[*i].immediate && nodes[*i].runs())
            .filter_map(|(_, c)| c.new)
            .filter(|p| !p.facts.ready && !p.facts.unresponsive)
            .count() as i32;
        let mut capacity = (self.limits.slow_start - in_flight).max(0);
        self.max_creation = capacity;
        let surging = classified
            .iter()
            .filter(|c| c.old.is_some() && c.new.is_some())
            .count() as i32;
        let mut surge_left = (self.limits.max_surge - surging).max(0);
        let (mut slow_waits, mut surge_waits) = (0u32, 0u32);
        // One text for every node that waits for the same limit.
        let surge_wait: Arc<str> =
            format!("wait (maxSurge {0}/{0} in use)", self.limits.max_surge).into();
        let slow_wait: Arc<str> = format!(
            "wait (slow start: {} pods starting at once)",
            self.limits.slow_start
        )
        .into();
        let surge = self.limits.max_surge > 0;
        for pass in [Need::Create, Need::SurgeFree, Need::Budgeted] {
            if pass == Need::Budgeted && !surge {
                break;
            }
            for (i, c) in classified.iter().enumerate() {
                if c.need != pass {
                    continue;
                }
                let immediate = self.inp.intents[i].immediate;
                let blocked = self.block(i, pass != Need::Create);
                let (action, what) = match pass {
                    Need::Create => (NodeAction::Create, "create".to_string()),
                    Need::SurgeFree => (
                        NodeAction::Replace,
                        "surge: old pod not available; create".into(),
                    ),
                    _ => (NodeAction::Replace, "surge: create".into()),
                };
                let mut d = if let Some(b) = blocked {
                    decision(WAIT, b)
                } else if pass == Need::Budgeted && surge_left == 0 {
                    let mut d = decision(WAIT, surge_wait.clone());
                    d.wave = Some(1 + surge_waits / self.limits.max_surge.max(1) as u32);
                    surge_waits += 1;
                    d
                } else if !immediate && capacity == 0 {
                    self.deadlines.extend(self.limits.next_step);
                    let mut d = decision(WAIT, slow_wait.clone());
                    d.wave = Some(1 + slow_waits / self.limits.slow_start.max(1) as u32);
                    slow_waits += 1;
                    d
                } else {
                    if !immediate {
                        capacity -= 1;
                    }
                    if pass == Need::Budgeted {
                        surge_left -= 1;
                    }
                    let name = c.create_name.clone().unwrap_or_default();
                    let mut d = decision(action, format!("{what} {name}"));
                    d.create = Some(name);
                    d
                };
                let deletes = std::mem::take(&mut self.decisions[i].deletes);
                d.deletes = deletes;
                self.decisions[i] = d;
            }
        }
    }
}
