//! Fuzz target `record_body`: the body is `alpr_protocol::fuzzing::record_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::record_body(data));
