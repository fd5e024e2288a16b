//! Searches over stored reads: exact plate through the blind index, or a wildcard pattern.

use alpr_protocol::{ImageKind, PlatePattern, PlateText, VerifiedRead};

use crate::datadir::Node;
use crate::store::{RecordId, StoreError, TimeRange};

#[derive(Debug, Clone)]
pub enum Query {
    Plate(PlateText),
    /// A plate with the letter O and the digit 0 taken as one: US plates
    /// use them interchangeably, and a reader or a witness may give either.
    LookAlike(PlateText),
    Pattern(PlatePattern),
}

/// The letter O and the digit 0 as one character.
fn fold_o(plate: &str) -> String {
    plate.replace('O', "0")
}

/// Every spelling of `plate` with each O or 0 either way (at most 2^10:
/// a plate is at most 10 characters).
fn look_alikes(plate: &PlateText) -> Vec<PlateText> {
    let mut spellings = vec![String::new()];
    for c in plate.as_str().chars() {
        let choices: &[char] = if c == 'O' || c == '0' {
            &['0', 'O']
        } else {
            &[c]
        };
        spellings = spellings
            .iter()
            .flat_map(|s| {
                choices.iter().map(move |c| {
                    let mut next = s.clone();
                    next.push(*c);
                    next
                })
            })
            .collect();
    }
    spellings
        .iter()
        .filter_map(|s| PlateText::parse(s).ok())
        .collect()
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Query::Plate(p) => write!(f, "plate {p}"),
            Query::LookAlike(p) => write!(f, "plate {p} (O and 0 alike)"),
            Query::Pattern(p) => write!(f, "pattern {}", p.as_str()),
        }
    }
}

/// What a search keeps to besides the plate and the time window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadFilter {
    /// Reads of this node only (the index keeps the origin: no read is opened to filter).
    pub origin: Option<alpr_protocol::NodeId>,
    /// Reads of this camera only, by name (case-insensitive). The camera is
    /// inside the sealed read, so every read the rest of the query matches
    /// is opened to filter: at most [`CAMERA_SCAN_MAX`].
    pub camera: Option<String>,
}

/// Reads a camera filter opens at most; past it the search is refused and
/// asks for a narrower window or plate, rather than answer a partial count.
pub const CAMERA_SCAN_MAX: usize = 50_000;

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "more than {CAMERA_SCAN_MAX} reads match before the camera filter; narrow the time window or the plate"
    )]
    TooBroadForCamera,
}

/// One search result: an opened read, or the record that failed to open and why.
#[derive(Debug)]
pub enum Hit {
    Read(Box<VerifiedRead>),
    Damaged { id: RecordId, reason: String },
}

#[derive(Debug)]
pub struct SearchResult {
    /// Newest first, at most the requested limit.
    pub hits: Vec<Hit>,
    /// How many reads matched in all.
    pub total: u64,
}

/// Runs a query. Only the returned page of matches is opened; every opened
/// read is verified (signature, certificate, seal) and re-checked against
/// the query, so a tampered index cannot put a wrong read in the results.
pub fn search(
    node: &Node,
    query: &Query,
    range: TimeRange,
    limit: usize,
) -> Result<SearchResult, StoreError> {
    let m = find(node, query, range, None, limit)?;
    open_hits(node, query, m.ids, m.total)
}

/// The ids the index finds for a query, newest first: at most `limit`, and
/// how many in all.
fn find(
    node: &Node,
    query: &Query,
    range: TimeRange,
    origin: Option<alpr_protocol::NodeId>,
    limit: usize,
) -> Result<crate::store::Matches, StoreError> {
    Ok(match query {
        Query::Plate(p) => node.store.find_plate_of(p, range, origin, limit)?,
        Query::LookAlike(p) => {
            let mut all = crate::store::Matches::default();
            for spelling in look_alikes(p) {
                let m = node.store.find_plate_of(&spelling, range, origin, limit)?;
                all.total += m.total;
                all.ids.extend(m.ids);
            }
            // Newest first across spellings, as each spelling's own list is.
            all.ids.sort_by(|a, b| b.cmp(a));
            all.ids.truncate(limit);
            all
        }
        Query::Pattern(p) => node.store.find_pattern_of(p, range, origin, limit)?,
    })
}

/// [`search`] keeping to `filter`'s node and camera. With a camera, the
/// matches of the rest of the query are opened newest first until `limit`
/// of that camera are found, and `total` counts that camera's reads.
pub fn search_filtered(
    node: &Node,
    query: &Query,
    range: TimeRange,
    filter: &ReadFilter,
    limit: usize,
) -> Result<SearchResult, SearchError> {
    let wanted = match filter.camera {
        // Every match, to be opened and filtered by camera (bounded).
        Some(_) => CAMERA_SCAN_MAX + 1,
        None => limit,
    };
    let matches = find(node, query, range, filter.origin, wanted)?;
    let Some(camera) = &filter.camera else {
        return Ok(open_hits(node, query, matches.ids, matches.total)?);
    };
    if matches.total > CAMERA_SCAN_MAX as u64 {
        return Err(SearchError::TooBroadForCamera);
    }
    let mut hits = Vec::new();
    let mut total = 0u64;
    for (_, id) in matches.ids {
        let SearchResult { hits: opened, .. } =
            open_hits(node, query, vec![(alpr_protocol::Timestamp(0), id)], 1)?;
        for hit in opened {
            // A read that does not open cannot be told apart by camera: shown.
            let keep = match &hit {
                Hit::Read(v) => v.read().body.camera.eq_ignore_ascii_case(camera),
                Hit::Damaged { .. } => true,
            };
            if keep {
                total += 1;
                if hits.len() < limit {
                    hits.push(hit);
                }
            }
        }
    }
    Ok(SearchResult { hits, total })
}

/// Opens the reads of `ids`, each verified and checked against the query.
fn open_hits(
    node: &Node,
    query: &Query,
    ids: Vec<(alpr_protocol::Timestamp, RecordId)>,
    total: u64,
) -> Result<SearchResult, StoreError> {
    let mut hits = Vec::with_capacity(ids.len());
    for (_, id) in ids {
        let hit = match node.store.read_envelope(id)? {
            None => Hit::Damaged {
                id,
                reason: "indexed but missing from the reads table".into(),
            },
            Some(bytes) => match node.trust.open_read(&bytes) {
                Err(e) => Hit::Damaged {
                    id,
                    reason: e.to_string(),
                },
                Ok(v) if !query_matches(query, &v) => Hit::Damaged {
                    id,
                    reason: format!(
                        "index entry does not match the record's plate {}",
                        v.read().body.plate
                    ),
                },
                Ok(v) => Hit::Read(Box::new(v)),
            },
        };
        hits.push(hit);
    }
    Ok(SearchResult { hits, total })
}

fn query_matches(query: &Query, v: &VerifiedRead) -> bool {
    let plate = &v.read().body.plate;
    match query {
        Query::Plate(p) => p == plate,
        Query::LookAlike(p) => fold_o(p.as_str()) == fold_o(plate.as_str()),
        Query::Pattern(p) => p.matches(plate.as_str()),
    }
}

/// What became of one image of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageState {
    /// The image, verified against the read's commitment.
    Present(Vec<u8>),
    /// The read has none, or it is past its retention.
    Absent,
    /// Stored but not the image the read commits to (or does not open): the
    /// read itself still stands.
    Damaged(String),
}

/// A read's image of `kind`, checked against what the signed read commits to:
/// same origin, seq and capture time, same SHA-256 and length.
pub fn image_of(
    node: &Node,
    read: &VerifiedRead,
    kind: ImageKind,
) -> Result<ImageState, StoreError> {
    let r = read.read();
    let committed = match kind {
        ImageKind::PlateCrop => r.body.crop,
        ImageKind::Overview => r.body.overview,
    };
    if committed.is_none() {
        return Ok(ImageState::Absent);
    }
    let id = RecordId {
        origin: r.origin,
        seq: r.seq,
    };
    let Some(bytes) = node.store.read_image(id, kind)? else {
        return Ok(ImageState::Absent);
    };
    Ok(match node.trust.open_image(&bytes) {
        Err(e) => ImageState::Damaged(e.to_string()),
        Ok(image) if image.kind == kind && r.commits_to(&image) => ImageState::Present(image.jpeg),
        Ok(_) => ImageState::Damaged("not the image the read commits to".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o_and_zero_spell_a_plate_every_way() {
        let p = PlateText::parse("O0A1").unwrap();
        let mut all: Vec<String> = look_alikes(&p).iter().map(|p| p.to_string()).collect();
        all.sort();
        assert_eq!(all, ["00A1", "0OA1", "O0A1", "OOA1"]);
        let none = PlateText::parse("ABC123").unwrap();
        assert_eq!(look_alikes(&none).len(), 1);
        assert_eq!(fold_o("7OB0"), "70B0");
    }
}
