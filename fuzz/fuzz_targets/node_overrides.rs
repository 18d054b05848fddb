//! `cargo fuzz run node_overrides`: see `eds_fuzz::node_overrides`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eds_fuzz::node_overrides::run(data));
