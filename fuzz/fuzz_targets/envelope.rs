//! Fuzz target `envelope`: the body is `alpr_protocol::fuzzing::envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::envelope(data));
