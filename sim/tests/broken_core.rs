//! A broken core is caught: with `--features defect-purge-ignores-holds`
//! the engine's purge deletes held reads, and the fleet simulator must
//! report it as a safety violation with the command that replays it.
//! Without the feature this file builds to nothing; `scripts/check` runs
//! it with the feature.
#![cfg(feature = "defect-purge-ignores-holds")]

use alpr_sim::fleet::{self, Config, Faults};

#[test]
fn a_purge_that_ignores_holds_is_caught_with_a_replayable_seed() {
    let config = Config {
        seed: 3,
        cars: 3,
        stations: 2,
        hours: 30,
        faults: Faults::none(),
        reads_per_shift: 100,
        trace: false,
    };
    let report = fleet::run(&config).expect("runs");
    assert!(!report.ok(), "the defect went unnoticed: {report}");
    let text = report.to_string();
    assert!(
        text.contains("which its own hold covers"),
        "caught by the hold invariant: {text}"
    );
    assert!(
        text.contains(&format!("replay: {}", config.command())),
        "{text}"
    );
    // The same seed fails the same way.
    let again = fleet::run(&config).expect("runs");
    assert_eq!(again.to_string(), text);
}
