//! Stage 1: the snapshot seen through the spec. Collects the spec's errors instead of stopping
//! at the first, so a user fixes them all in one edit.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::{api::core::v1::PodSpec, apimachinery::pkg::apis::meta::v1::Time};

use super::{Ctx, World};
use crate::{
    Snapshot,
    cluster::{BuildContext, Cluster, Digested},
    history::Revisions,
    migration::Migration,
    placement::{Placement, compile_selector},
    revision,
    settings::Settings,
    steering::Steering,
};
use eds_api::validate::validate_spec;

/// The annotations of an ExtendedDaemonSet that has none.
static NONE: BTreeMap<String, String> = BTreeMap::new();

/// Builds the world of `s` at `now`, and the spec's errors (empty when the spec is valid).
pub fn observe<'a>(
    s: &'a Snapshot,
    digested: &'a Digested,
    now: Timestamp,
) -> (World<'a>, Vec<String>) {
    let eds = &s.eds;
    let mode = s.config.default_validation_mode;
    let steering = Steering::of(eds);
    let ns = eds.metadata.namespace.as_deref().unwrap_or("default");
    let migration = Migration::new(ns, steering.old_daemonset.as_deref(), s.old_daemonset);
    let ctx = Ctx {
        s,
        name: eds.metadata.name.as_deref().unwrap_or_default(),
        ns,
        annotations: eds.metadata.annotations.as_ref().unwrap_or(&NONE),
        steering,
        migration,
        resolved: eds.spec.resolve(mode),
        now,
        stamp: Time(Timestamp::from_second(now.as_second()).unwrap_or(now)),
    };
    let mut errors: Vec<String> = validate_spec(&eds.spec, mode)
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
        digested,
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
    let prev_active = eds
        .status
        .as_ref()
        .map(|p| p.active_replica_set.as_str())
        .filter(|n| !n.is_empty());
    let active_before = revisions.active(prev_active, &cluster.pods_per_rev);
    let world = World {
        ctx,
        settings,
        revisions,
        cluster,
        canary_selector,
        active_before,
    };
    (world, errors)
}
