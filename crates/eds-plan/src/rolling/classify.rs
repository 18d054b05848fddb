//! First pass of the rolling update: what each node needs, before any budget is applied.

use crate::PodDigest;

use super::{NodeIntent, RollingInputs};
use crate::{
    cluster::{NodeView, PodView},
    placement::Eligibility,
    revision::pod_name,
};

/// What a node needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    /// Nothing (up to date, or not running the ExtendedDaemonSet).
    Nothing(String),
    /// Delete pods at no cost to the budget (duplicates, failed, excluded node, an outdated pod
    /// that is not available, or whose replacement is available).
    FreeDelete,
    /// A pod must be created on a node without one.
    Create,
    /// Outdated and available: replacing it costs one unit of maxUnavailable (or of maxSurge).
    Budgeted,
    /// Outdated and not available, surge mode: create the new pod beside it at once.
    SurgeFree,
    /// Replace at once (canary node, or a canary node given back to the active revision).
    Immediate,
    /// Wait for the node's own progress (new pod not available yet, pod terminating, ERS not
    /// created yet, OnDelete).
    Wait(String),
}

/// The classification of one node.
pub struct Classified<'a, 'b> {
    /// What it needs.
    pub need: Need,
    /// Pods to delete for free (duplicates, failed, excluded node, outdated unavailable).
    pub free_deletes: Vec<(&'a PodDigest, String)>,
    /// The outdated pod replacing costs budget (or is replaced at once).
    pub old: Option<&'b PodView<'a>>,
    /// The up-to-date pod.
    pub new: Option<&'b PodView<'a>>,
    /// Failed pods held back by the backoff.
    pub failed_waiting: bool,
    /// Name of the pod to create on the node (when a create may come).
    pub create_name: Option<String>,
    /// The free deletes include the node's outdated pod (the node is being replaced).
    pub replacing: bool,
}

/// Classifies node `i`.
pub fn classify<'a, 'b>(inp: &RollingInputs<'a, 'b>, i: usize, surge: bool) -> Classified<'a, 'b> {
    let mut out = classify_node(inp, i, surge);
    if let Some(why) = &inp.legacy_hold {
        hold_legacy(&inp.cluster.nodes[i], why, &mut out);
    }
    out
}

/// While the old DaemonSet is live, its pods on a node stay (its controller would re-create
/// any deleted: the two controllers would fight), and no pod is created beside them; other
/// free deletes (a failed pod of ours, a duplicate) go on.
fn hold_legacy<'a>(node: &NodeView<'a>, why: &str, out: &mut Classified<'a, '_>) {
    let legacy = |p: &PodDigest| {
        node.pods
            .iter()
            .any(|v| v.old_daemonset && std::ptr::eq(v.digest, p))
    };
    let before = out.free_deletes.len();
    out.free_deletes.retain(|(p, _)| !legacy(p));
    if out.free_deletes.len() != before {
        out.replacing = false;
    }
    if !node.live().any(|p| p.old_daemonset) {
        return;
    }
    out.create_name = None;
    out.old = None;
    out.need = if node.runs() {
        Need::Wait(why.to_string())
    } else if out.free_deletes.is_empty() {
        Need::Nothing(why.to_string())
    } else {
        Need::FreeDelete
    };
}

fn classify_node<'a, 'b>(inp: &RollingInputs<'a, 'b>, i: usize, surge: bool) -> Classified<'a, 'b> {
    let node: &'b NodeView<'a> = &inp.cluster.nodes[i];
    let mut out = Classified {
        need: Need::Nothing(String::new()),
        free_deletes: Vec::new(),
        old: None,
        new: None,
        failed_waiting: false,
        create_name: None,
        replacing: false,
    };
    match &node.eligibility {
        Eligibility::Excluded(why) => {
            for p in node.live() {
                out.free_deletes.push((
                    p.digest,
                    format!("node no longer runs the ExtendedDaemonSet: {why}"),
                ));
            }
            out.need = if out.free_deletes.is_empty() {
                Need::Nothing(format!("not eligible: {why}"))
            } else {
                Need::FreeDelete
            };
            return out;
        }
        Eligibility::KeepOnly(why) => {
            out.need = Need::Nothing(match node.live().next() {
                Some(p) => format!("existing pod {} kept, no new pod: {why}", p.name),
                None => format!("not eligible: {why}"),
            });
            return out;
        }
        Eligibility::Run => {}
    }
    let intent: &NodeIntent = &inp.intents[i];
    let desired = intent.desired;
    let up_to_date = |p: &PodView<'_>| p.rev == Some(desired) && p.fits_node;
    // Duplicates: keep one pod per group (up to date, outdated). Upstream keeps the scheduled,
    // then the oldest, then the first by name (the order of `node.pods`); we keep an available
    // pod first, so removing a duplicate never costs availability.
    let (mut live, mut has_failed) = (0, false);
    for p in node.live() {
        live += 1;
        if p.facts.failed {
            has_failed = true;
            continue;
        }
        let slot = if up_to_date(p) {
            &mut out.new
        } else {
            &mut out.old
        };
        if slot.is_none_or(|kept| !kept.facts.available && p.facts.available) {
            *slot = Some(p);
        }
    }
    let kept =
        |p: &PodView<'_>, slot: Option<&PodView<'_>>| slot.is_some_and(|k| std::ptr::eq(k, p));
    let failed_allowed = has_failed && inp.backoff_allows(node.name);
    out.failed_waiting = has_failed && !failed_allowed;
    if live > 1 || has_failed {
        for p in node.live() {
            if p.facts.failed {
                if failed_allowed {
                    out.free_deletes.push((p.digest, "failed pod".into()));
                }
            } else if !kept(p, out.new) && !kept(p, out.old) {
                out.free_deletes
                    .push((p.digest, "duplicate pod on the node".into()));
            }
        }
    }
    let rev = &inp.revisions.revs[desired];
    // The pod name is hashed only where it matters (hashing every node costs time at 10,000
    // nodes): for a create.
    let name = || pod_name(&rev.name, node.name, 0);
    // No new pod beside a terminating one, whatever its name (as upstream and the DaemonSet
    // controller): a daemon binding host ports or files would crash-loop in that window.
    let terminating = node.pods.iter().find(|p| p.facts.terminating);
    out.need = match (out.old, out.new) {
        (None, Some(_)) if out.free_deletes.is_empty() => Need::Nothing(String::new()),
        (None, Some(_)) => Need::FreeDelete,
        (None, None) if out.failed_waiting || !out.free_deletes.is_empty() => Need::FreeDelete,
        (None, None) if let Some(t) = terminating => {
            Need::Wait(format!("pod {} is terminating", t.name))
        }
        (None, None) if rev.ers.is_none() => {
            Need::Wait(format!("ERS {} is being created", rev.name))
        }
        (None, None) => Need::Create,
        (Some(old), Some(new)) => {
            if new.facts.available {
                out.free_deletes.push((
                    old.digest,
                    format!("replaced by available pod {}", new.name),
                ));
                out.old = None;
                out.replacing = true;
                Need::FreeDelete
            } else {
                Need::Wait(format!("new pod {} not available yet", new.name))
            }
        }
        (Some(_), None) if inp.on_delete => {
            Need::Wait("outdated; OnDelete strategy: replaced once the pod is deleted".into())
        }
        (Some(_), None) if rev.ers.is_none() => {
            Need::Wait(format!("ERS {} is being created", rev.name))
        }
        (Some(_), None) if intent.immediate => Need::Immediate,
        (Some(old), None) if !old.facts.available && surge => Need::SurgeFree,
        (Some(old), None) if !old.facts.available => {
            out.free_deletes
                .push((old.digest, "outdated and not available".into()));
            out.old = None;
            out.replacing = true;
            Need::FreeDelete
        }
        (Some(_), None) => Need::Budgeted,
    };
    // Surge creates beside a pod that still runs, never beside a terminating one.
    if let Some(t) = terminating
        && (out.need == Need::SurgeFree || (out.need == Need::Budgeted && surge))
    {
        out.need = Need::Wait(format!("pod {} is terminating", t.name));
    }
    let may_create = match out.need {
        Need::Create | Need::SurgeFree => true,
        Need::Budgeted => surge,
        _ => false,
    };
    if may_create {
        out.create_name = Some(name());
    }
    out
}
