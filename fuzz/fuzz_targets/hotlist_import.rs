//! Fuzz target `hotlist_import`: the body is `alpr_engine::fuzzing::hotlist_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_engine::fuzzing::hotlist_import(data));
