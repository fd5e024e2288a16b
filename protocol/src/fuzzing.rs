//! The bodies of the fuzz targets over this crate's decoders, and the seeds they start from.
//!
//! Each `pub fn <target>(data: &[u8])` feeds outside bytes to the decoder
//! the product uses on them and must never panic. The cargo-fuzz crate
//! (`fuzz/fuzz_targets/<target>.rs`) calls it under libFuzzer, and
//! `tests/fuzz_corpus.rs` replays every file of `fuzz/corpus/<target>/`
//! through it on stable, so a crash once found stays fixed. The bodies live
//! here rather than in a crate of their own because a few need this
//! crate's private parts (sealing an arbitrary body: `Sealer::seal_as`)
//! and a crate under `fuzz/` would have to join the workspace.
//!
//! Keys are fixed (`keys`), so seeds made with them verify and the fuzzer
//! reaches past signatures and seals into the bodies behind them. No I/O,
//! as everywhere in this crate.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::alert::{self, AlertItem, DispositionBody, RecordRef};
use crate::bundle;
use crate::control::{self, ControlRequest, ControlResponse};
use crate::enrollment::{
    Certificate, EnrollmentBundle, Role, SignedCertificate, VerifiedCertificate,
};
use crate::envelope::{self, Envelope, RecordKind, Sealer, Trust};
use crate::hotlist::{
    self, Category, Detail, Entry, HotlistVersion, Priority, SignedHotlistVersion, Vehicle,
};
use crate::identity::{AgencyKey, DataKey, KeyId, NodeId, NodeKey};
use crate::keyfile::{KdfParams, SecretKind, WrappedSecret};
use crate::plate::PlateText;
use crate::policy::LocalEntry;
use crate::record::{Action, AuditBody, AuditFloor, Capture, ImageBody, Outcome, ReadBody, Region};
use crate::replicate::{
    BatchLimits, Collection, Fetched, Holdings, HotlistBody, HotlistHead, HotlistTransfer, Mark,
    Output, RecordSource, SYNC_FRAME_BYTES_MAX, SyncMessage, SyncSession, VersionVector, Want,
    WireRecord,
};
use crate::time::Timestamp;

/// The fixed fleet every target and seed shares: one agency, a car, a
/// station and the agency data key, each from a constant secret.
pub mod keys {
    use super::*;

    /// 2026-11-01T00:00:00Z: when seeds are made and targets run.
    pub const T0: i64 = 1_793_491_200_000;
    const DAY: i64 = 86_400_000;
    /// The passphrase of the seeds' key files.
    pub const PASSPHRASE: &[u8] = b"fuzz passphrase";

    pub fn agency() -> AgencyKey {
        AgencyKey::from_secret(&[0x01; 32])
    }
    pub fn car() -> NodeKey {
        NodeKey::from_secret(&[0x11; 32])
    }
    pub fn station() -> NodeKey {
        NodeKey::from_secret(&[0x22; 32])
    }
    pub fn data() -> DataKey {
        DataKey::from_bytes([0x33; 32])
    }

    /// The agency's certificate for `key`, valid 400 days either side of [`T0`].
    pub fn certificate(key: &NodeKey, name: &str, role: Role) -> VerifiedCertificate {
        let agency = agency();
        let signed = Certificate {
            agency: agency.id(),
            node: key.id(),
            name: name.into(),
            role,
            not_before: Timestamp(T0 - 400 * DAY),
            not_after: Timestamp(T0 + 400 * DAY),
        }
        .sign(&agency);
        // Invariant: a certificate with a short name signed by its own
        // agency always signs and verifies.
        match signed.and_then(|s| s.verify(agency.id())) {
            Ok(v) => v,
            Err(e) => unreachable!("the fixed certificate of {name}: {e}"),
        }
    }

    pub fn car_certificate() -> VerifiedCertificate {
        certificate(&car(), "car-1", Role::Vehicle)
    }
    pub fn station_certificate() -> VerifiedCertificate {
        certificate(&station(), "station-1", Role::Station)
    }

    /// What a node of this fleet trusts: the agency, both nodes, the data key.
    pub fn trust() -> &'static Trust {
        static TRUST: OnceLock<Trust> = OnceLock::new();
        TRUST.get_or_init(|| {
            let mut trust = Trust::new(agency().id());
            trust.add_data_key(data());
            for cert in [car_certificate(), station_certificate()] {
                // Invariant: both certificates are the agency's own.
                let _ = trust.add_certificate(cert);
            }
            trust
        })
    }
}

use keys::T0;

/// A fuzz target body: any bytes in, no panic.
pub type Target = fn(&[u8]);

/// Every target of this crate by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("envelope", envelope),
    ("sync_message", sync_message),
    ("control_frame", control_frame),
    ("hotlist", hotlist),
    ("enrollment", enrollment),
    ("keyfile", keyfile),
    ("bundle", bundle),
    ("record_body", record_body),
];

/// Splits the first byte off: it picks a mode, the rest is the input.
fn mode(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(m, rest)| (*m, rest))
}

/// A record envelope as a peer or a bundle hands it over.
///
/// Mode bit 0 clear: `rest` is an envelope, opened with the fixed trust by
/// the opener its kind calls for. Set: `rest` is `[version, kind, body…]`,
/// sealed here with the fixed keys (`Sealer::seal_as`) and then opened the
/// same way, so the body decoders behind signature and seal are fuzzed
/// through the path that reaches them in the product. Bit 1 also asks for
/// the bare opening (what an evidence bundle discloses).
pub fn envelope(data: &[u8]) {
    let Some((mode, rest)) = mode(data) else {
        return;
    };
    let trust = keys::trust();
    let sealed;
    let bytes = if mode & 1 == 0 {
        rest
    } else {
        let [version, kind, body @ ..] = rest else {
            return;
        };
        let Some(kind) = RecordKind::from_byte(*kind) else {
            return;
        };
        let (node, data) = (keys::car(), keys::data());
        let sealer = Sealer {
            node_key: &node,
            data_key: &data,
        };
        sealed = sealer.seal_as(
            *version,
            kind,
            1,
            Timestamp(T0),
            body,
            &mut StdRng::seed_from_u64(0),
        );
        &sealed[..]
    };
    let Ok(env) = Envelope::parse(bytes) else {
        return;
    };
    let _ = env.signature_valid();
    match env.header.kind {
        RecordKind::Read => {
            if let Ok(read) = trust.open_read(bytes) {
                let _ = bundle::read_document(read.read());
            }
        }
        RecordKind::AuditEvent => {
            if let Ok(event) = trust.open_audit(bytes) {
                let _ = bundle::audit_document(event.event());
            }
        }
        RecordKind::PlateImage | RecordKind::OverviewImage => {
            let _ = trust.open_image(bytes);
        }
        RecordKind::Alert | RecordKind::Disposition => {
            if let Ok(record) = trust.open_alert(bytes) {
                let _ = bundle::alert_document(record.record());
            }
        }
    }
    if mode & 2 != 0
        && let Ok(opening) = trust.opening(bytes)
    {
        let _ = envelope::check_opening(&env.header, &opening);
    }
}

/// Records a [`SyncSession`] sends: a few of the car's, in every collection.
#[derive(Debug)]
struct Held;

/// The highest seq [`Held`] holds of each collection.
const HELD_THROUGH: u64 = 3;

impl RecordSource for Held {
    fn fetch(
        &self,
        _collection: Collection,
        want: Want,
        limits: BatchLimits,
    ) -> Result<Fetched, String> {
        let upto = want.upto.min(HELD_THROUGH);
        let records: Vec<WireRecord> = (want.after.saturating_add(1)..=upto)
            .take(limits.records_max)
            .map(|seq| WireRecord {
                seq,
                envelope: vec![seq as u8; 8],
                images: Vec::new(),
            })
            .collect();
        Ok(Fetched {
            complete: records.last().is_none_or(|r| r.seq == upto),
            records,
        })
    }

    fn certificate(&self, origin: &NodeId) -> Option<SignedCertificate> {
        keys::trust()
            .certificate(origin)
            .map(|c| c.signed().clone())
    }
}

/// What this side holds when a fuzzed session starts.
fn holdings() -> Holdings {
    let car = keys::car().id();
    let mark = Mark {
        contiguous: HELD_THROUGH,
        floor: 0,
    };
    let vector = VersionVector([(car, mark)].into());
    Holdings {
        vectors: [
            Collection::Reads,
            Collection::AuditEvents,
            Collection::Alerts,
        ]
        .into_iter()
        .map(|c| (c, vector.clone()))
        .collect(),
        lists: [(
            "stolen".to_string(),
            HotlistHead {
                version: 1,
                content: [7; 32],
            },
        )]
        .into(),
        policy_heads: vec![[9; 32]],
    }
}

/// Sync frames from a peer: each cut as the QUIC driver cuts them (a
/// big-endian u32 length, then the body), refused past
/// [`SYNC_FRAME_BYTES_MAX`].
pub fn sync_frames(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (prefix, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > SYNC_FRAME_BYTES_MAX {
            return None;
        }
        let (body, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        Some(body)
    })
}

/// A meeting's messages from a peer, decoded as the QUIC driver decodes
/// them and fed to a [`SyncSession`], whose outputs are carried out as a
/// driver would (a batch stored, a hotlist kept).
///
/// The mode's bit 0 makes this side a station (else a car), bit 1 the
/// peer a station (else the car).
pub fn sync_message(data: &[u8]) {
    let Some((mode, frames)) = mode(data) else {
        return;
    };
    let role = |bit: u8| {
        if mode & bit != 0 {
            Role::Station
        } else {
            Role::Vehicle
        }
    };
    let (me, peer) = (role(1), role(2));
    let peer_id = match peer {
        Role::Station => keys::station().id(),
        Role::Vehicle => keys::car().id(),
    };
    let mut now = Timestamp(T0);
    let (mut session, _hello) =
        SyncSession::start(now, me, (peer_id, peer), holdings(), BatchLimits::default());
    for body in sync_frames(frames) {
        let Ok(message) = control::decode_frame::<SyncMessage>(body) else {
            return;
        };
        // What decodes re-encodes to a frame that decodes to the same message.
        let again = control::encode_frame(&message)
            .map_err(|e| e.to_string())
            .and_then(|f| control::decode_frame::<SyncMessage>(&f[4..]).map_err(|e| e.to_string()));
        assert_eq!(again.as_ref(), Ok(&message), "sync message round trip");
        now = now.saturating_add_millis(1);
        let Ok(outputs) = session.receive(now, message, &Held) else {
            return;
        };
        let mut todo = outputs;
        while let Some(out) = todo.pop() {
            match out {
                Output::Store(batch) => {
                    let mut vector = VersionVector::default();
                    vector.0.insert(
                        batch.origin,
                        Mark {
                            contiguous: batch.through,
                            floor: 0,
                        },
                    );
                    match session.stored(batch.collection, vector, &Held) {
                        Ok(more) => todo.extend(more),
                        Err(_) => return,
                    }
                }
                Output::StoreHotlist { list, transfer } => {
                    if let Ok(v) = transfer.version.decode() {
                        let head = HotlistHead {
                            version: v.version,
                            content: v.content,
                        };
                        todo.extend(session.hotlist_stored(list, head));
                    }
                }
                _ => {}
            }
        }
        let _ = (session.idle(), session.in_sync(), session.next_timer());
        if session.tick(now).is_err() {
            return;
        }
    }
}

/// A control-socket frame: its length prefix, then the body as a request
/// (which the daemon bounds and names before the engine sees it) and as a
/// response (which a client reads).
pub fn control_frame(data: &[u8]) {
    if let Some(prefix) = data.first_chunk::<4>() {
        let _ = control::frame_len(*prefix);
    }
    let body = data.get(4..).unwrap_or_default();
    if let Ok(request) = control::decode_frame::<ControlRequest>(body) {
        let _ = request.check_sizes();
        let _ = (request.token(), request.action(), request.name());
    }
    let _ = control::decode_frame::<ControlResponse>(body);
}

/// The canonical entries a fuzzed delta applies to.
pub fn hotlist_base() -> Vec<Entry> {
    let entry = |plate: &str, category| Entry {
        plate: PlateText::parse(plate).unwrap_or_else(|_| unreachable!("a fixed plate")),
        region: Some("CA".into()),
        category,
        reference: format!("V{plate}"),
        detail: Detail {
            priority: Priority::High,
            vehicle: Vehicle {
                year: Some(2015),
                make: "Toyota".into(),
                model: "Camry".into(),
                color: "black".into(),
            },
            entered: Some(Timestamp(T0 - 1000)),
            expires: None,
            covert: false,
            notes: "armed".into(),
            source: "NCIC V".into(),
        },
    };
    hotlist::canonical(vec![
        entry("7ABC123", Category::StolenVehicle),
        entry("4XYZ987", Category::StolenPlate),
        entry("8QRS555", Category::Amber),
    ])
}

/// A hotlist as it arrives from a peer. Mode bit 0 clear: `rest` is a
/// signed version (checked as a station's of the fixed agency). Set: a
/// whole transfer as a `SyncMessage::Hotlist` carries it; its certificate
/// and signature are checked, a delta is applied to [`hotlist_base`] and a
/// chunk's entries checked, and the entries against the signed content.
pub fn hotlist(data: &[u8]) {
    let Some((mode, rest)) = mode(data) else {
        return;
    };
    let agency = keys::agency().id();
    if mode & 1 == 0 {
        let station = keys::station_certificate();
        let _ = SignedHotlistVersion(rest.to_vec()).verify(agency, Some(&station));
        return;
    }
    let Ok(transfer) = control::decode_frame::<HotlistTransfer>(rest) else {
        return;
    };
    let Ok(cert) = transfer.certificate.verify(agency) else {
        return;
    };
    let Ok(version) = transfer.version.verify(agency, Some(&cert)) else {
        return;
    };
    let entries = match transfer.body {
        HotlistBody::Delta { from: _, delta } => match delta.apply(&hotlist_base()) {
            Ok(entries) => entries,
            Err(_) => return,
        },
        HotlistBody::Chunk { entries, .. } => {
            if entries.iter().any(|e| hotlist::check_entry(e).is_err()) {
                return;
            }
            entries
        }
    };
    let _ = hotlist::check_content(&version, &entries);
}

/// An enrollment bundle (as `init` reads it from portable media) and a
/// signed certificate (as a TLS handshake or a batch carries it).
pub fn enrollment(data: &[u8]) {
    if let Ok((bundle, cert)) = EnrollmentBundle::parse(data) {
        let _ = bundle.check_data_key(&keys::data());
        let _ = cert.check_valid_at(Timestamp(T0));
    }
    if let Ok(cert) = SignedCertificate::from_bytes(data.to_vec()).verify(keys::agency().id()) {
        let _ = cert.check_valid_at(Timestamp(T0));
    }
}

/// A key file. It is unwrapped (with the seeds' passphrase) only when its
/// KDF parameters are as cheap as [`KdfParams::INSECURE_FAST`]: a real
/// cost would make each run take a quarter second.
pub fn keyfile(data: &[u8]) {
    let Ok(secret) = WrappedSecret::parse(data) else {
        return;
    };
    let (kind, params) = (secret.kind(), secret.params());
    let fast = KdfParams::INSECURE_FAST;
    if params.m_cost_kib <= fast.m_cost_kib
        && params.t_cost <= fast.t_cost
        && params.p_cost <= fast.p_cost
    {
        let _ = secret.unwrap_secret(kind, keys::PASSPHRASE);
    }
}

/// The files of an evidence or release bundle, as postcard `(path, bytes)`
/// pairs; input that is not such a list is the manifest of a bundle with
/// no other file. Verified against the fixed agency, as `alpr-node verify
/// --agency` does.
pub fn bundle_files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    match postcard::from_bytes::<Vec<(String, Vec<u8>)>>(data) {
        Ok(files) => files.into_iter().collect(),
        Err(_) => [(bundle::MANIFEST_FILE.to_string(), data.to_vec())].into(),
    }
}

/// The seed encoding of a bundle's files (see [`bundle_files`]).
pub fn encode_bundle_files(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let pairs: Vec<(&String, &Vec<u8>)> = files.iter().collect();
    // Invariant: postcard encoding of strings and bytes into a Vec cannot fail.
    postcard::to_allocvec(&pairs).unwrap_or_default()
}

pub fn bundle(data: &[u8]) {
    let files = bundle_files(data);
    let report = bundle::verify(&files, Some(keys::agency().id()));
    let _ = (report.ok(), report.problems.len());
}

/// A sealed body once opened, decoded by the decoder its kind and version
/// call for: `[selector, version, body…]`.
pub fn record_body(data: &[u8]) {
    let [selector, version, body @ ..] = data else {
        return;
    };
    // The decoders of an opening take it whole, salt first.
    let mut opening = vec![0u8; envelope::SALT_LEN];
    opening.extend_from_slice(body);
    match selector % 6 {
        0 => {
            let _ = ReadBody::decode(*version, body);
        }
        1 => {
            let _ = AuditBody::decode(*version, body);
        }
        2 => {
            let _ = envelope::decode_body::<alert::AlertBody>(&opening);
        }
        3 => {
            if let Ok(d) = envelope::decode_body::<DispositionBody>(&opening) {
                let _ = d.check();
            }
        }
        4 => {
            let _ = envelope::decode_body::<ImageBody>(&opening);
        }
        _ => {
            let _ = LocalEntry::decode(body);
        }
    }
}

/// A capture as the seeds' reads carry it.
pub fn capture(plate: &str) -> Capture {
    Capture {
        plate: PlateText::parse(plate).unwrap_or_else(|_| unreachable!("a fixed plate")),
        region: Some(Region {
            code: "CA".into(),
            confidence: 0.9,
        }),
        confidence: 0.97,
        char_confidences: vec![0.95; plate.len()],
        camera: "front".into(),
        location: None,
        fix: Default::default(),
        crop_jpeg: vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9],
        overview_jpeg: Some(vec![0xFF, 0xD8, 0xFF, 0xE1, 9, 0xFF, 0xD9]),
        candidates: Vec::new(),
    }
}

/// Valid inputs for this crate's targets, made by the real encoders:
/// `(target, input)`.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut rng = StdRng::seed_from_u64(7);
    let (car, station, data) = (keys::car(), keys::station(), keys::data());
    let sealer = Sealer {
        node_key: &car,
        data_key: &data,
    };
    let frame = |m: &SyncMessage| control::encode_frame(m).unwrap_or_default();
    let with_mode = |mode: u8, bytes: &[u8]| {
        let mut v = vec![mode];
        v.extend_from_slice(bytes);
        v
    };

    // Envelopes: a read with both images, audit events of both layouts, an alert's disposition.
    let sealed = sealer.seal_read(1, Timestamp(T0), capture("7ABC123"), &mut rng);
    out.push(("envelope", with_mode(2, sealed.read.envelope())));
    for image in &sealed.images {
        out.push(("envelope", with_mode(0, image.envelope())));
    }
    let audit = AuditBody {
        user: "chief".into(),
        action: Action::Search,
        object: "plate 7ABC123".into(),
        purpose: Some("investigation".into()),
        case: Some("26-0042".into()),
        outcome: Outcome::Success,
        prev_hash: [0; 32],
        floors: vec![AuditFloor {
            origin: car.id(),
            seq: 4,
            hash: [5; 32],
        }],
    };
    for version in [1, 2] {
        let event = sealer.seal_audit_as(version, 1, Timestamp(T0), audit.clone(), &mut rng);
        out.push(("envelope", with_mode(0, event.envelope())));
    }
    let disposition = DispositionBody {
        alert: RecordRef {
            origin: car.id(),
            seq: 1,
        },
        outcome: alert::Outcome::Dismissed,
        reason: "wrong state".into(),
        by: "jsmith".into(),
    };
    let disposed = sealer.seal_alert(
        2,
        Timestamp(T0),
        AlertItem::Disposed(disposition.clone()),
        &mut rng,
    );
    out.push(("envelope", with_mode(0, disposed.envelope())));
    // The same bodies, to be sealed by the target.
    let read_body = capture("7ABC123").split().0;
    let body = |version: u8, kind: RecordKind, plain: Vec<u8>| {
        let mut v = vec![1, version, kind as u8];
        v.extend(plain);
        v
    };
    out.push((
        "envelope",
        body(
            crate::record::READ_BODY_VERSION,
            RecordKind::Read,
            postcard_frame_body(&read_body),
        ),
    ));
    out.push(("envelope", body(2, RecordKind::AuditEvent, audit.encode(2))));
    out.push(("envelope", body(1, RecordKind::AuditEvent, audit.encode(1))));
    out.push((
        "envelope",
        body(
            1,
            RecordKind::Disposition,
            postcard_frame_body(&disposition),
        ),
    ));

    // Record bodies, each with its selector and version.
    let selected = |selector: u8, version: u8, plain: Vec<u8>| {
        let mut v = vec![selector, version];
        v.extend(plain);
        v
    };
    out.push((
        "record_body",
        selected(
            0,
            crate::record::READ_BODY_VERSION,
            postcard_frame_body(&read_body),
        ),
    ));
    out.push(("record_body", selected(1, 2, audit.encode(2))));
    out.push(("record_body", selected(1, 1, audit.encode(1))));
    out.push((
        "record_body",
        selected(3, 1, postcard_frame_body(&disposition)),
    ));
    out.push((
        "record_body",
        selected(
            4,
            1,
            postcard_frame_body(&ImageBody {
                jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
            }),
        ),
    ));
    let local = LocalEntry {
        id: 3,
        entry: hotlist_base()[0].clone(),
        added_by: "sgt".into(),
        added_at: Timestamp(T0),
        removed: None,
        pattern: Some("7AB*".into()),
        edited: None,
    };
    out.push(("record_body", selected(5, 0, postcard_frame_body(&local))));

    // Sync messages: a car's Hello and a batch, a station's Hello and hotlist.
    let hello = |role| SyncMessage::Hello {
        role,
        vectors: holdings().vectors,
        hotlists: BTreeMap::new(),
        policy: [0; 16],
    };
    let batch = SyncMessage::Batch(crate::replicate::Batch {
        collection: Collection::Reads,
        origin: car.id(),
        after: 0,
        through: 1,
        certificates: vec![keys::car_certificate().signed().clone()],
        records: vec![WireRecord {
            seq: 1,
            envelope: sealed.read.envelope().to_vec(),
            images: sealed
                .images
                .iter()
                .map(|i| crate::replicate::WireImage(i.envelope().to_vec()))
                .collect(),
        }],
    });
    let signed = signed_version(&station, &hotlist_base(), 2);
    let transfer = HotlistTransfer {
        version: signed.clone(),
        certificate: keys::station_certificate().signed().clone(),
        body: HotlistBody::Chunk {
            index: 0,
            last: true,
            entries: hotlist_base(),
        },
    };
    let mut car_frames = frame(&hello(Role::Vehicle));
    car_frames.extend(frame(&batch));
    car_frames.extend(frame(&SyncMessage::Ack {
        collection: Collection::AuditEvents,
        vector: VersionVector::default(),
    }));
    out.push(("sync_message", with_mode(1, &car_frames)));
    let mut station_frames = frame(&hello(Role::Station));
    station_frames.extend(frame(&SyncMessage::Hotlist {
        list: "stolen".into(),
        transfer: transfer.clone(),
    }));
    station_frames.extend(frame(&SyncMessage::HotlistAck {
        list: "stolen".into(),
        head: HotlistHead {
            version: 1,
            content: [7; 32],
        },
    }));
    station_frames.extend(frame(&SyncMessage::Policy {
        message: vec![0x42, 0, 0, 0, 0],
        signatures: Vec::new(),
        certificates: Vec::new(),
    }));
    out.push(("sync_message", with_mode(2, &station_frames)));

    // Hotlists: a signed version, a whole transfer, a delta from the base.
    out.push(("hotlist", with_mode(0, &signed.0)));
    out.push(("hotlist", with_mode(1, &postcard_frame_body(&transfer))));
    let mut newer = hotlist_base();
    newer.remove(1);
    newer[0].detail.covert = true;
    let newer = hotlist::canonical(newer);
    let delta = HotlistTransfer {
        version: signed_version(&station, &newer, 3),
        certificate: keys::station_certificate().signed().clone(),
        body: HotlistBody::Delta {
            from: hotlist::content_hash(&hotlist_base()),
            delta: hotlist::Delta::between(&hotlist_base(), &newer),
        },
    };
    out.push(("hotlist", with_mode(1, &postcard_frame_body(&delta))));

    // Control frames, both ways.
    let requests = [
        ControlRequest::Login {
            version: control::CONTROL_VERSION,
            user: "chief".into(),
            password: "staff services 2026".into(),
        },
        ControlRequest::Search {
            token: [1; 32],
            purpose: control::PurposeWire {
                kind: Some(control::PurposeKindWire::Alert),
                reason: Some("hit".into()),
                case: Some("26-0042".into()),
            },
            query: control::QueryWire::Pattern("7AB*".into()),
            from: None,
            to: Some(Timestamp(T0)),
            limit: 50,
            camera: None,
            node: None,
        },
        ControlRequest::Logout { token: [2; 32] },
    ];
    for r in &requests {
        out.push((
            "control_frame",
            control::encode_frame(r).unwrap_or_default(),
        ));
    }
    let responses = [
        ControlResponse::Done,
        ControlResponse::Image {
            jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        },
        ControlResponse::Found {
            hits: Vec::new(),
            total: 0,
        },
    ];
    for r in &responses {
        out.push((
            "control_frame",
            control::encode_frame(r).unwrap_or_default(),
        ));
    }

    // Enrollment: a bundle for the car, and its certificate alone.
    let cert = keys::car_certificate();
    let wrap = |kind, secret: &[u8; 32], rng: &mut StdRng| {
        WrappedSecret::wrap(
            kind,
            secret,
            keys::PASSPHRASE,
            KdfParams::INSECURE_FAST,
            rng,
        )
        .unwrap_or_else(|e| unreachable!("wrapping with fixed parameters: {e}"))
    };
    let node_key = wrap(SecretKind::NodeKey, &car.secret_bytes(), &mut rng);
    let data_key = wrap(SecretKind::DataKey, data.as_bytes(), &mut rng);
    let data_key_id: KeyId = data.id();
    let bundle = EnrollmentBundle {
        agency: keys::agency().id(),
        binding: keys::agency().sign(&crate::enrollment::binding_message(
            cert.signed(),
            data_key_id,
        )),
        certificate: cert.signed().clone(),
        node_key: node_key.clone(),
        data_key: data_key.clone(),
        data_key_id,
    };
    out.push(("enrollment", bundle.to_bytes()));
    out.push(("enrollment", cert.signed().as_bytes().to_vec()));

    // Key files of each kind.
    out.push(("keyfile", node_key.as_bytes().to_vec()));
    out.push(("keyfile", data_key.as_bytes().to_vec()));
    let agency_key = wrap(
        SecretKind::AgencyKey,
        &keys::agency().secret_bytes(),
        &mut rng,
    );
    out.push(("keyfile", agency_key.as_bytes().to_vec()));

    // A manifest alone (the engine adds whole bundles it builds).
    out.push((
        "bundle",
        br#"{"format":1,"kind":"evidence","case":"26-0042","files":[]}"#.to_vec(),
    ));
    out
}

/// A station's signed version of `entries` as version `version` of "stolen".
pub fn signed_version(station: &NodeKey, entries: &[Entry], version: u64) -> SignedHotlistVersion {
    HotlistVersion {
        list: "stolen".into(),
        version,
        entries: entries.len() as u64,
        content: hotlist::content_hash(entries),
        published_at: Timestamp(T0),
        author: station.id(),
    }
    .sign(station)
    .unwrap_or_else(|e| unreachable!("signing a fixed version: {e}"))
}

/// The postcard body of a frame (no length prefix), as `decode_frame` takes it.
fn postcard_frame_body<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Invariant: postcard encoding of plain data into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Runs `target` over each named input, catching panics; returns one line
/// per input that panicked, naming it. The corpus replay tests of both
/// crates report through it, so a failure names the file that broke.
pub fn replay<'a>(
    target: Target,
    inputs: impl IntoIterator<Item = (String, &'a [u8])>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (name, bytes) in inputs {
        if std::panic::catch_unwind(|| target(bytes)).is_err() {
            failed.push(name);
        }
    }
    failed
}
