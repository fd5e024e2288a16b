//! The replication core's laws: order and duplicates do not matter, cuts lose
//! at most the batch in flight, and reads only ever flow toward stations.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failure with its message.

use std::collections::{BTreeMap, VecDeque};

use alpr_protocol::replicate::{
    Batch, BatchLimits, COLLECTIONS, Collection, Fetched, Holdings, Output, Received, RecordSource,
    SyncMessage, SyncSession, VersionVector, Want, WireImage, WireRecord,
};
use alpr_protocol::{NodeId, Role, SignedCertificate, Timestamp};

const T: Timestamp = Timestamp(1_000_000);
use proptest::prelude::*;

/// A node's records in memory, standing in for its store.
#[derive(Default)]
struct Node {
    records: BTreeMap<(Collection, NodeId, u64), WireRecord>,
    received: BTreeMap<Collection, Received>,
    delivered: usize,
}

impl Node {
    fn add(&mut self, c: Collection, origin: NodeId, seq: u64) {
        let record = WireRecord {
            seq,
            envelope: vec![seq as u8; 10],
            images: vec![WireImage(vec![1; 5])],
        };
        self.records.insert((c, origin, seq), record);
        self.received.entry(c).or_default().accept(origin, seq);
    }

    /// Purges a record (as retention does, leaving a gap when later ones are held).
    fn purge(&mut self, c: Collection, origin: NodeId, seq: u64) {
        self.records.remove(&(c, origin, seq));
    }

    fn vectors(&self) -> BTreeMap<Collection, VersionVector> {
        COLLECTIONS
            .iter()
            .map(|c| {
                (
                    *c,
                    self.received
                        .get(c)
                        .map(Received::vector)
                        .unwrap_or_default(),
                )
            })
            .collect()
    }
}

impl RecordSource for Node {
    fn fetch(&self, c: Collection, want: Want, limits: BatchLimits) -> Result<Fetched, String> {
        let records: Vec<WireRecord> = self
            .records
            .range((c, want.origin, want.after + 1)..=(c, want.origin, want.upto))
            .take(limits.records_max + 1)
            .map(|(_, r)| r.clone())
            .collect();
        let complete = records.len() <= limits.records_max;
        Ok(Fetched {
            records: records.into_iter().take(limits.records_max).collect(),
            complete,
        })
    }

    fn certificate(&self, _: &NodeId) -> Option<SignedCertificate> {
        None
    }
}

fn holdings(vectors: BTreeMap<Collection, VersionVector>) -> Holdings {
    Holdings {
        vectors,
        ..Holdings::default()
    }
}

fn id(n: u8) -> NodeId {
    NodeId([n; 32])
}

/// Runs one connection until both sides are idle or `cut_after` messages were delivered.
fn connect(
    a: &mut Node,
    a_role: Role,
    b: &mut Node,
    b_role: Role,
    limits: BatchLimits,
    cut_after: usize,
) -> bool {
    let (mut sa, hello_a) =
        SyncSession::start(T, a_role, (id(2), b_role), holdings(a.vectors()), limits);
    let (mut sb, hello_b) =
        SyncSession::start(T, b_role, (id(1), a_role), holdings(b.vectors()), limits);
    // (to_b, message)
    let mut wire: VecDeque<(bool, SyncMessage)> = VecDeque::new();
    for (to_b, out) in [(true, hello_a), (false, hello_b)] {
        if let Output::Send(m) = out {
            wire.push_back((to_b, m));
        }
    }
    let mut delivered = 0;
    while let Some((to_b, message)) = wire.pop_front() {
        if delivered == cut_after {
            return false;
        }
        delivered += 1;
        let (session, node) = if to_b {
            (&mut sb, &mut *b)
        } else {
            (&mut sa, &mut *a)
        };
        let mut outs = session.receive(T, message, node).unwrap();
        while let Some(out) = outs.pop() {
            match out {
                Output::Send(m) => wire.push_back((!to_b, m)),
                Output::SendHotlist { .. }
                | Output::StoreHotlist { .. }
                | Output::Policy { .. }
                | Output::StartPolicySync => {}
                Output::Store(batch) => {
                    let collection = batch.collection;
                    let received = node.received.entry(collection).or_default();
                    for r in batch.records {
                        node.delivered += 1;
                        received.accept(batch.origin, r.seq);
                        node.records.insert((collection, batch.origin, r.seq), r);
                    }
                    received.cover(batch.origin, batch.after, batch.through);
                    let v = received.vector();
                    outs.extend(session.stored(collection, v, node).unwrap());
                }
            }
        }
    }
    sa.in_sync() && sb.in_sync()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any order, any number of times: the same vector.
    #[test]
    fn accepting_is_order_free_and_idempotent(seqs in prop::collection::vec(1u64..60, 0..200), seed in any::<u64>()) {
        let mut a = Received::default();
        for s in &seqs {
            a.accept(id(3), *s);
        }
        let mut shuffled = seqs.clone();
        shuffled.extend(seqs.iter().take(20));
        let n = shuffled.len();
        if n > 1 {
            for i in 0..n {
                let j = (seed.wrapping_mul(i as u64 + 1) % n as u64) as usize;
                shuffled.swap(i, j);
            }
        }
        let mut b = Received::default();
        for s in &shuffled {
            b.accept(id(3), *s);
        }
        prop_assert_eq!(a.vector(), b.vector());
        let expect = (1..).take_while(|s| seqs.contains(s)).last().unwrap_or(0);
        prop_assert_eq!(a.vector().mark(&id(3)).contiguous, expect);
    }

    /// A car's shift reaches the station whatever the cuts; nothing is resent
    /// but the batches in flight at each cut; the station's reads never reach the car.
    #[test]
    fn a_shift_survives_cuts(reads in 1u64..300, audit in 0u64..50, have in 0u64..100, cuts in prop::collection::vec(1usize..40, 0..6), batch in 1usize..50) {
        let limits = BatchLimits { records_max: batch, bytes_max: 1 << 20 };
        let mut car = Node::default();
        let mut station = Node::default();
        for s in 1..=reads {
            car.add(Collection::Reads, id(1), s);
        }
        for s in 1..=audit {
            car.add(Collection::AuditEvents, id(1), s);
        }
        for s in 1..=have.min(reads) {
            station.add(Collection::Reads, id(1), s);
        }
        station.add(Collection::Reads, id(9), 1); // the station's own read
        let mut rounds = 0;
        for cut in &cuts {
            connect(&mut car, Role::Vehicle, &mut station, Role::Station, limits, *cut);
            rounds += 1;
        }
        while !connect(&mut car, Role::Vehicle, &mut station, Role::Station, limits, usize::MAX) {
            rounds += 1;
            prop_assert!(rounds < 100, "no convergence");
        }
        for s in 1..=reads {
            prop_assert!(station.records.contains_key(&(Collection::Reads, id(1), s)), "read {} missing", s);
        }
        prop_assert_eq!(station.vectors()[&Collection::AuditEvents].mark(&id(1)).contiguous, audit);
        prop_assert!(!car.records.contains_key(&(Collection::Reads, id(9), 1)), "a station's read reached a car");
        let needed = (reads - have.min(reads) + audit) as usize;
        prop_assert!(station.delivered <= needed + cuts.len() * 2 * batch, "resent too much: {} for {}", station.delivered, needed);
    }

    /// Records purged at the car while later ones were held leave gaps; the
    /// station still ends in sync and never asks for them again.
    #[test]
    fn purge_gaps_do_not_stall(reads in 1u64..200, gaps in prop::collection::btree_set(1u64..200, 0..60), batch in 1usize..30) {
        let limits = BatchLimits { records_max: batch, bytes_max: 1 << 20 };
        let mut car = Node::default();
        let mut station = Node::default();
        for s in 1..=reads {
            car.add(Collection::Reads, id(1), s);
        }
        for g in &gaps {
            car.purge(Collection::Reads, id(1), *g);
        }
        prop_assert!(connect(&mut car, Role::Vehicle, &mut station, Role::Station, limits, usize::MAX));
        prop_assert_eq!(station.vectors()[&Collection::Reads].mark(&id(1)).contiguous, reads);
        for s in 1..=reads {
            prop_assert_eq!(station.records.contains_key(&(Collection::Reads, id(1), s)), !gaps.contains(&s));
        }
        // A second meeting sends nothing.
        let before = station.delivered;
        prop_assert!(connect(&mut car, Role::Vehicle, &mut station, Role::Station, limits, usize::MAX));
        prop_assert_eq!(station.delivered, before);
    }

    /// Two stations exchange everything each holds, in both directions.
    #[test]
    fn stations_converge(a_reads in 0u64..80, b_reads in 0u64..80) {
        let limits = BatchLimits { records_max: 7, bytes_max: 1 << 20 };
        let mut a = Node::default();
        let mut b = Node::default();
        for s in 1..=a_reads { a.add(Collection::Reads, id(1), s); }
        for s in 1..=b_reads { b.add(Collection::Reads, id(2), s); }
        prop_assert!(connect(&mut a, Role::Station, &mut b, Role::Station, limits, usize::MAX));
        prop_assert_eq!(a.vectors(), b.vectors());
    }
}

#[test]
fn a_car_refuses_reads_sent_to_it() {
    let (mut car, _) = SyncSession::start(
        T,
        Role::Vehicle,
        (id(2), Role::Vehicle),
        Holdings::default(),
        BatchLimits::default(),
    );
    let source = Node::default();
    car.receive(
        T,
        SyncMessage::Hello {
            role: Role::Vehicle,
            vectors: BTreeMap::new(),
            hotlists: BTreeMap::new(),
            policy: [0; 16],
        },
        &source,
    )
    .unwrap();
    let err = car
        .receive(
            T,
            SyncMessage::Batch(Batch {
                collection: Collection::Reads,
                origin: id(2),
                after: 0,
                through: 0,
                certificates: vec![],
                records: vec![],
            }),
            &source,
        )
        .unwrap_err();
    assert!(err.to_string().contains("may not receive"), "{err}");
}

#[test]
fn a_peer_must_be_who_the_handshake_said() {
    let (mut station, _) = SyncSession::start(
        T,
        Role::Station,
        (id(2), Role::Vehicle),
        Holdings::default(),
        BatchLimits::default(),
    );
    let err = station
        .receive(
            T,
            SyncMessage::Hello {
                role: Role::Station,
                vectors: BTreeMap::new(),
                hotlists: BTreeMap::new(),
                policy: [0; 16],
            },
            &Node::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("authenticated as"), "{err}");
}

#[test]
fn batches_that_are_not_runs_are_refused() {
    let start = || {
        let (mut s, _) = SyncSession::start(
            T,
            Role::Station,
            (id(2), Role::Vehicle),
            Holdings::default(),
            BatchLimits::default(),
        );
        s.receive(
            T,
            SyncMessage::Hello {
                role: Role::Vehicle,
                vectors: BTreeMap::new(),
                hotlists: BTreeMap::new(),
                policy: [0; 16],
            },
            &Node::default(),
        )
        .unwrap();
        s
    };
    let record = |seq| WireRecord {
        seq,
        envelope: vec![],
        images: vec![],
    };
    for (after, through, seqs) in [
        (5, 3, vec![]),
        (0, 10, vec![2, 2]),
        (0, 10, vec![11]),
        (4, 10, vec![4]),
    ] {
        let batch = Batch {
            collection: Collection::Reads,
            origin: id(2),
            after,
            through,
            certificates: vec![],
            records: seqs.into_iter().map(record).collect(),
        };
        let err = start()
            .receive(T, SyncMessage::Batch(batch), &Node::default())
            .unwrap_err();
        assert!(err.to_string().contains("not a run"), "{err}");
    }
}

#[test]
fn a_peer_that_owes_an_answer_and_goes_silent_stalls_the_session() {
    let mut car = Node::default();
    car.add(Collection::Reads, id(1), 1);
    let (mut s, _) = SyncSession::start(
        T,
        Role::Vehicle,
        (id(2), Role::Station),
        holdings(car.vectors()),
        BatchLimits::default(),
    );
    // Owed: the peer's Hello.
    assert_eq!(
        s.next_timer(),
        Some(Timestamp(T.0 + alpr_protocol::replicate::STALL_MS))
    );
    let later = Timestamp(T.0 + 1000);
    let out = s
        .receive(
            later,
            SyncMessage::Hello {
                role: Role::Station,
                vectors: BTreeMap::new(),
                hotlists: BTreeMap::new(),
                policy: [0; 16],
            },
            &car,
        )
        .unwrap();
    assert!(matches!(
        out.as_slice(),
        [Output::Send(SyncMessage::Batch(_))]
    ));
    // Owed: the batch's Ack, counted from when the peer last spoke.
    let due = s.next_timer().unwrap();
    assert_eq!(due, Timestamp(later.0 + alpr_protocol::replicate::STALL_MS));
    s.tick(Timestamp(due.0 - 1)).unwrap();
    let err = s.tick(due).unwrap_err();
    assert!(err.to_string().contains("went silent"), "{err}");
}

#[test]
fn a_run_may_not_claim_past_the_hello_nor_a_car_vouch_for_others() {
    let mut vectors = BTreeMap::new();
    let mut v = VersionVector::default();
    v.0.insert(
        id(2),
        alpr_protocol::replicate::Mark {
            contiguous: 5,
            floor: 0,
        },
    );
    vectors.insert(Collection::Reads, v);
    let start = || {
        let (mut s, _) = SyncSession::start(
            T,
            Role::Station,
            (id(2), Role::Vehicle),
            Holdings::default(),
            BatchLimits::default(),
        );
        s.receive(
            T,
            SyncMessage::Hello {
                role: Role::Vehicle,
                vectors: vectors.clone(),
                hotlists: BTreeMap::new(),
                policy: [0; 16],
            },
            &Node::default(),
        )
        .unwrap();
        s
    };
    let run = |origin, through| {
        SyncMessage::Batch(Batch {
            collection: Collection::Reads,
            origin,
            after: 0,
            through,
            certificates: vec![],
            records: vec![],
        })
    };
    start().receive(T, run(id(2), 5), &Node::default()).unwrap();
    let err = start()
        .receive(T, run(id(2), u64::MAX), &Node::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("past the 5 its Hello claimed"),
        "{err}"
    );
    let err = start()
        .receive(T, run(id(3), 0), &Node::default())
        .unwrap_err();
    assert!(err.to_string().contains("another node's records"), "{err}");
}
