//! Every `kubectl eds` verb against the embedded API server simulator: the printed output and
//! the resulting annotations and spec.

mod plugin_sim {
    pub mod support;

    mod annotate;
    mod get;
    mod pods;
    mod rollout;
    mod status;
}
