//! The chart's values schema and the controller accept the same `logLevel` strings.

use eds_controller::{LOG_LEVEL_PATTERN, parse_log_level};

#[test]
fn schema_pattern_and_controller_agree() {
    let schema = serde_json::to_value(eds_deploy::values::schema()).expect("schema");
    let pattern = schema["properties"]["logLevel"]["pattern"]
        .as_str()
        .expect("logLevel has a pattern");
    assert_eq!(pattern, LOG_LEVEL_PATTERN);
    let re = regex::Regex::new(pattern).expect("pattern compiles");
    for value in [
        "info",
        "off",
        "trace",
        "info,eds_controller=debug",
        "kube_runtime::controller=trace",
        "verbose",
        "",
        "info,",
        "INFO",
        "=debug",
        "a b=info",
        "debug,hyper=loud",
    ] {
        assert_eq!(
            re.is_match(value),
            parse_log_level(value).is_ok(),
            "schema and controller disagree on {value:?}"
        );
    }
}
