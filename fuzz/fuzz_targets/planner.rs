//! `cargo fuzz run planner`: see `eds_fuzz::planner`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eds_fuzz::planner::run(data));
