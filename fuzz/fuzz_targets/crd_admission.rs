//! `cargo fuzz run crd_admission`: see `eds_fuzz::crd_admission`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eds_fuzz::crd_admission::run(data));
