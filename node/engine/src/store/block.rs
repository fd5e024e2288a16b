//! Read blocks: several envelopes of one origin in one database value.
//!
//! redb keeps a value in the leaf page beside its key, and splits leaves at
//! the 4 KiB page size, so one ~2.3 KB envelope per entry would leave almost
//! half of every page empty. Packing envelopes into blocks of up to
//! [`BLOCK_BYTES_MAX`] (stored in 64 KiB pages) keeps the file within a few
//! percent of the envelopes' size and makes scans sequential.
//!
//! Layout (local to this database, never sent): repeated
//! `seq u64 BE | len u32 BE | envelope[len]`, seqs strictly increasing.
//! A block's key is (origin index, its first seq); blocks of one origin never
//! overlap in seq range.

/// Largest block; keeps a full block with redb's leaf header inside a 64 KiB page.
pub const BLOCK_BYTES_MAX: usize = 64 * 1024 - 256;
pub const ENTRY_HEADER_LEN: usize = 12;

/// One entry's position in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub start: usize,
    pub end: usize,
}

/// Parses a block into entry positions; an error names the byte offset.
pub fn entries(block: &[u8]) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < block.len() {
        if block.len() - at < ENTRY_HEADER_LEN {
            return Err(format!("entry header truncated at byte {at}"));
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&block[at..at + 8]);
        let seq = u64::from_be_bytes(seq);
        let mut len = [0u8; 4];
        len.copy_from_slice(&block[at + 8..at + 12]);
        let len = u32::from_be_bytes(len) as usize;
        let start = at + ENTRY_HEADER_LEN;
        let end = start
            .checked_add(len)
            .filter(|end| *end <= block.len())
            .ok_or_else(|| format!("entry at byte {at} claims {len} bytes past the block's end"))?;
        if let Some(prev) = out.last().map(|e: &Entry| e.seq)
            && seq <= prev
        {
            return Err(format!("seq {seq} at byte {at} does not follow seq {prev}"));
        }
        out.push(Entry { seq, start, end });
        at = end;
    }
    Ok(out)
}

pub fn push(block: &mut Vec<u8>, seq: u64, envelope: &[u8]) {
    block.extend_from_slice(&seq.to_be_bytes());
    block.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
    block.extend_from_slice(envelope);
}

pub fn entry_len(envelope: &[u8]) -> usize {
    ENTRY_HEADER_LEN + envelope.len()
}

/// Rebuilds a block from entries (seq order), for inserts in the middle.
pub fn build<'a>(items: impl IntoIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (seq, env) in items {
        push(&mut out, seq, env);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_is_reported() {
        let block = build([(3, &b"abc"[..]), (5, &b""[..]), (9, &b"zz"[..])]);
        let e = entries(&block).unwrap();
        assert_eq!(e.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 5, 9]);
        assert_eq!(&block[e[2].start..e[2].end], b"zz");
        assert!(
            entries(&block[..block.len() - 1])
                .unwrap_err()
                .contains("past the block's end")
        );
        assert!(entries(&block[..5]).unwrap_err().contains("truncated"));
        let unordered = build([(5, &b"a"[..]), (5, &b"b"[..])]);
        assert!(entries(&unordered).unwrap_err().contains("does not follow"));
    }
}
