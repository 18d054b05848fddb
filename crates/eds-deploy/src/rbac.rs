//! The controller's RBAC rules: one function used by both the Helm chart and kustomize, so the
//! two can never grant different permissions.
//!
//! Least privilege: every verb below is used by the controller; the comment on each rule says
//! what for. Notably absent: `pods/status` (the kubelet writes it), `secrets`, `configmaps`,
//! and any write to `apps/daemonsets` (migration only reads the old DaemonSet).

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;

use eds_api::{ExtendedDaemonSet, ExtendedDaemonSetReplicaSet, ExtendedDaemonsetSetting};

/// The controller's permissions, grouped by where they must be granted.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// Cluster-scoped resources (nodes): always granted by a ClusterRole.
    pub cluster: Vec<PolicyRule>,
    /// Namespaced resources in the watched namespaces: a ClusterRole when the controller
    /// watches every namespace, otherwise a Role in each watched namespace.
    pub watched: Vec<PolicyRule>,
    /// Leader election: a Role in the controller's own namespace only.
    pub leader_election: Vec<PolicyRule>,
}

fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_string()]),
        resources: Some(resources.iter().map(ToString::to_string).collect()),
        verbs: verbs.iter().map(ToString::to_string).collect(),
        ..PolicyRule::default()
    }
}

/// The rules of the controller.
pub fn rules() -> Rules {
    let group = ExtendedDaemonSet::group(&());
    let eds = ExtendedDaemonSet::plural(&()).to_string();
    let ers = ExtendedDaemonSetReplicaSet::plural(&()).to_string();
    let setting = ExtendedDaemonsetSetting::plural(&()).to_string();
    let status = |plural: &str| format!("{plural}/status");
    Rules {
        // Placement reads node labels, taints and readiness; nodes are watched so a new node
        // gets its pod at once.
        cluster: vec![rule("", &["nodes"], &["get", "list", "watch"])],
        watched: vec![
            // Pods are created and deleted (with preconditions); `patch` adds and removes the
            // canary label of existing pods (a merge patch guarded by the pod's uid).
            rule(
                "",
                &["pods"],
                &["get", "list", "watch", "create", "delete", "patch"],
            ),
            // Events are recorded through both APIs (kube's recorder uses events.k8s.io; a
            // repeated event is a PATCH of the series).
            rule("", &["events"], &["create", "patch"]),
            rule("events.k8s.io", &["events"], &["create", "patch"]),
            // Migration reads the DaemonSet named by the `old-daemonset` annotation
            // (upstream lacked this rule, so its migration failed).
            rule("apps", &["daemonsets"], &["get", "list", "watch"]),
            // Reconcile reads ExtendedDaemonSets and writes only their status subresource: the
            // spec and annotations belong to their owners (`kubectl eds` runs with the user's
            // own rights, see [`aggregate_rules`]).
            rule(&group, &[&eds], &["get", "list", "watch"]),
            rule(&group, &[&status(&eds)], &["patch"]),
            // One ExtendedDaemonSetReplicaSet per template revision, owned by the controller:
            // written by server-side apply (`patch`; `create` for the apply that creates it)
            // and deleted with preconditions, never replaced (no `update`).
            rule(
                &group,
                &[&ers],
                &["get", "list", "watch", "create", "patch", "delete"],
            ),
            rule(&group, &[&status(&ers)], &["patch"]),
            // Settings are read; only their status (valid / conflict) is written.
            rule(&group, &[&setting], &["get", "list", "watch"]),
            rule(&group, &[&status(&setting)], &["patch"]),
        ],
        // Leader election reads the Lease, creates it once, and renews or takes it over
        // with patches (never a PUT).
        leader_election: vec![rule(
            "coordination.k8s.io",
            &["leases"],
            &["get", "create", "patch"],
        )],
    }
}

/// Labels making a ClusterRole part of the default user-facing roles.
pub const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
/// See [`AGGREGATE_TO_ADMIN`].
pub const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
/// See [`AGGREGATE_TO_ADMIN`].
pub const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// Rules for people, aggregated into the default roles: `(edit, view)`. `edit` goes to the
/// `admin` and `edit` roles: everything `kubectl eds` does (canary validate/pause/fail and
/// rolling-update pause/freeze write annotations, `rollout undo` writes the spec) and what
/// `kubectl apply` of the three kinds needs. `view` reads them. Pods and events, which the
/// plugin also reads, are already in the default roles.
pub fn aggregate_rules() -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    let group = ExtendedDaemonSet::group(&());
    let kinds = [
        ExtendedDaemonSet::plural(&()).to_string(),
        ExtendedDaemonSetReplicaSet::plural(&()).to_string(),
        ExtendedDaemonsetSetting::plural(&()).to_string(),
    ];
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let edit = rule(
        &group,
        &kinds,
        &[
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
        ],
    );
    let view = rule(&group, &kinds, &["get", "list", "watch"]);
    (vec![edit], vec![view])
}

/// The two aggregated ClusterRoles, `<name>-edit` (to admin and edit) and `<name>-view`.
pub fn aggregate_roles(name: &str) -> [ClusterRole; 2] {
    let (edit, view) = aggregate_rules();
    let labelled = |suffix: &str, rules, labels: &[&str]| {
        let mut role = cluster_role(&format!("{name}-{suffix}"), rules);
        role.metadata.labels = Some(
            labels
                .iter()
                .map(|l| (l.to_string(), "true".to_string()))
                .collect(),
        );
        role
    };
    [
        labelled("edit", edit, &[AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT]),
        labelled("view", view, &[AGGREGATE_TO_VIEW]),
    ]
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(ToString::to_string),
        ..ObjectMeta::default()
    }
}

fn subject(service_account: &str, namespace: Option<&str>) -> Vec<Subject> {
    vec![Subject {
        kind: "ServiceAccount".to_string(),
        name: service_account.to_string(),
        namespace: namespace.map(ToString::to_string),
        ..Subject::default()
    }]
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: "rbac.authorization.k8s.io".to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

/// A ClusterRole granting `rules`.
pub fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None),
        rules: Some(rules),
        ..ClusterRole::default()
    }
}

/// Binds ClusterRole `name` to the service account `service_account` of `namespace`.
pub fn cluster_role_binding(
    name: &str,
    service_account: &str,
    namespace: Option<&str>,
) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None),
        role_ref: role_ref("ClusterRole", name),
        subjects: Some(subject(service_account, namespace)),
    }
}

/// A Role granting `rules` in `namespace` (the current namespace when `None`).
pub fn role(name: &str, namespace: Option<&str>, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(name, namespace),
        rules: Some(rules),
    }
}

/// Binds Role `name` of `namespace` to the service account `service_account` of
/// `sa_namespace`.
pub fn role_binding(
    name: &str,
    namespace: Option<&str>,
    service_account: &str,
    sa_namespace: Option<&str>,
) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, namespace),
        role_ref: role_ref("Role", name),
        subjects: Some(subject(service_account, sa_namespace)),
    }
}

/// Name of the role granting the [`Rules::watched`] rules (a ClusterRole when every namespace is
/// watched, otherwise a Role in each watched namespace), given the name of the installation.
pub fn watched_role_name(name: &str) -> String {
    name.to_string()
}

/// Name of the ClusterRole granting [`Rules::cluster`].
pub fn nodes_role_name(name: &str) -> String {
    format!("{name}-nodes")
}

/// Name of the Role granting [`Rules::leader_election`].
pub fn leader_election_role_name(name: &str) -> String {
    format!("{name}-leader-election")
}
