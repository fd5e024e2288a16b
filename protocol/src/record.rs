//! Records: plate reads and audit events, as the node creates and the fleet replicates them.

use serde::{Deserialize, Serialize};

use crate::identity::NodeId;
use crate::plate::PlateText;
use crate::time::Timestamp;

/// A region (state, province, country) guessed from the plate, with its confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub code: String,
    pub confidence: f32,
}

/// Where the camera was, when a GPS fix is present.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f32,
}

/// How a read's position was known at its capture time. A read says so
/// even when there was no position: an auditor can tell "no GPS fitted"
/// from "GPS fitted, no fix".
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Fix {
    /// Not recorded: a replay or import without positions, or a read
    /// written before fixes were recorded (read format 1).
    #[default]
    Unknown,
    /// A GPS receiver is configured and had no usable fix at the capture time.
    NoFix,
    /// A fixed camera's surveyed place, from the node's configuration.
    Surveyed,
    /// A fix from a GPS receiver.
    Gps(GpsFix),
}

/// What a GPS receiver said with its position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    pub quality: FixQuality,
    /// Satellites used, when the receiver says.
    pub satellites: Option<u8>,
    /// Speed over ground, metres per second.
    pub speed_mps: Option<f32>,
    /// Course over ground, degrees clockwise from true north, 0 to 360.
    pub heading_deg: Option<f32>,
    /// How old the fix was at the capture time, in milliseconds.
    pub age_ms: u32,
}

/// The kind of a GPS fix, as NMEA and gpsd name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FixQuality {
    /// Latitude and longitude only.
    TwoD,
    /// With altitude.
    ThreeD,
    /// Differentially corrected (DGPS, SBAS).
    Differential,
    /// RTK, fixed or float.
    Rtk,
    /// Estimated (dead reckoning).
    Estimated,
}

impl FixQuality {
    /// The quality in words, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            FixQuality::TwoD => "2d",
            FixQuality::ThreeD => "3d",
            FixQuality::Differential => "dgps",
            FixQuality::Rtk => "rtk",
            FixQuality::Estimated => "estimated",
        }
    }
}

impl Fix {
    /// The fix in words: `unknown`, `no fix`, `surveyed`, or the GPS quality.
    pub fn name(&self) -> &'static str {
        match self {
            Fix::Unknown => "unknown",
            Fix::NoFix => "no fix",
            Fix::Surveyed => "surveyed",
            Fix::Gps(g) => g.quality.name(),
        }
    }
}

/// One plate read: a passing vehicle, best frame kept.
///
/// `origin`, `seq` and `captured_at` travel in the envelope's clear header;
/// everything else is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub origin: NodeId,
    pub seq: u64,
    pub captured_at: Timestamp,
    pub body: ReadBody,
}

/// A read as recognition (or an import) hands it over, images included, before sealing.
///
/// Sealing splits it: the read record ([`ReadBody`]) commits to each image
/// by SHA-256, and each image is a record of its own, so images can be kept
/// for a shorter time than the read (policy IV.B) and the read still verifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    pub plate: PlateText,
    pub region: Option<Region>,
    pub confidence: f32,
    pub char_confidences: Vec<f32>,
    pub camera: String,
    pub location: Option<Location>,
    /// How `location` was known (or that it was not).
    pub fix: Fix,
    /// The plate crop (JPEG); empty when there is none.
    #[serde(with = "serde_bytes")]
    pub crop_jpeg: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub overview_jpeg: Option<Vec<u8>>,
    /// The recognizer's other readings of the plate, best first (at most
    /// [`CANDIDATES_MAX`]): hotlist matching tries them too. They are not
    /// part of the signed read.
    pub candidates: Vec<String>,
}

/// Most candidate texts a capture carries to matching.
pub const CANDIDATES_MAX: usize = 8;

/// Which image of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ImageKind {
    PlateCrop,
    Overview,
}

impl ImageKind {
    /// The image in words, as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            ImageKind::PlateCrop => "plate crop",
            ImageKind::Overview => "overview",
        }
    }
}

impl std::fmt::Display for ImageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A read's commitment to one of its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub sha256: [u8; 32],
    pub bytes: u32,
}

impl ImageRef {
    pub fn of(jpeg: &[u8]) -> ImageRef {
        use sha2::Digest;
        ImageRef {
            sha256: sha2::Sha256::digest(jpeg).into(),
            bytes: jpeg.len().min(u32::MAX as usize) as u32,
        }
    }

    pub fn matches(&self, jpeg: &[u8]) -> bool {
        *self == ImageRef::of(jpeg)
    }
}

/// The sealed part of a read (postcard-encoded; field order is the format, see FORMAT.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadBody {
    pub plate: PlateText,
    pub region: Option<Region>,
    /// Confidence of the whole plate text, 0 to 1.
    pub confidence: f32,
    /// Confidence of each character of `plate`, in order.
    pub char_confidences: Vec<f32>,
    pub camera: String,
    pub location: Option<Location>,
    /// The plate crop this read was made from, stored as a plate-image record.
    pub crop: Option<ImageRef>,
    /// The overview frame, stored as an overview-image record.
    pub overview: Option<ImageRef>,
    /// How `location` was known (format 2; a format-1 read decodes as
    /// [`Fix::Unknown`]).
    pub fix: Fix,
}

/// The read body layout nodes write: 2 appends [`ReadBody::fix`].
pub const READ_BODY_VERSION: u8 = 2;

/// Format 1 of the read body, before fixes: still read.
#[derive(Deserialize)]
struct ReadBodyV1 {
    plate: PlateText,
    region: Option<Region>,
    confidence: f32,
    char_confidences: Vec<f32>,
    camera: String,
    location: Option<Location>,
    crop: Option<ImageRef>,
    overview: Option<ImageRef>,
}

impl ReadBody {
    /// Decodes a body of the layout `version` names (1 or 2); total, never panics.
    pub fn decode(version: u8, bytes: &[u8]) -> Result<ReadBody, String> {
        match version {
            1 => {
                let b: ReadBodyV1 = whole(bytes)?;
                Ok(ReadBody {
                    plate: b.plate,
                    region: b.region,
                    confidence: b.confidence,
                    char_confidences: b.char_confidences,
                    camera: b.camera,
                    location: b.location,
                    crop: b.crop,
                    overview: b.overview,
                    fix: Fix::Unknown,
                })
            }
            READ_BODY_VERSION => whole(bytes),
            v => Err(format!("read body format {v} is not supported")),
        }
    }
}

/// One postcard value that is the whole of `bytes`.
fn whole<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (v, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} trailing bytes", rest.len()));
    }
    Ok(v)
}

/// The sealed part of an image record: the JPEG itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBody {
    // serde_bytes writes the same postcard bytes as a sequence of u8, in one copy.
    #[serde(with = "serde_bytes")]
    pub jpeg: Vec<u8>,
}

/// Largest plate crop a read may carry.
pub const CROP_BYTES_MAX: usize = 512 * 1024;
/// Largest overview frame a read may carry.
pub const OVERVIEW_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Longest camera name.
pub const CAMERA_LEN_MAX: usize = 64;

impl Capture {
    /// Checks what sealing cannot: sizes within the limits every reader
    /// enforces, confidences within 0..1, one character confidence per
    /// plate character. A capture that fails would be stored unreadable.
    pub fn check(&self) -> Result<(), String> {
        let unit = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} {v} is outside 0..1"))
            }
        };
        unit("confidence", self.confidence)?;
        if self.candidates.len() > CANDIDATES_MAX
            || self.candidates.iter().any(|c| {
                c.is_empty()
                    || c.len() > 10
                    || !c
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            })
        {
            return Err(format!(
                "candidates must be at most {CANDIDATES_MAX} plate texts of 1 to 10 letters and digits"
            ));
        }
        for c in &self.char_confidences {
            unit("character confidence", *c)?;
        }
        if self.char_confidences.len() != self.plate.as_str().len() {
            return Err(format!(
                "{} character confidences for the {}-character plate {}",
                self.char_confidences.len(),
                self.plate.as_str().len(),
                self.plate
            ));
        }
        if let Some(r) = &self.region {
            unit("region confidence", r.confidence)?;
            if r.code.is_empty() || r.code.len() > 8 {
                return Err(format!(
                    "region code '{}' must be 1 to 8 characters",
                    r.code
                ));
            }
        }
        if self.camera.is_empty() || self.camera.chars().count() > CAMERA_LEN_MAX {
            return Err(format!(
                "camera name must be 1 to {CAMERA_LEN_MAX} characters"
            ));
        }
        if let Some(l) = &self.location
            && !((-90.0..=90.0).contains(&l.lat)
                && (-180.0..=180.0).contains(&l.lon)
                && l.accuracy_m >= 0.0)
        {
            return Err(format!("location {},{} is not on Earth", l.lat, l.lon));
        }
        if self.crop_jpeg.len() > CROP_BYTES_MAX {
            return Err(format!(
                "plate crop of {} bytes exceeds {CROP_BYTES_MAX}",
                self.crop_jpeg.len()
            ));
        }
        if self
            .overview_jpeg
            .as_ref()
            .is_some_and(|o| o.len() > OVERVIEW_BYTES_MAX)
        {
            return Err(format!("overview frame exceeds {OVERVIEW_BYTES_MAX} bytes"));
        }
        Ok(())
    }

    /// The read's sealed body and its images.
    pub fn split(self) -> (ReadBody, Option<Vec<u8>>, Option<Vec<u8>>) {
        let crop = (!self.crop_jpeg.is_empty()).then_some(self.crop_jpeg);
        let body = ReadBody {
            plate: self.plate,
            region: self.region,
            confidence: self.confidence,
            char_confidences: self.char_confidences,
            camera: self.camera,
            location: self.location,
            crop: crop.as_deref().map(ImageRef::of),
            overview: self.overview_jpeg.as_deref().map(ImageRef::of),
            fix: self.fix,
        };
        (body, crop, self.overview_jpeg)
    }
}

/// What a user (or the node itself) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Login,
    LoginFailed,
    Lockout,
    Logout,
    Search,
    ViewRead,
    ViewImage,
    Export,
    EditUser,
    EditHotlist,
    EditRetention,
    EditHold,
    Purge,
    Release,
    Request,
    AuditReview,
    Enroll,
    Verify,
    Import,
    /// Seeing policy records: users, holds, requests, audit reports.
    ViewPolicy,
    /// Revoking a node of the fleet.
    EditNodes,
    /// Watching reads as they are stored (a console's live view).
    LiveView,
    /// Seeing alerts: a listing, one alert, a hit report.
    ViewAlert,
    /// Recording a disposition of an alert.
    DisposeAlert,
}

/// Every action, in declaration order (a console's filter cycles them).
pub const ACTIONS: [Action; 24] = [
    Action::Login,
    Action::LoginFailed,
    Action::Lockout,
    Action::Logout,
    Action::Search,
    Action::ViewRead,
    Action::ViewImage,
    Action::Export,
    Action::EditUser,
    Action::EditHotlist,
    Action::EditRetention,
    Action::EditHold,
    Action::Purge,
    Action::Release,
    Action::Request,
    Action::AuditReview,
    Action::Enroll,
    Action::Verify,
    Action::Import,
    Action::ViewPolicy,
    Action::EditNodes,
    Action::LiveView,
    Action::ViewAlert,
    Action::DisposeAlert,
];

impl Action {
    /// The action in words, as people and bundles read it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login failed",
            Action::Lockout => "lockout",
            Action::Logout => "logout",
            Action::Search => "search",
            Action::ViewRead => "view read",
            Action::ViewImage => "view image",
            Action::Export => "export",
            Action::EditUser => "edit user",
            Action::EditHotlist => "edit hotlist",
            Action::EditRetention => "edit retention",
            Action::EditHold => "edit hold",
            Action::Purge => "purge",
            Action::Release => "release",
            Action::Request => "request",
            Action::AuditReview => "audit review",
            Action::Enroll => "enroll",
            Action::Verify => "verify",
            Action::Import => "import",
            Action::ViewPolicy => "view policy",
            Action::EditNodes => "edit nodes",
            Action::LiveView => "live view",
            Action::ViewAlert => "view alert",
            Action::DisposeAlert => "dispose alert",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Success => f.write_str("success"),
            Outcome::Refused(why) => write!(f, "refused: {why}"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// Whether the access went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Success,
    /// Policy refused it; the reason says which rule.
    Refused(String),
    /// It was allowed but failed; the reason says how.
    Failed(String),
}

/// One access, documented (policy V.A.2). Each node's events form a hash chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub origin: NodeId,
    pub seq: u64,
    pub time: Timestamp,
    pub body: AuditBody,
}

/// Longest user name an audit event keeps, in bytes.
pub const AUDIT_USER_BYTES_MAX: usize = 256;
/// Longest object, purpose, case or outcome reason an audit event keeps, in bytes.
/// An event stays far below the envelope limit, so it always stores,
/// verifies and replicates, whatever a request carried.
pub const AUDIT_TEXT_BYTES_MAX: usize = 4096;

/// Cuts `text` to at most `max` bytes on a character boundary, saying so
/// and how long it was: an audit log never refuses an event, and never
/// stores one unbounded.
pub fn bounded_text(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let marker = format!("… [cut: {} bytes in all]", text.len());
    let mut end = max.saturating_sub(marker.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text;
    out.truncate(end);
    out.push_str(&marker);
    out
}

impl AuditBody {
    /// The body with every text field within its bound (see [`bounded_text`]).
    pub fn bounded(self) -> AuditBody {
        let text = |t: String| bounded_text(t, AUDIT_TEXT_BYTES_MAX);
        AuditBody {
            user: bounded_text(self.user, AUDIT_USER_BYTES_MAX),
            action: self.action,
            object: text(self.object),
            purpose: self.purpose.map(text),
            case: self.case.map(text),
            outcome: match self.outcome {
                Outcome::Success => Outcome::Success,
                Outcome::Refused(why) => Outcome::Refused(text(why)),
                Outcome::Failed(why) => Outcome::Failed(text(why)),
            },
            prev_hash: self.prev_hash,
            floors: self.floors,
        }
    }
}

/// How a format-1 purge event named the new start of an origin's audit
/// chain, in its object text. Format 2 carries [`AuditFloor`]s instead;
/// the label is still read from format-1 events, so chains cut before
/// format 2 still verify.
pub fn floor_label(origin: NodeId, seq: u64, hash: &[u8; 32]) -> String {
    format!("floor {}:{seq}:{}", origin.to_hex(), hex::encode(hash))
}

/// Where an origin's audit chain starts after a purge deleted its
/// beginning: the last deleted event's seq and envelope hash. A purge event
/// signs the floors it made, so `verify` can tell a chain cut by policy
/// from one whose first events were deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFloor {
    pub origin: NodeId,
    pub seq: u64,
    pub hash: [u8; 32],
}

/// The sealed part of an audit event; its serde layout is format 2's
/// (format 1's lacks the floors; `encode` and `decode` take either).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditBody {
    pub user: String,
    pub action: Action,
    /// What was accessed: a query, a record id, a user name.
    pub object: String,
    pub purpose: Option<String>,
    pub case: Option<String>,
    pub outcome: Outcome,
    /// SHA-256 of the previous event's whole envelope from the same origin;
    /// all zeros for the first event.
    pub prev_hash: [u8; 32],
    /// The chain floors a purge made (empty for every other event, and for
    /// every event of format 1, which had no such field).
    pub floors: Vec<AuditFloor>,
}

/// The audit body as envelope format 1 lays it out (FORMAT.md).
#[derive(Serialize, Deserialize)]
struct AuditBodyV1 {
    user: String,
    action: Action,
    object: String,
    purpose: Option<String>,
    case: Option<String>,
    outcome: Outcome,
    prev_hash: [u8; 32],
}

/// The audit body's layout this build writes (the envelope's version byte).
pub const AUDIT_BODY_VERSION: u8 = 2;

impl AuditBody {
    /// Postcard of the body in the layout of `version` (1 or 2). A format-1
    /// body cannot carry floors: they are dropped, so only tests that prove
    /// old chains still verify write it.
    pub fn encode(&self, version: u8) -> Vec<u8> {
        // Invariant: postcard encoding of these plain structs into a Vec cannot fail.
        if version == 1 {
            let b = self.clone();
            postcard::to_allocvec(&AuditBodyV1 {
                user: b.user,
                action: b.action,
                object: b.object,
                purpose: b.purpose,
                case: b.case,
                outcome: b.outcome,
                prev_hash: b.prev_hash,
            })
            .unwrap_or_default()
        } else {
            postcard::to_allocvec(self).unwrap_or_default()
        }
    }

    /// Decodes a body of the layout `version` names; total, never panics.
    pub fn decode(version: u8, bytes: &[u8]) -> Result<AuditBody, String> {
        match version {
            1 => {
                let b: AuditBodyV1 = whole(bytes)?;
                Ok(AuditBody {
                    user: b.user,
                    action: b.action,
                    object: b.object,
                    purpose: b.purpose,
                    case: b.case,
                    outcome: b.outcome,
                    prev_hash: b.prev_hash,
                    floors: Vec::new(),
                })
            }
            2 => whole(bytes),
            other => Err(format!("audit body layout {other} is unknown")),
        }
    }

    /// Whether this event proves `floor`: its typed field names it, or it is
    /// a purge event whose object names it by [`floor_label`] (format 1).
    pub fn proves_floor(&self, floor: &AuditFloor) -> bool {
        self.floors.contains(floor)
            || (self.action == Action::Purge
                && self
                    .object
                    .contains(&floor_label(floor.origin, floor.seq, &floor.hash)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_text_is_cut_on_a_character_boundary_with_a_marker() {
        assert_eq!(bounded_text("short".into(), 16), "short");
        let long = "é".repeat(5000);
        let cut = bounded_text(long.clone(), AUDIT_TEXT_BYTES_MAX);
        assert!(cut.len() <= AUDIT_TEXT_BYTES_MAX, "{}", cut.len());
        assert!(cut.ends_with("… [cut: 10000 bytes in all]"));
        assert!(cut.starts_with("éé"));
        let body = AuditBody {
            user: "u".repeat(9 * 1024 * 1024),
            action: Action::LoginFailed,
            object: "o".repeat(100_000_000),
            purpose: Some("p".repeat(5000)),
            case: Some("c".into()),
            outcome: Outcome::Refused("r".repeat(5000)),
            prev_hash: [0; 32],
            floors: Vec::new(),
        }
        .bounded();
        assert!(body.user.len() <= AUDIT_USER_BYTES_MAX);
        assert!(body.object.len() <= AUDIT_TEXT_BYTES_MAX);
        assert!(body.purpose.unwrap().len() <= AUDIT_TEXT_BYTES_MAX);
        assert_eq!(body.case.as_deref(), Some("c"));
        let Outcome::Refused(why) = body.outcome else {
            panic!()
        };
        assert!(why.len() <= AUDIT_TEXT_BYTES_MAX);
    }

    #[test]
    fn audit_bodies_decode_in_both_layouts_and_nothing_else() {
        let body = AuditBody {
            user: "chief".into(),
            action: Action::Purge,
            object: "purge".into(),
            purpose: None,
            case: None,
            outcome: Outcome::Success,
            prev_hash: [3; 32],
            floors: vec![AuditFloor {
                origin: NodeId([9; 32]),
                seq: 41,
                hash: [7; 32],
            }],
        };
        assert_eq!(AuditBody::decode(2, &body.encode(2)), Ok(body.clone()));
        // Format 1 has no floors: they do not survive it.
        let v1 = AuditBody::decode(1, &body.encode(1)).unwrap();
        assert!(v1.floors.is_empty());
        assert_eq!(
            (v1.object, v1.prev_hash),
            (body.object.clone(), body.prev_hash)
        );
        // The layouts are told apart by the version, never guessed.
        assert!(AuditBody::decode(1, &body.encode(2)).is_err());
        assert!(AuditBody::decode(3, &body.encode(2)).is_err());
        let mut long = body.encode(2);
        long.push(0);
        assert!(
            AuditBody::decode(2, &long)
                .unwrap_err()
                .contains("trailing")
        );
        for cut in 0..body.encode(2).len() {
            let _ = AuditBody::decode(2, &body.encode(2)[..cut]);
        }
    }
}
