//! `cargo fuzz run plan_state`: see `eds_fuzz::plan_state`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eds_fuzz::plan_state::run(data));
