//! Fuzz target `bundle`: the body is `alpr_protocol::fuzzing::bundle`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::bundle(data));
