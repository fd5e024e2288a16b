//! Bulk hotlists (NCIC and state extracts): signed, content-addressed
//! versions, and deltas between them.
//!
//! A version's entries are kept in one canonical order (sorted, no
//! duplicates), and its content hash is SHA-256 over their postcard
//! encodings in that order. The publishing station signs a
//! [`HotlistVersion`] naming the list, its version number, entry count and
//! content hash; whoever holds the entries can check them against it, so a
//! car may pass a list to another car without being trusted itself. A delta
//! names the content it applies to and the signed version it produces;
//! applying it must reproduce exactly that content hash. Bulk lists are not
//! automerge documents: a million entries as CRDT ops took minutes and over
//! a gigabyte to build.
//!
//! Byte layouts are in FORMAT.md ("Hotlists").

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::enrollment::{Role, VerifiedCertificate};
use crate::identity::{AgencyId, NodeId, NodeKey};
use crate::plate::PlateText;
use crate::time::Timestamp;

const VERSION_MAGIC: &[u8; 4] = b"ALPH";
/// Format 2: entries carry their [`Detail`] (priority, vehicle, dates,
/// notes, source). A format-1 version (entries without detail) is refused
/// by name: its content hash covers the older layout, so the station must
/// publish the list again.
const VERSION_FORMAT: u8 = 2;
const VERSION_BODY_BYTES_MAX: usize = 512;
pub const LIST_NAME_LEN_MAX: usize = 64;
pub const REFERENCE_LEN_MAX: usize = 64;
/// Most entries one list may hold (NCIC extracts run to hundreds of thousands).
pub const ENTRIES_MAX: u64 = 2_000_000;
/// Longest region code.
pub const REGION_LEN_MAX: usize = 8;
/// Longest make, model or color word of a vehicle description.
pub const VEHICLE_WORD_LEN_MAX: usize = 32;
/// Longest notes text of an entry (a reason, a case, a description).
pub const NOTES_LEN_MAX: usize = 256;
/// Longest source name (the extract or the person an entry came from).
pub const SOURCE_LEN_MAX: usize = 64;

/// Why a vehicle is on a list (NCIC file categories, roughly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    StolenVehicle,
    StolenPlate,
    WantedPerson,
    MissingPerson,
    Amber,
    Bolo,
    Other,
    // NCIC file codes beyond the first categories (appended: postcard
    // numbers variants by position).
    Felony,
    SupervisedRelease,
    ProtectionOrder,
    ProtectiveInterest,
    ViolentPerson,
    StolenCanadianVehicle,
    GangOrTerrorist,
    SexOffender,
}

/// Every category, in declaration order.
pub const CATEGORIES: [Category; 15] = [
    Category::StolenVehicle,
    Category::StolenPlate,
    Category::WantedPerson,
    Category::MissingPerson,
    Category::Amber,
    Category::Bolo,
    Category::Other,
    Category::Felony,
    Category::SupervisedRelease,
    Category::ProtectionOrder,
    Category::ProtectiveInterest,
    Category::ViolentPerson,
    Category::StolenCanadianVehicle,
    Category::GangOrTerrorist,
    Category::SexOffender,
];

impl Category {
    /// The category as extracts and people write it.
    pub fn name(self) -> &'static str {
        match self {
            Category::StolenVehicle => "stolen-vehicle",
            Category::StolenPlate => "stolen-plate",
            Category::WantedPerson => "wanted-person",
            Category::MissingPerson => "missing-person",
            Category::Amber => "amber",
            Category::Bolo => "bolo",
            Category::Other => "other",
            Category::Felony => "felony",
            Category::SupervisedRelease => "supervised-release",
            Category::ProtectionOrder => "protection-order",
            Category::ProtectiveInterest => "protective-interest",
            Category::ViolentPerson => "violent-person",
            Category::StolenCanadianVehicle => "stolen-canadian-vehicle",
            Category::GangOrTerrorist => "gang-or-terrorist",
            Category::SexOffender => "sex-offender",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Some(
            match text
                .trim()
                .to_ascii_lowercase()
                .replace(['-', '_', ' '], "")
                .as_str()
            {
                "stolenvehicle" | "stolen" | "sv" => Category::StolenVehicle,
                "stolenplate" | "sp" => Category::StolenPlate,
                "wantedperson" | "wanted" | "wp" => Category::WantedPerson,
                "missingperson" | "missing" | "mp" => Category::MissingPerson,
                "amber" | "amberalert" => Category::Amber,
                "bolo" => Category::Bolo,
                "other" => Category::Other,
                "felony" => Category::Felony,
                "supervisedrelease" => Category::SupervisedRelease,
                "protectionorder" => Category::ProtectionOrder,
                "protectiveinterest" => Category::ProtectiveInterest,
                "violentperson" => Category::ViolentPerson,
                "stolencanadianvehicle" | "stolencanadian" => Category::StolenCanadianVehicle,
                "gangorterrorist" | "gang" | "terrorist" => Category::GangOrTerrorist,
                "sexoffender" => Category::SexOffender,
                _ => return None,
            },
        )
    }
}

/// How urgently a hit must be seen: alerts are ordered by it, and a high
/// one cannot be muted.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Priority {
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        match text.trim().to_ascii_lowercase().as_str() {
            "high" | "1" => Some(Priority::High),
            "normal" | "2" | "" => Some(Priority::Normal),
            "low" | "3" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// The vehicle a listed plate was on, as the source describes it (NCIC
/// codes decoded to words by the importer).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vehicle {
    pub year: Option<u16>,
    pub make: String,
    pub model: String,
    pub color: String,
}

impl Vehicle {
    pub fn is_empty(&self) -> bool {
        self.year.is_none()
            && self.make.is_empty()
            && self.model.is_empty()
            && self.color.is_empty()
    }

    /// "2009 Yamaha motorcycle, black", leaving out what is unknown.
    pub fn describe(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if let Some(y) = self.year {
            words.push(y.to_string());
        }
        for w in [&self.make, &self.model] {
            if !w.is_empty() {
                words.push(w.clone());
            }
        }
        let mut out = words.join(" ");
        if !self.color.is_empty() {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&self.color);
        }
        out
    }
}

/// What an entry says beyond the plate: what officers need on an alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Detail {
    pub priority: Priority,
    pub vehicle: Vehicle,
    /// When the source entered it (an NCIC incident date).
    pub entered: Option<Timestamp>,
    /// When it stops being in force; a hit after it raises no alert.
    pub expires: Option<Timestamp>,
    /// A hit is shown only to roles that may see covert entries: the car
    /// records it, the officer in it is not told.
    pub covert: bool,
    /// A reason, a case, a description of the person.
    pub notes: String,
    /// The extract or person the entry came from ("NCIC V", an officer).
    pub source: String,
}

/// One listed plate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub plate: PlateText,
    /// Issuing state or country code (e.g. "CA"), when the list gives one.
    pub region: Option<String>,
    pub category: Category,
    /// The source's record number (an NCIC number, a case number).
    pub reference: String,
    pub detail: Detail,
}

impl Entry {
    /// Whether the entry is in force at `at` (not past its expiry).
    pub fn in_force(&self, at: Timestamp) -> bool {
        self.detail.expires.is_none_or(|e| at < e)
    }
}

/// Checks an entry's fields are within bounds (a peer's entries are checked
/// as they arrive, before a list is whole).
pub fn check_entry(e: &Entry) -> Result<(), HotlistError> {
    if e.reference.chars().count() > REFERENCE_LEN_MAX {
        return Err(HotlistError::BadReference(
            e.reference.chars().take(80).collect(),
        ));
    }
    if let Some(r) = &e.region
        && (r.len() > REGION_LEN_MAX || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(HotlistError::BadRegion(r.chars().take(20).collect()));
    }
    let d = &e.detail;
    let long = |field: &'static str, text: &str, max: usize| {
        (text.chars().count() > max || text.chars().any(char::is_control)).then(|| {
            HotlistError::BadDetail {
                field,
                text: text.chars().take(40).collect(),
                max,
            }
        })
    };
    let problem = long("make", &d.vehicle.make, VEHICLE_WORD_LEN_MAX)
        .or_else(|| long("model", &d.vehicle.model, VEHICLE_WORD_LEN_MAX))
        .or_else(|| long("color", &d.vehicle.color, VEHICLE_WORD_LEN_MAX))
        .or_else(|| long("notes", &d.notes, NOTES_LEN_MAX))
        .or_else(|| long("source", &d.source, SOURCE_LEN_MAX));
    if let Some(p) = problem {
        return Err(p);
    }
    Ok(())
}

/// The content hash of entries in canonical order.
pub fn content_hash(entries: &[Entry]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(64);
    for e in entries {
        buf.clear();
        // An entry always encodes: every field is a plain value.
        if let Ok(bytes) = postcard::to_extend(e, std::mem::take(&mut buf)) {
            buf = bytes;
        }
        h.update(&buf);
    }
    h.finalize().into()
}

/// Sorts and deduplicates entries into canonical order.
pub fn canonical(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_unstable();
    entries.dedup();
    entries
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HotlistError {
    #[error("hotlist version is malformed: {0}")]
    Malformed(String),
    #[error("hotlist version has a bad signature: forged or altered")]
    BadSignature,
    #[error("hotlist '{list}' was published by {author:?}, which is not a station of this agency")]
    NotAStation { list: String, author: NodeId },
    #[error(
        "hotlist '{list}' names {expected} entries with hash {expected_hash}, but the entries give {found} with hash {found_hash}"
    )]
    ContentMismatch {
        list: String,
        expected: u64,
        expected_hash: String,
        found: u64,
        found_hash: String,
    },
    #[error("delta applies to content {from}, which is not the content held here")]
    WrongBase { from: String },
    #[error("delta removes entry index {0}, past the end of the list")]
    RemovalOutOfRange(u64),
    #[error("list name '{0}' must be 1 to {LIST_NAME_LEN_MAX} letters, digits, '-' or '_'")]
    BadName(String),
    #[error("entry reference is longer than {REFERENCE_LEN_MAX} characters: '{0}'")]
    BadReference(String),
    #[error("a list may hold at most {ENTRIES_MAX} entries")]
    TooLarge,
    #[error("entry region '{0}' is not a state or country code")]
    BadRegion(String),
    #[error("entries are not in canonical order (sorted, no duplicates)")]
    NotCanonical,
    #[error("entry {field} '{text}' is longer than {max} characters or holds control characters")]
    BadDetail {
        field: &'static str,
        text: String,
        max: usize,
    },
}

/// What a station signs when it publishes a list version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotlistVersion {
    pub list: String,
    /// Counts up per list; a node keeps the highest it has verified.
    pub version: u64,
    pub entries: u64,
    pub content: [u8; 32],
    pub published_at: Timestamp,
    pub author: NodeId,
}

/// A list name: letters, digits, '-' and '_'.
pub fn check_name(name: &str) -> Result<(), HotlistError> {
    let ok = !name.is_empty()
        && name.len() <= LIST_NAME_LEN_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(HotlistError::BadName(name.to_string()))
    }
}

impl HotlistVersion {
    /// Signs this version with the publishing node's key.
    pub fn sign(&self, key: &NodeKey) -> Result<SignedHotlistVersion, HotlistError> {
        check_name(&self.list)?;
        let body =
            postcard::to_allocvec(self).map_err(|e| HotlistError::Malformed(e.to_string()))?;
        if body.len() > VERSION_BODY_BYTES_MAX {
            return Err(HotlistError::Malformed("body too long".into()));
        }
        let mut bytes = Vec::with_capacity(7 + body.len() + 64);
        bytes.extend_from_slice(VERSION_MAGIC);
        bytes.push(VERSION_FORMAT);
        bytes.extend_from_slice(&(body.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&body);
        let sig = key.sign(&bytes);
        bytes.extend_from_slice(&sig);
        Ok(SignedHotlistVersion(bytes))
    }
}

/// A signed version as bytes, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHotlistVersion(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl SignedHotlistVersion {
    /// Parses the body without checking the signature (to find its author).
    pub fn decode(&self) -> Result<HotlistVersion, HotlistError> {
        let b = &self.0;
        let bad = |m: &str| HotlistError::Malformed(m.to_string());
        if b.len() < 7 + 64 || &b[..4] != VERSION_MAGIC {
            return Err(bad("not a hotlist version"));
        }
        if b[4] == 1 {
            return Err(HotlistError::Malformed(
                "format 1 (entries without priority or vehicle detail), from an older build: the station must publish the list again".into(),
            ));
        }
        if b[4] != VERSION_FORMAT {
            return Err(HotlistError::Malformed(format!(
                "format version {} (this build reads {VERSION_FORMAT})",
                b[4]
            )));
        }
        let len = u16::from_be_bytes([b[5], b[6]]) as usize;
        if len > VERSION_BODY_BYTES_MAX || b.len() != 7 + len + 64 {
            return Err(bad("length does not match its header"));
        }
        let v: HotlistVersion =
            postcard::from_bytes(&b[7..7 + len]).map_err(|e| bad(&e.to_string()))?;
        check_name(&v.list)?;
        if v.entries > ENTRIES_MAX {
            return Err(HotlistError::TooLarge);
        }
        Ok(v)
    }

    /// Checks the signature by the author, whose certificate must be a
    /// station's of `agency`.
    pub fn verify(
        &self,
        agency: AgencyId,
        author: Option<&VerifiedCertificate>,
    ) -> Result<HotlistVersion, HotlistError> {
        let v = self.decode()?;
        let station = author.filter(|c| {
            let c = c.certificate();
            c.node == v.author && c.role == Role::Station && c.agency == agency
        });
        if station.is_none() {
            return Err(HotlistError::NotAStation {
                list: v.list,
                author: v.author,
            });
        }
        let split = self.0.len() - 64;
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&self.0[split..]);
        if !v.author.verify(&self.0[..split], &sig) {
            return Err(HotlistError::BadSignature);
        }
        Ok(v)
    }
}

/// Checks that entries are exactly the content a version names.
pub fn check_content(version: &HotlistVersion, entries: &[Entry]) -> Result<(), HotlistError> {
    let found_hash = content_hash(entries);
    if found_hash != version.content || entries.len() as u64 != version.entries {
        return Err(HotlistError::ContentMismatch {
            list: version.list.clone(),
            expected: version.entries,
            expected_hash: hex::encode(version.content),
            found: entries.len() as u64,
            found_hash: hex::encode(found_hash),
        });
    }
    Ok(())
}

/// The change from one content to the next: indexes of removed entries in
/// the old canonical order (ascending), and the added entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    pub removed: Vec<u32>,
    pub added: Vec<Entry>,
}

impl Delta {
    /// The delta from `old` to `new`, both canonical.
    pub fn between(old: &[Entry], new: &[Entry]) -> Delta {
        let (mut i, mut j) = (0, 0);
        let mut removed = Vec::new();
        let mut added = Vec::new();
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    removed.push(i as u32);
                    i += 1;
                }
                (Some(_), None) => {
                    removed.push(i as u32);
                    i += 1;
                }
                (_, Some(b)) => {
                    added.push(b.clone());
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Delta { removed, added }
    }

    /// Applies this delta to canonical `old`; the result is canonical.
    pub fn apply(&self, old: &[Entry]) -> Result<Vec<Entry>, HotlistError> {
        if self.added.len() as u64 > ENTRIES_MAX {
            return Err(HotlistError::TooLarge);
        }
        for e in &self.added {
            check_entry(e)?;
        }
        let mut keep = vec![true; old.len()];
        for &r in &self.removed {
            *keep
                .get_mut(r as usize)
                .ok_or(HotlistError::RemovalOutOfRange(u64::from(r)))? = false;
        }
        let kept = old
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(e, _)| e.clone());
        let mut out: Vec<Entry> = kept.chain(self.added.iter().cloned()).collect();
        if out.len() as u64 > ENTRIES_MAX {
            return Err(HotlistError::TooLarge);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(p: &str, c: Category) -> Entry {
        Entry {
            plate: PlateText::parse(p).unwrap(),
            region: Some("CA".into()),
            category: c,
            reference: format!("V{p}"),
            detail: Detail::default(),
        }
    }

    #[test]
    fn deltas_reproduce_the_new_content() {
        let old = canonical(vec![
            entry("AAA111", Category::StolenVehicle),
            entry("BBB222", Category::StolenPlate),
            entry("CCC333", Category::Amber),
        ]);
        let new = canonical(vec![
            entry("AAA111", Category::StolenVehicle),
            entry("CCC333", Category::Amber),
            entry("DDD444", Category::Bolo),
        ]);
        let d = Delta::between(&old, &new);
        assert_eq!(d.removed, vec![1]);
        assert_eq!(d.added.len(), 1);
        let applied = d.apply(&old).unwrap();
        assert_eq!(content_hash(&applied), content_hash(&new));
        assert!(matches!(
            Delta {
                removed: vec![9],
                added: vec![]
            }
            .apply(&old),
            Err(HotlistError::RemovalOutOfRange(9))
        ));
    }
}
