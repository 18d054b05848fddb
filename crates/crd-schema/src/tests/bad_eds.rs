//! A table of bad ExtendedDaemonSet manifests: each is `foo` with one mistake, and must be
//! rejected with a cause on the right field.

use serde_json::{Value, json};

use super::{canary, eds_schema, foo, rolling};
use crate::reason;

/// One bad manifest: a change to `foo` and the cause it must produce.
struct Case {
    name: &'static str,
    edit: fn(&mut Value),
    field: &'static str,
    reason: &'static str,
    message_has: &'static str,
}

const BAD_EDS: &[Case] = &[
    Case {
        name: "negative canary replicas",
        edit: |o| canary(o)["replicas"] = json!(-1),
        field: "spec.strategy.canary.replicas",
        reason: reason::INVALID,
        message_has: "should be greater than or equal to 0",
    },
    Case {
        name: "percentage above 100",
        edit: |o| rolling(o)["maxUnavailable"] = json!("150%"),
        field: "spec.strategy.rollingUpdate.maxUnavailable",
        reason: reason::INVALID,
        message_has: r#"Invalid value: "150%": spec.strategy.rollingUpdate.maxUnavailable in body should match '^(100|[1-9]?[0-9])%$'"#,
    },
    Case {
        name: "canary replicas percentage above 100",
        edit: |o| canary(o)["replicas"] = json!("150%"),
        field: "spec.strategy.canary.replicas",
        reason: reason::INVALID,
        message_has: "should match '^(100|[1-9]?[0-9])%$'",
    },
    Case {
        name: "duration in words",
        edit: |o| canary(o)["duration"] = json!("5 minutes"),
        field: "spec.strategy.canary.duration",
        reason: reason::INVALID,
        message_has: r#"Invalid value: "5 minutes""#,
    },
    Case {
        name: "unknown validation mode",
        edit: |o| canary(o)["validationMode"] = json!("sometimes"),
        field: "spec.strategy.canary.validationMode",
        reason: reason::NOT_SUPPORTED,
        message_has: r#"supported values: "auto", "manual""#,
    },
    Case {
        name: "autoFail.maxRestarts below autoPause.maxRestarts",
        edit: |o| {
            canary(o)["autoPause"] = json!({"maxRestarts": 3});
            canary(o)["autoFail"] = json!({"maxRestarts": 1});
        },
        field: "spec.strategy.canary.autoFail.maxRestarts",
        reason: reason::INVALID,
        message_has: "autoFail.maxRestarts must be greater than or equal to autoPause.maxRestarts",
    },
    Case {
        name: "autoFail.maxRestarts below the autoPause default",
        edit: |o| canary(o)["autoFail"] = json!({"maxRestarts": 1}),
        field: "spec.strategy.canary.autoFail.maxRestarts",
        reason: reason::INVALID,
        message_has: r#"Invalid value: "object": autoFail.maxRestarts must be"#,
    },
    Case {
        name: "canary timeout not longer than duration",
        edit: |o| canary(o)["autoFail"] = json!({"canaryTimeout": "5m"}),
        field: "spec.strategy.canary.autoFail.canaryTimeout",
        reason: reason::INVALID,
        message_has: "canaryTimeout must be longer than duration",
    },
    Case {
        name: "manual validation with a duration",
        edit: |o| canary(o)["validationMode"] = json!("manual"),
        field: "spec.strategy.canary.validationMode",
        reason: reason::INVALID,
        message_has: "must not be set when validationMode is manual",
    },
    Case {
        name: "maxSurge and maxUnavailable both 0",
        edit: |o| rolling(o)["maxUnavailable"] = json!(0),
        field: "spec.strategy.rollingUpdate.maxUnavailable",
        reason: reason::INVALID,
        message_has: "maxSurge and maxUnavailable cannot both be 0",
    },
    Case {
        name: "maxSurge and maxUnavailable both 0%",
        edit: |o| {
            rolling(o)["maxUnavailable"] = json!("0%");
            rolling(o)["maxSurge"] = json!("0%");
        },
        field: "spec.strategy.rollingUpdate.maxUnavailable",
        reason: reason::INVALID,
        message_has: "cannot both be 0",
    },
    Case {
        name: "string where an integer is expected",
        edit: |o| o["spec"]["revisionHistoryLimit"] = json!("ten"),
        field: "spec.revisionHistoryLimit",
        reason: reason::TYPE_INVALID,
        message_has: r#"must be of type integer: "string""#,
    },
    Case {
        name: "integer where a duration is expected",
        edit: |o| o["spec"]["strategy"]["reconcileFrequency"] = json!(10),
        field: "spec.strategy.reconcileFrequency",
        reason: reason::TYPE_INVALID,
        message_has: r#"must be of type string: "integer""#,
    },
    Case {
        name: "boolean int-or-string",
        edit: |o| rolling(o)["maxSurge"] = json!(true),
        field: "spec.strategy.rollingUpdate.maxSurge",
        reason: reason::TYPE_INVALID,
        message_has: "must be of type integer,string",
    },
    Case {
        name: "missing template",
        edit: |o| drop(o["spec"].as_object_mut().unwrap().remove("template")),
        field: "spec.template",
        reason: reason::REQUIRED,
        message_has: "Required value",
    },
    Case {
        name: "container without a name",
        edit: |o| {
            drop(
                o["spec"]["template"]["spec"]["containers"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("name"),
            )
        },
        field: "spec.template.spec.containers[0].name",
        reason: reason::REQUIRED,
        message_has: "Required value",
    },
    Case {
        name: "zero parallel pod creations",
        edit: |o| rolling(o)["maxParallelPodCreation"] = json!(0),
        field: "spec.strategy.rollingUpdate.maxParallelPodCreation",
        reason: reason::INVALID,
        message_has: "should be greater than or equal to 1",
    },
    Case {
        name: "unknown strategy type",
        edit: |o| o["spec"]["strategy"]["type"] = json!("Recreate"),
        field: "spec.strategy.type",
        reason: reason::NOT_SUPPORTED,
        message_has: r#"Unsupported value: "Recreate""#,
    },
    Case {
        name: "minReadySeconds beyond int32",
        edit: |o| o["spec"]["minReadySeconds"] = json!(3_000_000_000_i64),
        field: "spec.minReadySeconds",
        reason: reason::INVALID,
        message_has: "must be of type int32",
    },
];

#[test]
fn bad_extended_daemon_sets_are_rejected_with_the_field_path() {
    let schema = eds_schema();
    for case in BAD_EDS {
        let mut obj = foo();
        (case.edit)(&mut obj);
        let causes = match schema.admit(&mut obj, None) {
            Ok(()) => panic!("{}: admitted", case.name),
            Err(causes) => causes,
        };
        let found = causes.iter().find(|c| c.field == case.field);
        let Some(cause) = found else {
            panic!("{}: no cause for {}: {causes:?}", case.name, case.field);
        };
        assert_eq!(cause.reason, case.reason, "{}: {cause}", case.name);
        assert!(
            cause.message.contains(case.message_has),
            "{}: {cause}",
            case.name
        );
    }
}
