//! Hotlist matching that survives misreads: a read and its candidates
//! against every list a node holds, at record time.
//!
//! A reader confuses characters that look alike (0/O/D/Q, 1/I/L/T, 2/Z,
//! 5/S, 6/G, 8/B) and drops or invents a character at a plate's end (a
//! frame edge, a bolt, a sticker). An exact-only matcher then misses the
//! stolen car; a loose one stops the wrong driver. So every match says
//! what kind it is (exact, look-alike with the characters that differ, an
//! end character missing or extra, a wildcard), carries a score, and each
//! list says which kinds may raise an alert (a stolen-vehicle list may
//! alert on one look-alike change, a BOLO only on exact). A region that
//! differs from the entry's is flagged, never a reason to drop the match:
//! state guesses are the reader's weakest output.
//!
//! The index is built once per list version: plates are packed into u64
//! keys of their look-alike "skeleton" (each character replaced by its
//! confusion class), hashed to chains of entries, so a million-entry list
//! answers in a few probes per text, with no allocation beyond the
//! matches found (see the `matching` bench).

use std::collections::BTreeMap;

use alpr_protocol::PlatePattern;
use alpr_protocol::hotlist::{Category, Entry};

/// Most wildcard entries a node matches (each is checked against every read).
pub const WILDCARD_ENTRIES_MAX: usize = 100;
/// Most `*` in one wildcard entry.
pub const WILDCARD_STARS_MAX: usize = 2;
/// Most texts (the read and its candidates) matched per read.
pub const TEXTS_MAX: usize = 8;
/// Most matches reported per read: a read matching more is a bad list.
pub const MATCHES_MAX: usize = 16;

/// The confusion class of a plate character: look-alikes share one.
fn class(c: u8) -> u8 {
    match c {
        b'O' | b'D' | b'Q' => b'0',
        b'I' | b'L' | b'T' => b'1',
        b'Z' => b'2',
        b'S' => b'5',
        b'G' => b'6',
        b'B' => b'8',
        other => other,
    }
}

/// Packs up to 10 plate characters (A-Z, 0-9) into a u64, base 37 with 0
/// for "no character", so keys of different lengths never collide.
fn pack(chars: impl Iterator<Item = u8>) -> u64 {
    chars.fold(0u64, |key, c| {
        let digit = match c {
            b'0'..=b'9' => u64::from(c - b'0') + 1,
            b'A'..=b'Z' => u64::from(c - b'A') + 11,
            _ => 37 - 1,
        };
        key * 37 + digit
    })
}

fn skeleton(plate: &[u8]) -> u64 {
    pack(plate.iter().map(|&c| class(c)))
}

/// The plate a [`pack`]ed key holds (its characters, and how many).
fn unpack(mut key: u64) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut n = 0;
    while key > 0 && n < 10 {
        let digit = (key % 37) as u8;
        key /= 37;
        out[n] = match digit {
            1..=10 => b'0' + digit - 1,
            11..=36 => b'A' + digit - 11,
            _ => b'-',
        };
        n += 1;
    }
    out[..n].reverse();
    (out, n)
}

/// A region code as a key: equal keys for codes equal ignoring case; 0 for none.
fn region_key(region: Option<&str>) -> u64 {
    region.map_or(0, |r| {
        pack(r.bytes().take(10).map(|b| b.to_ascii_uppercase()))
    })
}

/// How a read matched an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The same characters.
    Exact,
    /// The same length, differing only in look-alike characters (how many).
    LookAlike(u8),
    /// The read lacks the entry's first or last character.
    EndMissing,
    /// The read has a character the entry lacks, at its start or end.
    EndExtra,
    /// A wildcard entry's pattern matches.
    Wildcard,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::LookAlike(_) => "look-alike",
            MatchKind::EndMissing => "end missing",
            MatchKind::EndExtra => "end extra",
            MatchKind::Wildcard => "wildcard",
        }
    }
}

/// Which kinds of match raise an alert for a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRule {
    /// Most look-alike changes that still alert (0: exact only).
    pub look_alike_changes: u8,
    /// Whether an end character missing or extra alerts.
    pub ends: bool,
    /// Whether the read's recognition candidates (not only its best text) may match.
    pub candidates: bool,
}

impl AlertRule {
    /// Exact only, best text only: a BOLO typed by hand.
    pub const EXACT: AlertRule = AlertRule {
        look_alike_changes: 0,
        ends: false,
        candidates: false,
    };

    /// The default for a category: lists whose hits lead to a stop on
    /// confirmation (stolen vehicles and plates, wanted and missing
    /// persons, Amber alerts) tolerate one look-alike and an end
    /// character, since missing the car costs more than a check; BOLOs and
    /// others are exact.
    pub fn for_category(category: Category) -> AlertRule {
        match category {
            Category::StolenVehicle
            | Category::StolenPlate
            | Category::WantedPerson
            | Category::MissingPerson
            | Category::Amber
            | Category::Felony
            | Category::ViolentPerson
            | Category::StolenCanadianVehicle
            | Category::GangOrTerrorist => AlertRule {
                look_alike_changes: 1,
                ends: true,
                candidates: true,
            },
            // Informational lists (no stop on a hit alone) alert on exact only.
            Category::Bolo
            | Category::Other
            | Category::SupervisedRelease
            | Category::ProtectionOrder
            | Category::ProtectiveInterest
            | Category::SexOffender => AlertRule::EXACT,
        }
    }

    fn allows(&self, kind: MatchKind, from_candidate: bool) -> bool {
        if from_candidate && !self.candidates {
            return false;
        }
        match kind {
            MatchKind::Exact | MatchKind::Wildcard => true,
            MatchKind::LookAlike(n) => n <= self.look_alike_changes,
            MatchKind::EndMissing | MatchKind::EndExtra => self.ends,
        }
    }
}

/// One hit of a read against a list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub list: String,
    /// The entry's place in its list's index (for [`ListIndex::plate`]).
    pub entry: u32,
    pub kind: MatchKind,
    /// 0..1: how much the match is worth believing (exact best text 1).
    pub score: f32,
    /// The text that matched: the read's best text or one of its candidates.
    pub text: String,
    /// Whether that text was a candidate rather than the best reading.
    pub from_candidate: bool,
    /// Positions (in the read's text) where it differs: (position, read, entry).
    pub differs: Vec<(u8, char, char)>,
    /// The read's region differs from the entry's (both known): shown on
    /// the alert, not a reason to drop it.
    pub region_mismatch: bool,
}

/// One list's entries, indexed for matching. It holds what matching needs
/// of each entry (the plate and region packed in a u64 each, the category),
/// not the entries themselves: a million entries with their detail take
/// hundreds of megabytes, and a hit fetches its one entry from the store.
#[derive(Debug, Default)]
pub struct ListIndex {
    name: String,
    plates: Vec<u64>,
    regions: Vec<u64>,
    categories: Vec<Category>,
    rule: Option<AlertRule>,
    /// Skeleton of the whole plate.
    whole: Table,
    /// Skeleton without the last character (plates of 2+ characters).
    no_last: Table,
    /// Skeleton without the first character.
    no_first: Table,
}

/// Entries by key: a hash map to the first entry of each key and a chain
/// through the others, one u32 per entry (a lookup is one probe, not a
/// bisection of a million keys).
#[derive(Debug, Default)]
struct Table {
    heads: std::collections::HashMap<u64, u32>,
    next: Vec<u32>,
}

const END: u32 = u32::MAX;

impl Table {
    fn with_capacity(n: usize) -> Table {
        Table {
            heads: std::collections::HashMap::with_capacity(n),
            next: Vec::with_capacity(n),
        }
    }

    /// Adds entry `i` under `key` (`next` is indexed by entry).
    fn insert(&mut self, key: u64, i: u32) {
        while self.next.len() <= i as usize {
            self.next.push(END);
        }
        if let Some(head) = self.heads.insert(key, i) {
            self.next[i as usize] = head;
        }
    }

    fn lookup(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.heads.get(&key).copied().unwrap_or(END);
        std::iter::from_fn(move || {
            if at == END {
                return None;
            }
            let here = at;
            at = self.next.get(here as usize).copied().unwrap_or(END);
            Some(here)
        })
    }
}

impl ListIndex {
    /// Indexes a list's entries. `rule` overrides each entry's category
    /// default ([`AlertRule::for_category`]) when the list's configuration sets one.
    pub fn build(name: &str, entries: &[Entry], rule: Option<AlertRule>) -> ListIndex {
        let mut whole = Table::with_capacity(entries.len());
        let mut no_last = Table::with_capacity(entries.len());
        let mut no_first = Table::with_capacity(entries.len());
        let mut plates = Vec::with_capacity(entries.len());
        let mut regions = Vec::with_capacity(entries.len());
        let mut categories = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            plates.push(pack(e.plate.as_str().bytes()));
            regions.push(region_key(e.region.as_deref()));
            categories.push(e.category);
            let p = e.plate.as_str().as_bytes();
            let i = i as u32;
            whole.insert(skeleton(p), i);
            if p.len() >= 2 {
                no_last.insert(skeleton(&p[..p.len() - 1]), i);
                no_first.insert(skeleton(&p[1..]), i);
            }
        }
        ListIndex {
            name: name.to_string(),
            plates,
            regions,
            categories,
            rule,
            whole,
            no_last,
            no_first,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.plates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.plates.is_empty()
    }

    /// The plate of entry `i` (its place in the entries the index was built from).
    pub fn plate(&self, i: u32) -> Option<String> {
        let (chars, n) = unpack(*self.plates.get(i as usize)?);
        Some(String::from_utf8_lossy(&chars[..n]).into_owned())
    }

    /// Every entry's plate, packed (to tell which plates a new version adds).
    pub fn packed_plates(&self) -> &[u64] {
        &self.plates
    }

    fn rule(&self, i: u32) -> AlertRule {
        self.rule.unwrap_or_else(|| {
            AlertRule::for_category(
                self.categories
                    .get(i as usize)
                    .copied()
                    .unwrap_or(Category::Other),
            )
        })
    }

    /// Every match of `text` against this list, whether or not it alerts.
    fn matches_of(&self, text: &[u8], out: &mut Vec<(u32, MatchKind)>) {
        if text.is_empty() {
            return;
        }
        let plate_of = |i: u32| unpack(self.plates[i as usize]);
        for i in self.whole.lookup(skeleton(text)) {
            let (chars, n) = plate_of(i);
            let plate = &chars[..n];
            let changes = plate.iter().zip(text).filter(|(a, b)| a != b).count() as u8;
            out.push((
                i,
                if changes == 0 {
                    MatchKind::Exact
                } else {
                    MatchKind::LookAlike(changes)
                },
            ));
        }
        // The read lacks the entry's last (or first) character, or has one
        // too many at an end; the rest must then be exact: a look-alike
        // and an end character at once would match far too many plates of
        // a large list (the bench's random reads).
        for i in self.no_last.lookup(skeleton(text)) {
            let (p, n) = plate_of(i);
            if n >= 2 && &p[..n - 1] == text {
                out.push((i, MatchKind::EndMissing));
            }
        }
        for i in self.no_first.lookup(skeleton(text)) {
            let (p, n) = plate_of(i);
            if n >= 2 && &p[1..n] == text {
                out.push((i, MatchKind::EndMissing));
            }
        }
        if text.len() >= 2 {
            for cut in [&text[..text.len() - 1], &text[1..]] {
                for i in self.whole.lookup(skeleton(cut)) {
                    let (p, n) = plate_of(i);
                    if &p[..n] == cut {
                        out.push((i, MatchKind::EndExtra));
                    }
                }
            }
        }
    }
}

/// A wildcard entry of a local list.
#[derive(Debug, Clone)]
pub struct WildcardEntry {
    pub list: String,
    pub pattern: PlatePattern,
    pub entry: Entry,
}

/// Every list a node matches against.
#[derive(Debug, Default)]
pub struct Index {
    lists: BTreeMap<String, ListIndex>,
    wildcards: Vec<WildcardEntry>,
}

/// What a read offers to match: its best text, its region, and candidates.
#[derive(Debug, Clone, Copy)]
pub struct ReadTexts<'a> {
    pub plate: &'a str,
    pub region: Option<&'a str>,
    /// Other readings the recognizer gave, best first.
    pub candidates: &'a [String],
}

/// Why a wildcard entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WildcardError {
    #[error("wildcard '{0}' has more than {WILDCARD_STARS_MAX} '*'")]
    TooManyStars(String),
    #[error("already {WILDCARD_ENTRIES_MAX} wildcard entries: remove one first")]
    TooMany,
    #[error("'{0}' is not a plate pattern: {1}")]
    Bad(String, String),
}

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    /// Adds or replaces a list.
    pub fn put_list(&mut self, list: ListIndex) {
        self.lists.insert(list.name.clone(), list);
    }

    pub fn remove_list(&mut self, name: &str) {
        self.lists.remove(name);
    }

    pub fn list(&self, name: &str) -> Option<&ListIndex> {
        self.lists.get(name)
    }

    /// The wildcard entry at `i` (a wildcard match's `entry`).
    pub fn wildcard(&self, i: u32) -> Option<&WildcardEntry> {
        self.wildcards.get(i as usize)
    }

    pub fn clear_wildcards(&mut self) {
        self.wildcards.clear();
    }

    /// Adds a wildcard entry (at most [`WILDCARD_ENTRIES_MAX`], each with
    /// at most [`WILDCARD_STARS_MAX`] `*`).
    pub fn add_wildcard(
        &mut self,
        list: &str,
        pattern: &str,
        entry: Entry,
    ) -> Result<(), WildcardError> {
        if pattern.matches('*').count() > WILDCARD_STARS_MAX {
            return Err(WildcardError::TooManyStars(pattern.to_string()));
        }
        if self.wildcards.len() >= WILDCARD_ENTRIES_MAX {
            return Err(WildcardError::TooMany);
        }
        let pattern = PlatePattern::parse(pattern)
            .map_err(|e| WildcardError::Bad(pattern.to_string(), e.to_string()))?;
        self.wildcards.push(WildcardEntry {
            list: list.to_string(),
            pattern,
            entry,
        });
        Ok(())
    }

    /// The matches of a read that alert under their lists' rules, best
    /// first (exact before look-alike before an end character; higher
    /// score first), one per entry, at most [`MATCHES_MAX`].
    pub fn alerts(&self, read: ReadTexts<'_>) -> Vec<Match> {
        let mut found: Vec<Match> = Vec::new();
        let mut raw = Vec::new();
        let texts = std::iter::once((read.plate, false)).chain(
            read.candidates
                .iter()
                .take(TEXTS_MAX - 1)
                .map(|c| (c.as_str(), true)),
        );
        for (text, from_candidate) in texts {
            let bytes = text.as_bytes();
            if bytes.is_empty() || bytes.len() > 10 || !bytes.iter().all(u8::is_ascii_alphanumeric)
            {
                continue;
            }
            for list in self.lists.values() {
                raw.clear();
                list.matches_of(bytes, &mut raw);
                for &(i, kind) in &raw {
                    if !list.rule(i).allows(kind, from_candidate) {
                        continue;
                    }
                    let (chars, n) = unpack(list.plates[i as usize]);
                    let entry_region = list.regions[i as usize];
                    push_best(
                        &mut found,
                        made(
                            &list.name,
                            i,
                            (&chars[..n], entry_region),
                            kind,
                            text,
                            from_candidate,
                            read.region,
                        ),
                    );
                }
            }
            for (i, w) in self.wildcards.iter().enumerate() {
                if !from_candidate && w.pattern.matches(text) {
                    push_best(
                        &mut found,
                        made(
                            &w.list,
                            i as u32,
                            (
                                w.entry.plate.as_str().as_bytes(),
                                region_key(w.entry.region.as_deref()),
                            ),
                            MatchKind::Wildcard,
                            text,
                            false,
                            read.region,
                        ),
                    );
                }
            }
        }
        found.sort_by(|a, b| a.kind.cmp(&b.kind).then(b.score.total_cmp(&a.score)));
        found.truncate(MATCHES_MAX);
        found
    }
}

/// Keeps one match per (list, entry, kind family): the better.
fn push_best(found: &mut Vec<Match>, m: Match) {
    if let Some(old) = found
        .iter_mut()
        .find(|o| o.list == m.list && o.entry == m.entry && o.kind == m.kind)
    {
        if m.score > old.score {
            *old = m;
        }
        return;
    }
    found.push(m);
}

/// A match of `text` against entry `i`, given as its plate and region key.
fn made(
    list: &str,
    i: u32,
    (plate, entry_region): (&[u8], u64),
    kind: MatchKind,
    text: &str,
    from_candidate: bool,
    region: Option<&str>,
) -> Match {
    let differs = match kind {
        MatchKind::LookAlike(_) => text
            .bytes()
            .zip(plate.iter().copied())
            .enumerate()
            .filter(|(_, (r, e))| r != e)
            .map(|(at, (r, e))| (at as u8, char::from(r), char::from(e)))
            .collect(),
        _ => Vec::new(),
    };
    let base = match kind {
        MatchKind::Exact => 1.0,
        MatchKind::LookAlike(n) => 0.8f32.powi(i32::from(n)),
        MatchKind::Wildcard => 0.7,
        MatchKind::EndMissing | MatchKind::EndExtra => 0.6,
    };
    // A match on a candidate is worth less than one on the best reading.
    let score = if from_candidate { base * 0.85 } else { base };
    let region_mismatch =
        region.is_some() && entry_region != 0 && region_key(region) != entry_region;
    Match {
        list: list.to_string(),
        entry: i,
        kind,
        score,
        text: text.to_string(),
        from_candidate,
        differs,
        region_mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alpr_protocol::PlateText;

    fn entry(plate: &str, region: Option<&str>, category: Category) -> Entry {
        Entry {
            plate: PlateText::parse(plate).unwrap(),
            region: region.map(str::to_string),
            category,
            reference: format!("NIC/{plate}"),
            detail: Default::default(),
        }
    }

    fn index(entries: Vec<Entry>) -> Index {
        let mut ix = Index::new();
        ix.put_list(ListIndex::build("ncic-stolen", &entries, None));
        ix
    }

    fn read<'a>(
        plate: &'a str,
        region: Option<&'a str>,
        candidates: &'a [String],
    ) -> ReadTexts<'a> {
        ReadTexts {
            plate,
            region,
            candidates,
        }
    }

    fn kinds(found: &[Match]) -> Vec<(String, MatchKind)> {
        found.iter().map(|m| (m.text.clone(), m.kind)).collect()
    }

    #[test]
    fn a_packed_plate_unpacks_to_itself() {
        for p in ["A", "7ABC123", "ZZZZZZZZZZ", "0000000000", "1A2B"] {
            let (chars, n) = unpack(pack(p.bytes()));
            assert_eq!(&chars[..n], p.as_bytes());
        }
        assert_eq!(region_key(Some("ca")), region_key(Some("CA")));
        assert_ne!(region_key(Some("CA")), region_key(Some("NV")));
        assert_eq!(region_key(None), 0);
    }

    #[test]
    fn exact_first_and_every_confusion_class_matches_with_its_differences() {
        let ix = index(vec![entry("7ABC123", Some("CA"), Category::StolenVehicle)]);
        let found = ix.alerts(read("7ABC123", Some("CA"), &[]));
        assert_eq!(kinds(&found), [("7ABC123".into(), MatchKind::Exact)]);
        assert_eq!(found[0].score, 1.0);
        assert!(!found[0].region_mismatch);
        // One confusion from each class, against entries holding the other side.
        for (listed, misread) in [
            ("AB0D", "ABOD"),
            ("ABQ1", "AB01"),
            ("XI11", "X111"),
            ("XL22", "X122"),
            ("XT33", "X133"),
            ("Z444", "2444"),
            ("S555", "5555"),
            ("G666", "6666"),
            ("B888", "8888"),
        ] {
            let ix = index(vec![entry(listed, None, Category::StolenPlate)]);
            let found = ix.alerts(read(misread, None, &[]));
            assert_eq!(found.len(), 1, "{listed} read as {misread}: {found:?}");
            assert_eq!(found[0].kind, MatchKind::LookAlike(1), "{listed}/{misread}");
            let (at, r, e) = found[0].differs[0];
            assert_eq!(
                (
                    misread.as_bytes()[at as usize] as char,
                    listed.as_bytes()[at as usize] as char
                ),
                (r, e)
            );
        }
        // Not look-alikes: no match.
        let ix = index(vec![entry("7ABC123", None, Category::StolenVehicle)]);
        assert!(ix.alerts(read("7ABC124", None, &[])).is_empty());
    }

    #[test]
    fn lists_decide_what_alerts_and_a_bolo_is_exact_only() {
        let ix = index(vec![
            entry("7ABC123", None, Category::StolenVehicle),
            entry("8XYZ001", None, Category::Bolo),
        ]);
        // Two changes: over the stolen list's one.
        assert!(ix.alerts(read("7A8CI23", None, &[])).is_empty());
        assert_eq!(
            ix.alerts(read("7A8C123", None, &[]))[0].kind,
            MatchKind::LookAlike(1)
        );
        // A BOLO only on its exact plate.
        assert!(ix.alerts(read("8XYZ0O1", None, &[])).is_empty());
        assert!(ix.alerts(read("XYZ001", None, &[])).is_empty());
        assert_eq!(
            ix.alerts(read("8XYZ001", None, &[]))[0].kind,
            MatchKind::Exact
        );
        // A list configured exact overrides the category default.
        let mut strict = Index::new();
        strict.put_list(ListIndex::build(
            "strict",
            &[entry("7ABC123", None, Category::StolenVehicle)],
            Some(AlertRule::EXACT),
        ));
        assert!(strict.alerts(read("7A8C123", None, &[])).is_empty());
    }

    #[test]
    fn an_end_character_missing_or_extra_matches() {
        let ix = index(vec![entry("7ABC123", None, Category::StolenVehicle)]);
        for (text, kind) in [
            ("7ABC12", MatchKind::EndMissing),
            ("ABC123", MatchKind::EndMissing),
            ("7ABC1234", MatchKind::EndExtra),
            ("17ABC123", MatchKind::EndExtra),
        ] {
            let found = ix.alerts(read(text, None, &[]));
            assert_eq!(kinds(&found), [(text.to_string(), kind)], "{text}");
            assert!(found[0].score < 0.8);
        }
        // Not an end: a character missing in the middle does not match.
        assert!(ix.alerts(read("7ABC23", None, &[])).is_empty());
        // An end character and a look-alike at once: no match.
        assert!(ix.alerts(read("7A8C12", None, &[])).is_empty());
        assert!(ix.alerts(read("7A8C1234", None, &[])).is_empty());
    }

    #[test]
    fn candidates_match_when_the_best_reading_does_not_and_score_lower() {
        let ix = index(vec![entry("7ABC123", None, Category::StolenVehicle)]);
        let candidates = vec!["7ABC128".to_string(), "7ABC123".to_string()];
        let found = ix.alerts(read("7A3C12B", None, &candidates));
        assert_eq!(kinds(&found), [("7ABC123".into(), MatchKind::Exact)]);
        assert!(found[0].from_candidate && found[0].score < 1.0);
        // A list whose rule refuses candidates does not alert on them.
        let mut bolo = Index::new();
        bolo.put_list(ListIndex::build(
            "bolo",
            &[entry("7ABC123", None, Category::Bolo)],
            None,
        ));
        assert!(bolo.alerts(read("7A3C12B", None, &candidates)).is_empty());
    }

    #[test]
    fn a_region_that_differs_is_flagged_not_dropped() {
        let ix = index(vec![entry("7ABC123", Some("CA"), Category::StolenVehicle)]);
        let found = ix.alerts(read("7ABC123", Some("NV"), &[]));
        assert_eq!(found.len(), 1);
        assert!(found[0].region_mismatch);
        // Unknown on either side: nothing to flag.
        assert!(!ix.alerts(read("7ABC123", None, &[]))[0].region_mismatch);
    }

    #[test]
    fn wildcards_are_bounded_and_match_the_best_reading() {
        let mut ix = Index::new();
        let e = entry("7AB", None, Category::Bolo);
        ix.add_wildcard("local", "7AB*", e.clone()).unwrap();
        assert_eq!(
            ix.add_wildcard("local", "*A*B*", e.clone()),
            Err(WildcardError::TooManyStars("*A*B*".into()))
        );
        for i in 1..WILDCARD_ENTRIES_MAX {
            ix.add_wildcard("local", &format!("Q{i}*"), e.clone())
                .unwrap();
        }
        assert_eq!(
            ix.add_wildcard("local", "X*", e.clone()),
            Err(WildcardError::TooMany)
        );
        let found = ix.alerts(read("7AB1234", None, &[]));
        assert_eq!(kinds(&found), [("7AB1234".into(), MatchKind::Wildcard)]);
    }

    #[test]
    fn garbage_texts_match_nothing_and_never_panic() {
        let ix = index(vec![entry("A", None, Category::StolenVehicle)]);
        let long = "A".repeat(100);
        let candidates = vec![String::new(), "é".into(), long.clone(), "a-b".into()];
        assert!(ix.alerts(read(&long, None, &candidates)).is_empty());
        // A one-character entry matches a one-character read only as such.
        assert_eq!(
            kinds(&ix.alerts(read("A", None, &[]))),
            [("A".into(), MatchKind::Exact)]
        );
        // Packed keys of different lengths never collide.
        assert_ne!(skeleton(b"0"), skeleton(b"00"));
        assert_ne!(skeleton(b"A0"), skeleton(b"0A"));
    }
}
