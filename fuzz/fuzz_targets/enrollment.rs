//! Fuzz target `enrollment`: the body is `alpr_protocol::fuzzing::enrollment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::enrollment(data));
