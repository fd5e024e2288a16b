//! Fuzz target `policy_sync`: the body is `alpr_engine::fuzzing::policy_sync`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_engine::fuzzing::policy_sync(data));
