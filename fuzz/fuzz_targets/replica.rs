//! Fuzz target `replica`: the body is `alpr_engine::fuzzing::replica`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_engine::fuzzing::replica(data));
