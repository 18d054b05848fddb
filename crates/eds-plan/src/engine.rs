//! One plan, rule after rule: revisions, nodes, canary, rolling update, objects, statuses,
//! events, explanation.

mod explain;
mod intents;
mod invalid;
mod objects;

use intents::{node_intents, slow_start_since};

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::{api::core::v1::PodSpec, apimachinery::pkg::apis::meta::v1::Time};

use super::{
    NodeAction, Plan, Snapshot,
    canary::{self, CanaryInputs, CanaryOutcome, Phase},
    cluster::{BuildContext, Cluster},
    events::Events,
    history::Revisions,
    placement::{Placement, compile_selector},
    revision,
    rolling::{RollingInputs, plan_rolling},
    settings::Settings,
    status::{self, EdsStatusInputs},
};
use eds_api::{
    UpdateStrategyType,
    constants::{keys, reason},
    defaults::Resolved,
    validate::validate_spec,
};

/// What every step reads.
pub struct Ctx<'a> {
    /// The snapshot.
    pub s: &'a Snapshot,
    /// ExtendedDaemonSet name.
    pub name: &'a str,
    /// Its namespace.
    pub ns: &'a str,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its strategy with defaults.
    pub resolved: Resolved,
    /// Planning time.
    pub now: Timestamp,
    /// Planning time as stored in statuses (whole seconds).
    pub stamp: Time,
}

impl Ctx<'_> {
    fn annotation_true(&self, key: &str) -> bool {
        self.annotations.get(key).is_some_and(|v| v == "true")
    }
}

/// Plans one reconcile.
pub fn run(s: &Snapshot, now: Timestamp) -> Plan {
    let eds = &s.eds;
    let ctx = Ctx {
        s,
        name: eds.metadata.name.as_deref().unwrap_or_default(),
        ns: eds.metadata.namespace.as_deref().unwrap_or("default"),
        annotations: eds.metadata.annotations.clone().unwrap_or_default(),
        resolved: eds.spec.resolve(s.config.default_validation_mode),
        now,
        stamp: Time(Timestamp::from_second(now.as_second()).unwrap_or(now)),
    };
    let mut errors: Vec<String> = validate_spec(&eds.spec, s.config.default_validation_mode)
        .iter()
        .map(ToString::to_string)
        .collect();
    let empty = PodSpec::default();
    let template = eds.spec.template.spec.as_ref().unwrap_or(&empty);
    let placement = Placement::new(eds.spec.selector.as_ref(), template).unwrap_or_else(|e| {
        errors.push(e.to_string());
        Placement::without_selector(template)
    });
    let canary_field = "spec.strategy.canary.nodeSelector";
    let canary_selector = ctx.resolved.canary.as_ref().and_then(|c| {
        compile_selector(canary_field, c.node_selector.as_ref())
            .map_err(|e| errors.push(e.to_string()))
            .ok()
            .flatten()
    });
    let containers: Vec<&str> = template
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let mut settings = Settings::new(&s.settings, ctx.name, &containers);
    let hash = revision::template_hash(&eds.spec.template);
    let revisions = Revisions::new(&s.replica_sets, ctx.name, &hash);
    let cluster = Cluster::build(
        s,
        BuildContext {
            placement: &placement,
            revisions: &revisions,
            settings: &mut settings,
            namespace: ctx.ns,
            eds: ctx.name,
            now,
            min_ready_seconds: ctx.resolved.min_ready_seconds,
        },
    );
    let prev = eds.status.as_ref();
    let prev_active = prev
        .map(|p| p.active_replica_set.as_str())
        .filter(|n| !n.is_empty());
    let active_before = revisions.active(prev_active, &cluster.pods_per_rev);
    if !errors.is_empty() {
        return invalid::plan(&ctx, &cluster, &revisions, active_before, errors.join("; "));
    }
    let target = revisions.target;
    let desired = cluster.nodes.iter().filter(|n| n.runs()).count() as i32;
    let held = active_before
        .filter(|a| *a != target)
        .and_then(|_| canary::held(prev, &revisions, now));
    let outcome: Option<CanaryOutcome> = match (active_before, &ctx.resolved.canary) {
        _ if held.is_some() => held,
        (Some(active), Some(c)) if active != target => Some(canary::decide(&CanaryInputs {
            canary: c,
            node_selector: canary_selector.as_ref(),
            annotations: &ctx.annotations,
            prev,
            cluster: &cluster,
            revisions: &revisions,
            now,
            stamp: &ctx.stamp,
            desired,
        })),
        _ => None,
    };
    let phase = outcome.as_ref().map(|o| &o.phase);
    let holds_active = matches!(
        phase,
        Some(Phase::Running | Phase::Paused { .. } | Phase::Failed { .. })
    );
    let active_after = match (holds_active, active_before) {
        (true, Some(a)) => a,
        _ => target,
    };
    let intents = node_intents(&cluster, outcome.as_ref(), target, active_after);
    let frozen = ctx.annotation_true(keys::ROLLOUT_FROZEN_ANNOTATION);
    let paused = ctx.annotation_true(keys::ROLLING_UPDATE_PAUSED_ANNOTATION);
    let rolling = plan_rolling(&RollingInputs {
        cluster: &cluster,
        intents: &intents,
        revisions: &revisions,
        resolved: &ctx.resolved,
        frozen,
        paused,
        on_delete: ctx.resolved.type_ == UpdateStrategyType::OnDelete,
        now,
        slow_start_since: slow_start_since(&revisions, active_before, now),
        state: &s.state,
        config: &s.config,
    });
    let mut events = Events::default();
    let keep: Vec<usize> = active_before.into_iter().chain([active_after]).collect();
    let parts = objects::Parts {
        ctx: &ctx,
        cluster: &cluster,
        revisions: &revisions,
        intents: &intents,
    };
    let objects = objects::build(&parts, &settings, &rolling, &keep, &mut events);
    let counts = status::counts(&cluster, target);
    let target_exists = revisions.revs[target].ers.is_some();
    let done = active_after == target
        && target_exists
        && counts.up_to_date == counts.desired
        && counts.available == counts.desired
        && rolling
            .decisions
            .iter()
            .all(|d| matches!(d.action, NodeAction::Keep | NodeAction::Skip));
    let stall = status::blocker(&status::BlockerInputs {
        phase,
        target: &revisions.revs[target].name,
        annotations: &ctx.annotations,
        frozen,
        paused,
        blocked: rolling.blocked.clone(),
    });
    let eds_status = status::eds_status(&EdsStatusInputs {
        prev,
        generation: eds.metadata.generation,
        counts,
        ignored: rolling.budget.ignored_unresponsive_nodes,
        active: revisions.revs[active_after].name.clone(),
        target: revisions.revs[target].name.clone(),
        phase,
        canary_nodes: outcome
            .as_ref()
            .map(|o| {
                o.nodes
                    .iter()
                    .map(|&i| cluster.nodes[i].name.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        has_canary: ctx.resolved.canary.is_some(),
        rejected: outcome.as_ref().and_then(|o| o.rejected.clone()),
        frozen,
        paused,
        done,
        stall,
        stamp: &ctx.stamp,
    });
    let ers_statuses = objects::ers_statuses(
        &parts,
        outcome.as_ref(),
        active_after,
        rolling.budget.ignored_unresponsive_nodes,
        &objects.ers_deletes,
    );
    if !target_exists {
        events.about(
            &revisions.revs[target].name,
            crate::EventType::Normal,
            reason::CREATE_ERS,
            format!("{}/{}", ctx.ns, revisions.revs[target].name),
        );
    }
    events.transitions(
        prev,
        &eds_status,
        phase,
        &revisions.revs[target].name,
        &ctx.annotations,
    );
    events.steering(
        revisions.revs.iter().filter_map(|r| r.ers),
        &revisions.revs[active_after].name,
        paused,
        frozen,
    );
    let setting_statuses = objects::setting_statuses(&ctx, &settings, &mut events);
    let mut deadlines = rolling.deadlines;
    deadlines.extend(outcome.iter().flat_map(|o| o.deadlines.iter().copied()));
    let requeue_after = explain::requeue(&ctx, &deadlines, done);
    Plan {
        ers_applies: objects.ers_applies,
        ers_deletes: objects.ers_deletes,
        pod_creates: objects.pod_creates,
        pod_deletes: objects.pod_deletes,
        pod_label_updates: objects.pod_label_updates,
        eds_status_changed: prev != Some(&eds_status),
        eds_status,
        ers_statuses,
        setting_statuses,
        events: events.list,
        requeue_after,
        nodes: explain::nodes(
            &cluster,
            &explain::RevisionNames::new(
                &revisions,
                ctx.annotations
                    .get(keys::OLD_DAEMONSET_ANNOTATION)
                    .map(String::as_str),
            ),
            &intents,
            rolling.decisions,
        ),
        current_revision: active_before.map(|a| revisions.revs[a].name.clone()),
        target_revision: revisions.revs[target].name.clone(),
        budget: rolling.budget,
        state: rolling.state,
    }
}
