//! Storage under the store other than a file: a disk in memory that
//! outlives its database (what a crash leaves is what was synced), and a
//! backend over it that fails or tears its writes on a countdown, the way
//! redb's own tests and fuzzer inject faults. The simulator and the
//! fault tests run whole nodes on these.

use std::sync::{Arc, Mutex, PoisonError};

use redb::StorageBackend;

#[derive(Debug, Default)]
struct Disk {
    /// What the database sees: every write so far.
    working: Vec<u8>,
    /// What survives a crash: the working bytes as of the last sync.
    durable: Vec<u8>,
    /// Byte ranges written since the last sync: a sync copies only these,
    /// so a simulated fleet's large stores do not copy whole disks at
    /// every commit.
    unsynced: Vec<std::ops::Range<usize>>,
}

impl Disk {
    fn sync(&mut self) {
        let len = self.working.len();
        self.durable.resize(len, 0);
        for r in self.unsynced.drain(..) {
            let r = r.start.min(len)..r.end.min(len);
            self.durable[r.clone()].copy_from_slice(&self.working[r]);
        }
    }
}

/// A disk in memory, shared by the backends opened over it in turn.
#[derive(Debug, Clone, Default)]
pub struct MemoryDisk(Arc<Mutex<Disk>>);

impl MemoryDisk {
    pub fn new() -> MemoryDisk {
        MemoryDisk::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Disk) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The power goes: with `keep_unsynced`, every write made reaches the
    /// platter (a torn one included); without, only what was synced.
    pub fn crash(&self, keep_unsynced: bool) {
        self.with(|d| {
            if keep_unsynced {
                d.sync();
            } else {
                d.working = d.durable.clone();
                d.unsynced.clear();
            }
        });
    }

    pub fn len(&self) -> usize {
        self.with(|d| d.working.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// When a [`FaultyBackend`] fails: after this many more writes and syncs.
#[derive(Debug, Clone, Default)]
pub struct Countdown(Arc<Mutex<Option<u64>>>);

impl Countdown {
    /// Fails the `n`-th write or sync from now (0: the next one), and every
    /// one after it, as a dead disk would.
    pub fn fail_after(&self, n: u64) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(n);
    }

    /// Whether a failure is set: one still to come, or one that has come.
    pub fn is_armed(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Whether the operation now due goes through.
    fn step(&self) -> bool {
        let mut left = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match *left {
            None => true,
            Some(0) => false,
            Some(n) => {
                *left = Some(n - 1);
                true
            }
        }
    }
}

/// A redb backend over a [`MemoryDisk`] whose writes fail on a countdown;
/// with `tear`, the failing write lands half its bytes first.
#[derive(Debug)]
pub struct FaultyBackend {
    disk: MemoryDisk,
    countdown: Countdown,
    tear: bool,
}

impl FaultyBackend {
    pub fn new(disk: MemoryDisk, countdown: Countdown, tear: bool) -> FaultyBackend {
        FaultyBackend {
            disk,
            countdown,
            tear,
        }
    }
}

fn failed() -> std::io::Error {
    std::io::Error::other("injected fault: the disk stopped")
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(self.disk.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.disk.with(|d| {
            let start = usize::try_from(offset).map_err(|_| failed())?;
            let end = start.checked_add(out.len()).ok_or_else(failed)?;
            let bytes = d.working.get(start..end).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the end")
            })?;
            out.copy_from_slice(bytes);
            Ok(())
        })
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let len = usize::try_from(len).map_err(|_| failed())?;
        self.disk.with(|d| {
            let old = d.working.len();
            d.working.resize(len, 0);
            // Growth is zeros, written like any other bytes.
            if len > old {
                d.unsynced.push(old..len);
            }
        });
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        if !self.countdown.step() {
            return Err(failed());
        }
        self.disk.with(Disk::sync);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let ok = self.countdown.step();
        let land = if ok || !self.tear {
            data.len()
        } else {
            data.len() / 2
        };
        if ok || self.tear {
            self.disk.with(|d| {
                let start = usize::try_from(offset).map_err(|_| failed())?;
                let end = start.checked_add(land).ok_or_else(failed)?;
                if d.working.len() < end {
                    d.working.resize(end, 0);
                }
                d.working[start..end].copy_from_slice(&data[..land]);
                d.unsynced.push(start..end);
                Ok::<_, std::io::Error>(())
            })?;
        }
        if ok { Ok(()) } else { Err(failed()) }
    }
}
