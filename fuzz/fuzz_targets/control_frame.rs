//! Fuzz target `control_frame`: the body is `alpr_protocol::fuzzing::control_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::control_frame(data));
