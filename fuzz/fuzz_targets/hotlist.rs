//! Fuzz target `hotlist`: the body is `alpr_protocol::fuzzing::hotlist`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::hotlist(data));
