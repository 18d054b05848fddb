//! Plays an input's script on a scenario.

use std::sync::Arc;

use eds_api::{
    AutoFail, AutoPause, Canary, Duration, ExtendedDaemonSet, UpdateStrategyType, ValidationMode,
    constants::keys,
};
use eds_plan::{
    plan,
    simulate::apply,
    testing::{Scenario, crash, eds, fail, node, node_of, set_unready, setting},
};
use k8s_openapi::{
    api::core::v1::{NodeSpec, Pod, Taint},
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, Time},
        util::intstr::IntOrString,
    },
};

use super::{Action, Amount, EdsAnnotation, Input, MAX_ACTIONS, MAX_NODES, Spec, invariants};

/// Name of the fuzzed ExtendedDaemonSet.
const NAME: &str = "fz";

/// Plays the script, checking every plan.
pub fn play(input: &Input) {
    let nodes = 1 + input.nodes % MAX_NODES;
    let mut spec_eds = eds(NAME).build();
    set_spec(&mut spec_eds, &input.spec);
    let nodes = (0..nodes)
        .map(|i| node(&format!("n{i}")).label("zone", &format!("z{}", i % 3)))
        .collect();
    let mut sc = eds(NAME).with(|e| *e = spec_eds).on(nodes);
    let mut added = 0u32;
    for action in input.actions.iter().take(MAX_ACTIONS) {
        match action {
            Action::Step => step(&mut sc),
            Action::Steps(n) => {
                for _ in 0..=(n % 8) {
                    step(&mut sc);
                    sc.advance(5);
                    sc.settle_pods();
                }
            }
            Action::Advance(secs) => sc.advance(u64::from(*secs)),
            Action::Settle => sc.settle_pods(),
            Action::SetImage(n) => sc.set_image(&format!("app:v{n}")),
            Action::EditSpec(spec) => sc.edit(|e| set_spec(e, spec)),
            Action::Annotate(which, value) => annotate(&mut sc, which, value.as_deref()),
            Action::AddNode(zone) => {
                added += 1;
                sc.add_node(
                    node(&format!("added-{added}")).label("zone", &format!("z{}", zone % 3)),
                );
            }
            Action::RemoveNode(i) => {
                if !sc.snapshot.nodes.is_empty() {
                    let i = usize::from(*i) % sc.snapshot.nodes.len();
                    sc.snapshot.nodes.remove(i);
                }
            }
            Action::Cordon(i) => edit_node(&mut sc, *i, |n| {
                n.spec.get_or_insert_with(NodeSpec::default).unschedulable = Some(true);
            }),
            Action::Taint(i, no_execute) => edit_node(&mut sc, *i, |n| {
                let effect = if *no_execute {
                    "NoExecute"
                } else {
                    "NoSchedule"
                };
                n.spec
                    .get_or_insert_with(NodeSpec::default)
                    .taints
                    .get_or_insert_with(Vec::new)
                    .push(Taint {
                        key: "dedicated".into(),
                        value: None,
                        effect: effect.into(),
                        time_added: None,
                    });
            }),
            Action::Relabel(i, zone) => edit_node(&mut sc, *i, |n| {
                n.metadata
                    .labels
                    .get_or_insert_with(Default::default)
                    .insert("zone".into(), format!("z{}", zone % 3));
            }),
            Action::Exclude(i) => edit_node(&mut sc, *i, |n| {
                n.metadata
                    .labels
                    .get_or_insert_with(Default::default)
                    .insert(keys::EXCLUDE_LABEL.into(), "true".into());
            }),
            Action::NodeOverride(i, value) => edit_node(&mut sc, *i, |n| {
                n.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(
                        keys::node_resources_annotation("default", NAME, "app"),
                        value.clone(),
                    );
            }),
            Action::Crash(i, restarts) => {
                let now = sc.now;
                edit_pod(&mut sc, *i, |p| {
                    crash(p, i32::from(*restarts), "Error", now)
                });
            }
            Action::Fail(i) => edit_pod(&mut sc, *i, fail),
            Action::Unready(i) => edit_pod(&mut sc, *i, set_unready),
            Action::DeletePod(i) => {
                if !sc.snapshot.pods.is_empty() {
                    let i = usize::from(*i) % sc.snapshot.pods.len();
                    sc.snapshot.pods.remove(i);
                }
            }
            Action::DuplicatePod(i) => {
                if !sc.snapshot.pods.is_empty() {
                    let i = usize::from(*i) % sc.snapshot.pods.len();
                    let mut dup = (*sc.snapshot.pods[i]).clone();
                    let n = sc.snapshot.pods.len();
                    dup.metadata.name = Some(format!("dup-{n}"));
                    dup.metadata.uid = Some(format!("uid-dup-{n}"));
                    dup.metadata.creation_timestamp = Some(Time(sc.now));
                    set_unready(&mut dup);
                    sc.snapshot.pods.push(Arc::new(dup));
                }
            }
            Action::Terminate(i) => {
                let now = sc.now;
                edit_pod(&mut sc, *i, |p| {
                    p.metadata.deletion_timestamp.get_or_insert(Time(now));
                });
            }
            Action::AddSetting(zone, cpu) => {
                let n = sc.snapshot.settings.len();
                let zone = format!("z{}", zone % 3);
                let created = sc.now.as_second() - eds_plan::testing::t0().as_second();
                sc.add_setting(setting(
                    &format!("s{n}"),
                    NAME,
                    ("zone", &zone),
                    cpu,
                    created,
                ));
            }
            Action::DeleteErs(i) => {
                if !sc.snapshot.replica_sets.is_empty() {
                    let i = usize::from(*i) % sc.snapshot.replica_sets.len();
                    sc.snapshot.replica_sets.remove(i);
                }
            }
        }
    }
}

/// Plans, checks the plan, applies it and advances one second.
fn step(sc: &mut Scenario) {
    let plan = plan(&sc.snapshot, sc.now);
    invariants::check(&sc.snapshot, sc.now, &plan);
    apply(&mut sc.snapshot, &plan, sc.now);
    sc.advance(1);
}

fn edit_node(sc: &mut Scenario, i: u8, f: impl FnOnce(&mut k8s_openapi::api::core::v1::Node)) {
    if sc.snapshot.nodes.is_empty() {
        return;
    }
    let i = usize::from(i) % sc.snapshot.nodes.len();
    f(Arc::make_mut(&mut sc.snapshot.nodes[i]));
}

fn edit_pod(sc: &mut Scenario, i: u8, f: impl FnOnce(&mut Pod)) {
    if sc.snapshot.pods.is_empty() {
        return;
    }
    let i = usize::from(i) % sc.snapshot.pods.len();
    // Pods without a node are left alone: the kubelet changes only pods it runs.
    if node_of(&sc.snapshot.pods[i]).is_some() {
        f(Arc::make_mut(&mut sc.snapshot.pods[i]));
    }
}

fn annotate(sc: &mut Scenario, which: &EdsAnnotation, value: Option<&str>) {
    let key = match which {
        EdsAnnotation::CanaryValid => keys::CANARY_VALID_ANNOTATION,
        EdsAnnotation::CanaryPaused => keys::CANARY_PAUSED_ANNOTATION,
        EdsAnnotation::CanaryUnpaused => keys::CANARY_UNPAUSED_ANNOTATION,
        EdsAnnotation::CanaryFailed => keys::CANARY_FAILED_ANNOTATION,
        EdsAnnotation::RollingUpdatePaused => keys::ROLLING_UPDATE_PAUSED_ANNOTATION,
        EdsAnnotation::RolloutFrozen => keys::ROLLOUT_FROZEN_ANNOTATION,
        EdsAnnotation::OldDaemonset => keys::OLD_DAEMONSET_ANNOTATION,
        EdsAnnotation::Other(key) => key.as_str(),
    }
    .to_string();
    // `canary-valid` without a value names the revision in canary, as the plugin does.
    let value = match (which, value) {
        (EdsAnnotation::CanaryValid, None) => Some(plan(&sc.snapshot, sc.now).target_revision),
        (_, v) => v.map(str::to_string),
    };
    sc.annotate(&key, value.as_deref());
}

fn amount(a: &Amount) -> IntOrString {
    match a {
        Amount::Int(n) => IntOrString::Int(i32::from(*n)),
        Amount::Percent(p) => IntOrString::String(format!("{p}%")),
        Amount::Text(s) => IntOrString::String(s.clone()),
    }
}

fn secs(s: u16) -> Duration {
    format!("{s}s").parse().expect("seconds are a duration")
}

fn zone_selector(zone: u8) -> LabelSelector {
    LabelSelector {
        match_labels: Some([("zone".to_string(), format!("z{}", zone % 3))].into()),
        match_expressions: None,
    }
}

/// Sets the strategy fields of `e` from `spec`.
fn set_spec(e: &mut ExtendedDaemonSet, spec: &Spec) {
    let strategy = &mut e.spec.strategy;
    let rolling = strategy.rolling_update.get_or_insert_with(Default::default);
    rolling.max_unavailable = spec.max_unavailable.as_ref().map(amount);
    rolling.max_surge = spec.max_surge.as_ref().map(amount);
    rolling.slow_start_additive_increase = spec.slow_start.as_ref().map(amount);
    rolling.max_parallel_pod_creation = spec.max_parallel.map(i32::from);
    rolling.max_pod_scheduler_failure = spec.max_scheduler_failure.as_ref().map(amount);
    strategy.type_ = spec.on_delete.then_some(UpdateStrategyType::OnDelete);
    strategy.canary = spec.canary.as_ref().map(|c| Canary {
        replicas: c.replicas.as_ref().map(amount),
        duration: c.duration.map(secs),
        no_restarts_duration: c.no_restarts.map(secs),
        validation_mode: c.manual.then_some(ValidationMode::Manual),
        node_selector: c.zone_selector.map(zone_selector),
        node_anti_affinity_keys: c.anti_affinity.then(|| vec!["zone".to_string()]),
        auto_pause: c.pause_restarts.map(|n| AutoPause {
            enabled: Some(true),
            max_restarts: Some(i32::from(n)),
            ..AutoPause::default()
        }),
        auto_fail: (c.fail_restarts.is_some() || c.timeout.is_some()).then(|| AutoFail {
            enabled: Some(true),
            max_restarts: c.fail_restarts.map(i32::from),
            canary_timeout: c.timeout.map(secs),
            ..AutoFail::default()
        }),
    });
    e.spec.min_ready_seconds = spec.min_ready.map(i32::from);
    e.spec.revision_history_limit = spec.history.map(i32::from);
    let pod = e.spec.template.spec.get_or_insert_with(Default::default);
    pod.node_selector = spec
        .zone_selector
        .map(|z| [("zone".to_string(), format!("z{}", z % 3))].into());
}
