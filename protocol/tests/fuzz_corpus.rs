//! Replays every file of this crate's fuzz corpora (`fuzz/corpus/<target>/`)
//! and its generated seeds through the fuzz target bodies
//! (`alpr_protocol::fuzzing`), on stable: an input that once crashed a
//! decoder stays in the corpus and keeps it fixed. A missing or empty
//! corpus fails, so the replay cannot pass by finding nothing.

use std::path::PathBuf;

use alpr_protocol::fuzzing::{TARGETS, replay, seeds};

/// Every file of a target's corpus, by path; panics if there is none.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
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
    for (name, target) in TARGETS {
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
}
