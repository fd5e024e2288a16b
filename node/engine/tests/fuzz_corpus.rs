//! Replays every file of the engine's fuzz corpora (`fuzz/corpus/<target>/`)
//! and the generated seeds of every target, the protocol's included,
//! through the fuzz target bodies (`alpr_engine::fuzzing`), on stable. A
//! missing or empty corpus fails. With `ALPR_FUZZ_WRITE_SEEDS` set, the
//! seeds are also written into the corpora (`scripts/fuzz seeds`), each
//! file named by its content.

use std::path::{Path, PathBuf};

use alpr_engine::fuzzing::{TARGETS, seeds};
use alpr_protocol::fuzzing::replay;
use sha2::{Digest, Sha256};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// Every file of a target's corpus, by path; panics if there is none.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry
                .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
                .path();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("corpus file {}: {e}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files.sort();
    files
}

#[test]
fn every_corpus_file_passes_its_target() {
    for (name, target) in TARGETS {
        let files = corpus(name);
        let failed = replay(*target, files.iter().map(|(p, b)| (p.clone(), &b[..])));
        assert!(failed.is_empty(), "{name} panicked on {failed:#?}");
    }
}

#[test]
fn every_seed_passes_its_target_and_every_target_has_seeds() {
    let seeds = seeds();
    let protocol = alpr_protocol::fuzzing::TARGETS;
    for (name, target) in TARGETS.iter().chain(protocol) {
        let mine: Vec<(String, &[u8])> = seeds
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| t == name)
            .map(|(i, (_, b))| (format!("{name} seed {i}"), &b[..]))
            .collect();
        assert!(!mine.is_empty(), "no seed for {name}");
        let failed = replay(*target, mine);
        assert!(failed.is_empty(), "{name} panicked on {failed:#?}");
    }
    if std::env::var_os("ALPR_FUZZ_WRITE_SEEDS").is_some() {
        for (target, bytes) in &seeds {
            let dir = corpus_dir(target);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let name = format!("seed-{}", &hex::encode(Sha256::digest(bytes))[..16]);
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
