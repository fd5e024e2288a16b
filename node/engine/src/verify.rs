//! Full check of a data directory: every record's signature and seal, every audit chain, the indexes.

use std::collections::{HashMap, HashSet};

use alpr_protocol::envelope::{Envelope, envelope_hash};
use alpr_protocol::{ImageKind, NodeId};

use crate::datadir::Node;
use crate::store::{RecordId, StoreError, StoredRead};

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
    pub images: u64,
    pub audit_events: u64,
    /// Alerts and dispositions.
    pub alerts: u64,
    pub failures: Vec<Failure>,
    /// The watcher stopped the check: what was checked before is reported,
    /// the rest was not checked.
    pub cancelled: bool,
}

/// Records checked between two calls of a progress watcher.
pub const PROGRESS_EVERY: u64 = 1024;

/// A watcher of a long check: told the phase, the records of it checked
/// and how many there are (where known); it answers whether to go on.
pub type Watcher<'a> = &'a mut dyn FnMut(&str, u64, Option<u64>) -> bool;

/// Calls the watcher every [`PROGRESS_EVERY`] records, and remembers a stop.
struct Progress<'a> {
    watcher: Watcher<'a>,
    cancelled: bool,
}

impl Progress<'_> {
    /// Whether to check the `done`-th record of `what` (counting from 0).
    fn go_on(&mut self, what: &str, done: u64, total: Option<u64>) -> bool {
        if !self.cancelled
            && done.is_multiple_of(PROGRESS_EVERY)
            && !(self.watcher)(what, done, total)
        {
            self.cancelled = true;
        }
        !self.cancelled
    }
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    fn fail(&mut self, what: String, reason: String) {
        self.failures.push(Failure { what, reason });
    }
}

/// Where one origin's audit chain stands while walking it in seq order.
#[derive(Default)]
struct ChainCursor {
    last_seq: u64,
    last_hash: [u8; 32],
}

pub fn verify(node: &Node) -> Result<Report, StoreError> {
    verify_watched(node, &mut |_, _, _| true)
}

/// [`verify`], telling `watcher` how far it is; when the watcher answers
/// false the check stops (the records left are walked, not checked) and
/// the report says it was cancelled.
pub fn verify_watched(node: &Node, watcher: Watcher<'_>) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut p = Progress {
        watcher,
        cancelled: false,
    };
    let bad_reads = verify_reads(node, &mut report, &mut p)?;
    if !p.cancelled {
        verify_images(node, &mut report, &mut p, &bad_reads)?;
    }
    if !p.cancelled {
        verify_audit(node, &mut report, &mut p)?;
    }
    if !p.cancelled {
        verify_alerts(node, &mut report)?;
    }
    report.cancelled = p.cancelled;
    Ok(report)
}

/// Every read, and with each the images stored under it, checked against
/// what the read commits to while it is open: an image's read is verified
/// once, not again for each image. Returns the reads that do not verify
/// (their images are flagged by [`verify_images`]).
fn verify_reads(
    node: &Node,
    report: &mut Report,
    p: &mut Progress,
) -> Result<HashSet<RecordId>, StoreError> {
    let mut store_error: Option<StoreError> = None;
    let mut failures = Vec::new();
    let mut bad = HashSet::new();
    let total = node.store.index_counts()?.0;
    let mut n = 0u64;
    let mut checked = 0u64;
    let visited = node.store.for_each_read(|stored| {
        n += 1;
        if !p.go_on("reads", n - 1, Some(total)) {
            return;
        }
        checked += 1;
        let (id, bytes) = match stored {
            StoredRead::Envelope(id, bytes) => (id, bytes),
            StoredRead::DamagedBlock {
                origin,
                first_seq,
                reason,
            } => {
                failures.push((format!("read block {}/{first_seq}", origin.short()), reason));
                return;
            }
        };
        let what = format!("read {id}");
        match node.trust.open_read(bytes) {
            Err(e) => {
                bad.insert(id);
                failures.push((what, e.to_string()));
            }
            Ok(v) if v.read().origin != id.origin || v.read().seq != id.seq => {
                bad.insert(id);
                failures.push((
                    what,
                    format!(
                        "stored under {id} but its header says {}/{}",
                        v.read().origin.short(),
                        v.read().seq
                    ),
                ));
            }
            Ok(v) => {
                match node.store.indexes_match(v.read()) {
                    Ok(true) => {}
                    Ok(false) => failures.push((
                        what,
                        "its time or plate index entry is missing or wrong; searches may miss it"
                            .into(),
                    )),
                    Err(e) => {
                        store_error.get_or_insert(e);
                    }
                }
                for kind in [ImageKind::PlateCrop, ImageKind::Overview] {
                    match node.store.read_image(id, kind) {
                        Ok(Some(image)) => {
                            if let Some(reason) = image_problem(node, &v, kind, &image) {
                                failures.push((format!("{kind} image of read {id}"), reason));
                            }
                        }
                        Ok(None) => {}
                        // A damaged image block: the images pass names it
                        // (once, by block), and the check goes on.
                        Err(StoreError::Corrupt(_)) => {}
                        Err(e) => {
                            store_error.get_or_insert(e);
                        }
                    }
                }
            }
        }
    })?;
    if let Some(e) = store_error {
        return Err(e);
    }
    for (what, reason) in failures {
        report.fail(what, reason);
    }
    if p.cancelled {
        // Only what was checked counts: the rest was walked, not checked.
        report.reads = checked;
        return Ok(bad);
    }
    report.reads = visited;
    let (by_time, by_plate) = node.store.index_counts()?;
    if by_time != visited || by_plate != visited {
        report.fail(
            "indexes".into(),
            format!("{visited} reads but {by_time} time index and {by_plate} plate index entries"),
        );
    }
    Ok(bad)
}

/// What is wrong with the image record stored under a verified read, if
/// anything: it does not verify, is another read's or kind's, or is not
/// the image the read commits to.
fn image_problem(
    node: &Node,
    read: &alpr_protocol::VerifiedRead,
    kind: ImageKind,
    bytes: &[u8],
) -> Option<String> {
    let r = read.read();
    match node.trust.open_image(bytes) {
        Err(e) => Some(e.to_string()),
        Ok(i) if i.kind != kind || i.origin != r.origin || i.seq != r.seq => {
            Some("stored under another read or kind".into())
        }
        Ok(i) if !r.commits_to(&i) => Some("is not the image its read commits to".into()),
        Ok(_) => None,
    }
}

/// Every image record has a read that verifies (the images of verified
/// reads were checked with them by [`verify_reads`]), no image block is
/// damaged, and the image index counts what is stored.
fn verify_images(
    node: &Node,
    report: &mut Report,
    p: &mut Progress,
    bad_reads: &HashSet<RecordId>,
) -> Result<(), StoreError> {
    let mut counts = [0u64; 2];
    let (crops, overviews) = node.store.image_counts()?;
    let total = crops + overviews;
    let mut n = 0u64;
    for (slot, kind) in [ImageKind::PlateCrop, ImageKind::Overview]
        .into_iter()
        .enumerate()
    {
        let mut failures = Vec::new();
        let mut store_error = None;
        node.store.for_each_image(kind, |stored| {
            n += 1;
            if !p.go_on("images", n - 1, Some(total)) {
                return;
            }
            let id = match stored {
                StoredRead::Envelope(id, _) => {
                    counts[slot] += 1;
                    id
                }
                StoredRead::DamagedBlock {
                    origin,
                    first_seq,
                    reason,
                } => {
                    failures.push((
                        format!("{kind} image block {}/{first_seq}", origin.short()),
                        reason,
                    ));
                    return;
                }
            };
            let orphan = bad_reads.contains(&id)
                || match node.store.read_envelope(id) {
                    Ok(found) => found.is_none(),
                    Err(e) => {
                        store_error.get_or_insert(e);
                        return;
                    }
                };
            if orphan {
                failures.push((
                    format!("{kind} image of read {id}"),
                    "its read is missing or does not verify".into(),
                ));
            }
        })?;
        if let Some(e) = store_error {
            return Err(e);
        }
        for (what, reason) in failures {
            report.fail(what, reason);
        }
    }
    report.images = counts[0] + counts[1];
    if p.cancelled {
        return Ok(());
    }
    if crops != counts[0] || overviews != counts[1] {
        report.fail(
            "image index".into(),
            format!(
                "{} plate and {} overview images but {crops} and {overviews} index entries",
                counts[0], counts[1]
            ),
        );
    }
    Ok(())
}

/// Every alert record: signature, seal, and the id it is stored under.
fn verify_alerts(node: &Node, report: &mut Report) -> Result<(), StoreError> {
    for (id, bytes) in node.store.alert_envelopes()? {
        report.alerts += 1;
        let what = format!("alert record {id}");
        match node.trust.open_alert(&bytes) {
            Err(e) => report.fail(what, e.to_string()),
            Ok(v) => {
                let r = v.record();
                if r.origin != id.origin || r.seq != id.seq {
                    report.fail(
                        what,
                        format!(
                            "stored under {id} but its envelope says {}/{}",
                            r.origin.short(),
                            r.seq
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

fn verify_audit(node: &Node, report: &mut Report, p: &mut Progress) -> Result<(), StoreError> {
    let mut chains: HashMap<NodeId, ChainCursor> = HashMap::new();
    let mut failures = Vec::new();
    let mut floor_error = None;
    let mut starts: HashMap<NodeId, (u64, [u8; 32])> = HashMap::new();
    // Purge events, each of which may prove chain floors.
    let mut purges: Vec<alpr_protocol::AuditBody> = Vec::new();
    let mut n = 0u64;
    node.store.for_each_audit(|id, bytes| {
        n += 1;
        if !p.go_on("audit events", n - 1, None) {
            return;
        }
        report.audit_events += 1;
        let what = format!("audit event {id}");
        let cursor = chains.entry(id.origin).or_insert_with(|| {
            // The kept chain starts after the last purged event (its floor).
            let (last_seq, last_hash) = node.store.audit_floor(id.origin).unwrap_or_else(|e| {
                floor_error.get_or_insert(e);
                (0, [0; 32])
            });
            starts.insert(id.origin, (last_seq, last_hash));
            ChainCursor {
                last_seq,
                last_hash,
            }
        });
        match node.trust.open_audit(bytes) {
            Err(e) => failures.push((what, e.to_string())),
            Ok(v) => {
                let e = v.event();
                if e.body.action == alpr_protocol::Action::Purge {
                    purges.push(e.body.clone());
                }
                if e.origin != id.origin || e.seq != id.seq {
                    failures.push((
                        what,
                        format!(
                            "stored under {id} but its header says {}/{}",
                            e.origin.short(),
                            e.seq
                        ),
                    ));
                } else if e.seq != cursor.last_seq + 1 {
                    failures.push((
                        what,
                        format!(
                            "broken chain: follows seq {} (events {}..{} are missing)",
                            cursor.last_seq,
                            cursor.last_seq + 1,
                            e.seq - 1
                        ),
                    ));
                } else if e.body.prev_hash != cursor.last_hash {
                    failures.push((
                        what,
                        format!(
                            "broken chain: prev_hash does not match event {}/{}",
                            id.origin.short(),
                            cursor.last_seq
                        ),
                    ));
                }
            }
        }
        // The chain continues from the bytes as stored, so one damaged event
        // is reported once, not again for every event after it.
        if let Ok(env) = Envelope::parse(bytes) {
            cursor.last_seq = env.header.seq.max(id.seq);
        } else {
            cursor.last_seq = id.seq;
        }
        cursor.last_hash = envelope_hash(bytes);
    })?;
    if let Some(e) = floor_error {
        return Err(e);
    }
    if p.cancelled {
        // What was found before the stop stands; the chains' starts were
        // not all walked, so they are not judged.
        for (what, reason) in failures {
            report.fail(what, reason);
        }
        return Ok(());
    }
    // A chain that starts above seq 1 must have been cut by a purge that
    // signed the cut; otherwise events were deleted.
    for (origin, start) in &starts {
        let (seq, hash) = *start;
        if seq == 0 {
            continue;
        }
        let floor = alpr_protocol::record::AuditFloor {
            origin: *origin,
            seq,
            hash,
        };
        if !purges.iter().any(|p| p.proves_floor(&floor)) {
            failures.push((
                format!("audit chain of {}", origin.short()),
                format!("starts after seq {seq}, but no signed purge event records that cut: events were deleted"),
            ));
        }
    }
    for (what, reason) in failures {
        report.fail(what, reason);
    }
    Ok(())
}
