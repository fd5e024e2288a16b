//! Fuzz target `jsonl_import`: the body is `alpr_engine::fuzzing::jsonl_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_engine::fuzzing::jsonl_import(data));
