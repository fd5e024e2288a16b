//! Fuzz target `sync_message`: the body is `alpr_protocol::fuzzing::sync_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alpr_protocol::fuzzing::sync_message(data));
