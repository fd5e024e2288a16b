//! Full check of a data directory: every record's signature and seal, every audit chain, the indexes.

use std::collections::HashMap;

use alpr_protocol::NodeId;
use alpr_protocol::envelope::{Envelope, envelope_hash};

use crate::datadir::Node;
use crate::store::StoreError;

/// One thing found wrong, named so a person can find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub what: String,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub reads: u64,
    pub audit_events: u64,
    pub failures: Vec<Failure>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Where one origin's audit chain stands while walking it in seq order.
struct ChainCursor {
    last_seq: u64,
    last_hash: [u8; 32],
}

pub fn verify(node: &Node) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let trust = &node.trust;
    report.reads = node.store.for_each_read(|id, bytes| {
        let what = format!("read {id}");
        match trust.open_read(bytes) {
            Err(e) => report.failures.push(Failure {
                what,
                reason: e.to_string(),
            }),
            Ok(v) if v.read().origin != id.origin || v.read().seq != id.seq => {
                report.failures.push(Failure {
                    what,
                    reason: format!(
                        "stored under {id} but its header says {}/{}",
                        v.read().origin.short(),
                        v.read().seq
                    ),
                })
            }
            Ok(_) => {}
        }
    })?;

    let mut chains: HashMap<NodeId, ChainCursor> = HashMap::new();
    report.audit_events = node.store.for_each_audit(|id, bytes| {
        let what = format!("audit event {id}");
        let mut fail = |reason: String| {
            report.failures.push(Failure {
                what: what.clone(),
                reason,
            })
        };
        match trust.open_audit(bytes) {
            Err(e) => fail(e.to_string()),
            Ok(v) => {
                let e = v.event();
                let cursor = chains.entry(id.origin).or_insert(ChainCursor {
                    last_seq: 0,
                    last_hash: [0; 32],
                });
                if e.origin != id.origin || e.seq != id.seq {
                    fail(format!(
                        "stored under {id} but its header says {}/{}",
                        e.origin.short(),
                        e.seq
                    ));
                } else if e.seq != cursor.last_seq + 1 {
                    fail(format!(
                        "broken chain: follows seq {} (events {}..{} are missing)",
                        cursor.last_seq,
                        cursor.last_seq + 1,
                        e.seq - 1
                    ));
                } else if e.body.prev_hash != cursor.last_hash {
                    fail(format!(
                        "broken chain: prev_hash does not match event {}/{}",
                        id.origin.short(),
                        cursor.last_seq
                    ));
                }
            }
        }
        // The chain continues from the bytes as stored, so one damaged event
        // is reported once, not again for every event after it.
        if let Ok(env) = Envelope::parse(bytes) {
            let cursor = chains.entry(id.origin).or_insert(ChainCursor {
                last_seq: 0,
                last_hash: [0; 32],
            });
            cursor.last_seq = env.header.seq.max(id.seq);
            cursor.last_hash = envelope_hash(bytes);
        }
    })?;

    let (reads, by_time, by_plate, _) = node.store.counts()?;
    if by_time != reads || by_plate != reads {
        report.failures.push(Failure {
            what: "indexes".into(),
            reason: format!(
                "{reads} reads but {by_time} time index and {by_plate} plate index entries"
            ),
        });
    }
    Ok(report)
}
