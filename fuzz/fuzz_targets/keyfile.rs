//! Fuzz target `keyfile`: the body is `alpr_protocol::fuzzing::keyfile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::keyfile(data));
