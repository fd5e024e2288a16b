//! The bodies of the fuzz targets over the engine's decoders of outside
//! input, and the seeds they start from (see `alpr_protocol::fuzzing`,
//! whose fixed keys these share).
//!
//! A peer's whole meeting (`replica`), its policy changes (`policy_sync`,
//! the automerge sync messages), and the files an operator imports: JSON
//! lines of reads (`jsonl_import`), CSV extracts to publish
//! (`hotlist_csv`), NCIC and mapped CSV extracts under a source config
//! (`hotlist_import`). The importers read files, so their targets write
//! the input to a file of this process under the temporary directory and
//! hand the product's function its path.

use std::collections::BTreeMap;
use std::path::PathBuf;

use alpr_protocol::fuzzing::{self as protocol_fuzzing, keys};
use alpr_protocol::replicate::{BatchLimits, ChangeSignature, SyncMessage};
use alpr_protocol::{NodeKey, Role, Timestamp, VerifiedCertificate, control};
use automerge::sync::SyncDoc;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::datadir::Node;
use crate::engine::replica::Replica;
use crate::engine::{Engine, NewUser, PolicyPeer};
use crate::hotlist::{self, Format, ImportOptions, Source};
use crate::import;
use crate::policy::UserRole;
use crate::store::{Store, StoreIdentity};

/// Every target of this crate by name, for the corpus replay.
pub const TARGETS: &[(&str, protocol_fuzzing::Target)] = &[
    ("replica", replica),
    ("policy_sync", policy_sync),
    ("jsonl_import", jsonl_import),
    ("hotlist_csv", hotlist_csv),
    ("hotlist_import", hotlist_import),
];

/// The fixed fleet's node of `role`: its key and certificate.
fn fleet_node(role: Role) -> (NodeKey, VerifiedCertificate) {
    match role {
        Role::Station => (keys::station(), keys::station_certificate()),
        Role::Vehicle => (keys::car(), keys::car_certificate()),
    }
}

/// A new engine of the fixed fleet over an in-memory store; None if it
/// cannot be built (which no input can cause).
pub fn engine(role: Role) -> Option<Engine> {
    let (key, cert) = fleet_node(role);
    let mut rng = StdRng::seed_from_u64(1);
    let identity = StoreIdentity {
        agency: keys::agency().id(),
        node: key.id(),
    };
    let store = Store::in_memory(identity, &keys::data(), &mut rng).ok()?;
    let node = Node::from_parts(key, keys::data(), cert, store).ok()?;
    Engine::open(node, [5; 32]).ok()
}

fn role(mode: u8, bit: u8) -> Role {
    if mode & bit != 0 {
        Role::Station
    } else {
        Role::Vehicle
    }
}

/// Most messages the replica may send in answer to one input: a fresh
/// engine holds little, so a meeting that sends more is looping.
const TRANSMITS_MAX: usize = 10_000;

/// A peer's side of a meeting: length-prefixed sync frames, decoded as the
/// QUIC driver decodes them and handed to a fresh engine's [`Replica`],
/// which verifies and stores batches, keeps hotlists and merges policy.
/// Mode bit 0 makes this node a station (else the car), bit 1 the peer a
/// station (else the car).
pub fn replica(data: &[u8]) {
    let Some((&mode, frames)) = data.split_first() else {
        return;
    };
    let Some(mut engine) = engine(role(mode, 1)) else {
        return;
    };
    let (_, peer) = fleet_node(role(mode, 2));
    let mut now = Timestamp(keys::T0);
    let Ok(mut replica) = Replica::start(&mut engine, now, &peer, BatchLimits::default()) else {
        return;
    };
    let drain = |replica: &mut Replica, engine: &mut Engine, now| {
        for _ in 0..TRANSMITS_MAX {
            match replica.poll_transmit(engine, now) {
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
        panic!("a meeting with a fresh engine sent over {TRANSMITS_MAX} messages");
    };
    if !drain(&mut replica, &mut engine, now) {
        return;
    }
    for body in protocol_fuzzing::sync_frames(frames) {
        let Ok(message) = control::decode_frame::<SyncMessage>(body) else {
            return;
        };
        now = now.saturating_add_millis(1);
        if replica.receive(&mut engine, now, message).is_err()
            || !drain(&mut replica, &mut engine, now)
        {
            return;
        }
        let _ = replica.in_sync();
    }
}

/// An automerge sync message over the policy document from a peer of the
/// fixed fleet (mode bit 0: a station, else the car), to a fresh station
/// (mode bit 1: a car). Signatures cannot be fuzzed into validity, so the
/// peer signs every change the message brings, as a real peer does; the
/// engine still checks each change's author, role and records.
pub fn policy_sync(data: &[u8]) {
    let Some((&mode, message)) = data.split_first() else {
        return;
    };
    let (author, cert) = fleet_node(role(mode, 1));
    let Ok(decoded) = automerge::sync::Message::decode(message) else {
        return;
    };
    let mut scratch = automerge::Automerge::new();
    if scratch
        .receive_sync_message(&mut automerge::sync::State::new(), decoded)
        .is_err()
    {
        return;
    }
    let signatures: Vec<ChangeSignature> = scratch
        .get_changes(&[])
        .iter()
        .map(|c| ChangeSignature::sign(c.hash().0, &author))
        .collect();
    let Some(mut engine) = engine(role(mode, 2)) else {
        return;
    };
    let mut peer = PolicyPeer::default();
    if engine
        .policy_incoming(&mut peer, message, signatures, vec![cert.signed().clone()])
        .is_ok()
    {
        let _ = engine.policy_outgoing(&mut peer);
        let _ = engine.policy_settled(&peer);
    }
}

/// A file of this process for an importer to read, holding `data`.
fn input_file(target: &str, data: &[u8]) -> Option<PathBuf> {
    let path = std::env::temp_dir().join(format!(
        "alpr-fuzz-{}-{target}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, data).ok()?;
    Some(path)
}

/// A JSON-lines file of reads for `alpr-node import`.
pub fn jsonl_import(data: &[u8]) {
    let Some(path) = input_file("jsonl", data) else {
        return;
    };
    let _ = import::parse_file(&path, |_| Ok(()));
    let _ = std::fs::remove_file(&path);
}

/// A CSV extract for `hotlist publish` (mode bit 0: fields may span lines).
pub fn hotlist_csv(data: &[u8]) {
    let Some((&mode, text)) = data.split_first() else {
        return;
    };
    let Some(path) = input_file("csv", text) else {
        return;
    };
    let _ = hotlist::read_csv(&path, mode & 1 != 0);
    let _ = std::fs::remove_file(&path);
}

/// An extract for `hotlist import`: a source config's TOML, a NUL byte,
/// then the extract (no NUL: the default NCIC source and the whole input
/// as the extract). Mode bit 0 reads it as CSV (else NCIC fixed-width),
/// bit 1 skips bad lines.
pub fn hotlist_import(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (source, extract) = match rest.iter().position(|b| *b == 0) {
        Some(at) => {
            let Ok(text) = std::str::from_utf8(&rest[..at]) else {
                return;
            };
            match Source::parse(text) {
                Ok(source) => (source, &rest[at + 1..]),
                Err(_) => return,
            }
        }
        None => (Source::default(), rest),
    };
    let options = ImportOptions {
        format: if mode & 1 != 0 {
            Format::Csv
        } else {
            Format::Ncic
        },
        skip_bad: mode & 2 != 0,
    };
    let Some(path) = input_file("extract", extract) else {
        return;
    };
    if let Ok(imported) = hotlist::import(&path, &source, options, &mut |_| {}) {
        let _ = imported.report.bad_lines();
    }
    let _ = std::fs::remove_file(&path);
}

/// The Administrator every seed engine starts with.
const ADMIN_PW: &str = "staff services 2026";

/// A seed engine with its first Administrator.
fn seed_engine(role: Role) -> Option<Engine> {
    let mut e = engine(role)?;
    e.bootstrap_admin(
        Timestamp(keys::T0 - 1000),
        NewUser {
            name: "chief".into(),
            role: UserRole::Administrator,
            password: ADMIN_PW.into(),
            trained_on: Some(Timestamp(keys::T0 - 1000)),
            training_expires: None,
        },
    )
    .ok()?;
    Some(e)
}

/// What one side sent in a meeting, as the frames the other side read.
#[derive(Debug, Default)]
struct Sent {
    frames: Vec<u8>,
    messages: Vec<SyncMessage>,
}

impl Sent {
    fn push(&mut self, m: SyncMessage) {
        self.frames
            .extend(control::encode_frame(&m).unwrap_or_default());
        self.messages.push(m);
    }
}

/// A car with reads meets a station with a hotlist and a user in its
/// policy; what each sent the other.
fn meeting() -> Option<(Sent, Sent, Engine)> {
    let mut car = seed_engine(Role::Vehicle)?;
    let mut station = seed_engine(Role::Station)?;
    let now = Timestamp(keys::T0);
    let token = car.login(now, "chief", ADMIN_PW).ok()?;
    let reads: Vec<(Timestamp, alpr_protocol::Capture)> = ["7ABC123", "4XYZ987"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                Timestamp(keys::T0 - 10_000 + i as i64),
                protocol_fuzzing::capture(p),
            )
        })
        .collect();
    car.import(now, token, "seed", std::iter::once(reads), |_| true)
        .ok()?;
    let token = station.login(now, "chief", ADMIN_PW).ok()?;
    station
        .publish_hotlist(now, token, "stolen", protocol_fuzzing::hotlist_base())
        .ok()?;
    let (car_cert, station_cert) = (keys::car_certificate(), keys::station_certificate());
    let limits = BatchLimits::default();
    let mut rc = Replica::start(&mut car, now, &station_cert, limits).ok()?;
    let mut rs = Replica::start(&mut station, now, &car_cert, limits).ok()?;
    let (mut from_car, mut from_station) = (Sent::default(), Sent::default());
    for _ in 0..1000 {
        let mut moved = false;
        while let Some(m) = rc.poll_transmit(&mut car, now).ok()? {
            from_car.push(m.clone());
            rs.receive(&mut station, now, m).ok()?;
            moved = true;
        }
        while let Some(m) = rs.poll_transmit(&mut station, now).ok()? {
            from_station.push(m.clone());
            rc.receive(&mut car, now, m).ok()?;
            moved = true;
        }
        if !moved || (rc.in_sync() && rs.in_sync()) {
            break;
        }
    }
    Some((from_car, from_station, car))
}

/// Valid inputs for every target, this crate's and `alpr_protocol`'s, made
/// by the real encoders and a real meeting: `(target, input)`.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = protocol_fuzzing::seeds();
    let with_mode = |mode: u8, bytes: &[u8]| {
        let mut v = vec![mode];
        v.extend_from_slice(bytes);
        v
    };
    if let Some((from_car, from_station, car)) = meeting() {
        // To a station from the car (modes: me station, peer car), and back.
        out.push(("replica", with_mode(0b01, &from_car.frames)));
        out.push(("replica", with_mode(0b10, &from_station.frames)));
        out.push(("sync_message", with_mode(0b01, &from_car.frames)));
        out.push(("sync_message", with_mode(0b10, &from_station.frames)));
        let trust = &car.node().trust;
        for m in from_car.messages.iter().chain(&from_station.messages) {
            match m {
                SyncMessage::Batch(b) => {
                    for r in b.records.iter().take(2) {
                        out.push(("envelope", with_mode(0, &r.envelope)));
                        if let (Ok(opening), Ok(env)) = (
                            trust.opening(&r.envelope),
                            alpr_protocol::envelope::Envelope::parse(&r.envelope),
                        ) {
                            let selector = match env.header.kind {
                                alpr_protocol::RecordKind::Read => 0,
                                alpr_protocol::RecordKind::AuditEvent => 1,
                                _ => 2,
                            };
                            let mut v = vec![selector, env.header.version];
                            v.extend_from_slice(&opening[alpr_protocol::envelope::SALT_LEN..]);
                            out.push(("record_body", v));
                        }
                    }
                }
                SyncMessage::Hotlist { transfer, .. } => {
                    let body = postcard::to_allocvec(transfer).unwrap_or_default();
                    out.push(("hotlist", with_mode(1, &body)));
                }
                SyncMessage::Policy { message, .. } => {
                    let from_station = from_station.messages.contains(m);
                    // Mode: the author, and the receiver the other side.
                    let mode = if from_station { 0b01 } else { 0b10 };
                    out.push(("policy_sync", with_mode(mode, message)));
                }
                _ => {}
            }
        }
        if let Some(bundle) = car_bundle(&car) {
            out.push(("bundle", protocol_fuzzing::encode_bundle_files(&bundle)));
        }
    }
    let jsonl = concat!(
        r#"{"plate":"7ABC123","time":"2026-11-28T10:15:00Z","camera":"gate-2","confidence":0.93,"region":"CA","region_confidence":0.8,"lat":37.77,"lon":-122.42}"#,
        "\n",
        r#"{"plate":"4xyz-987","time":"2026-11-28T10:16:00.250+01:00","char_confidences":[0.9,0.8,0.9,0.9,0.7,0.9,0.9],"accuracy_m":4.5}"#,
        "\n\n",
    );
    out.push(("jsonl_import", jsonl.as_bytes().to_vec()));
    out.push((
        "hotlist_csv",
        with_mode(
            0,
            b"plate,category,region,reference\n7ABC123,stolen-vehicle,CA,V1\n4XYZ987,amber,,\n",
        ),
    ));
    out.push((
        "hotlist_csv",
        with_mode(1, b"Plate,Category\n\"7ABC\n123\",bolo\n"),
    ));
    let ncic = concat!(
        "NCIC HOTLIST EXTRACT 20261101 CA DOJ\n",
        "V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK\n",
        "P000000002CA019000020260101NV00001   NV2026PC2015TOYTCAM4DWHI\n",
    );
    out.push(("hotlist_import", with_mode(0, ncic.as_bytes())));
    let source = concat!(
        "[source]\nname = \"Vendor feed\"\nformat = \"csv\"\nstates = [\"CA\", \"NV\"]\n",
        "[codes.\"Stolen Vehicle\"]\ncategory = \"stolen-vehicle\"\npriority = \"high\"\n",
        "[codes.SCRAP]\nimport = false\n",
        "[csv]\ndelimiter = \";\"\nquote = \"'\"\nplate = \"Tag\"\nregion = \"State\"\n",
        "category = \"Reason\"\n",
    );
    let mut mapped = source.as_bytes().to_vec();
    mapped.push(0);
    mapped.extend_from_slice(
        b"Tag;State;Reason\n7ABC123;CA;Stolen Vehicle\n'4XY Z987';NV;SCRAP\nBAD!;CA;Stolen Vehicle\n",
    );
    out.push(("hotlist_import", with_mode(0b11, &mapped)));
    out
}

/// An evidence bundle of the car's reads, as `evidence export` writes it.
fn car_bundle(car: &Engine) -> Option<BTreeMap<String, Vec<u8>>> {
    let node = car.node();
    let me = node.node_key.id();
    let ids = [1, 2].map(|seq| crate::store::RecordId { origin: me, seq });
    let request = crate::evidence::BundleRequest {
        kind: alpr_protocol::bundle::BundleKind::Evidence,
        case: "26-0042".into(),
        exported_by: "chief".into(),
        purpose: "investigation".into(),
        release: None,
        now: Timestamp(keys::T0),
    };
    crate::evidence::build_bundle(node, &ids, &request)
        .ok()
        .map(|b| b.files)
}
