//! Fuzz target `hotlist_csv`: the body is `alpr_engine::fuzzing::hotlist_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_engine::fuzzing::hotlist_csv(data));
