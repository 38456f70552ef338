//! A bounded on-disk FIFO of audit lines for one forwarder: every record bound for a SIEM is
//! appended here first and removed only once the SIEM has taken it, so an outage, an open circuit
//! breaker or a restart loses nothing. When the spool is full the newest record is dropped (and
//! the caller records the drop).
//!
//! Files: `<name>.spool` (JSON lines), `<name>.spool.offset` (decimal byte offset of the first
//! undelivered line, replaced atomically) and `<name>.spool.lock`, locked for as long as the spool is
//! open so two server processes cannot share (and corrupt) one spool.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// One forwarder's spool.
pub struct Spool {
    /// Held open and locked while the spool is in use; the lock goes with the process.
    _lock: File,
    path: PathBuf,
    offset_path: PathBuf,
    file: File,
    len: u64,
    offset: u64,
    max_bytes: u64,
}

impl Spool {
    /// Opens the spool `name` in `dir` (created if needed), keeping what an earlier run left.
    pub fn open(dir: &Path, name: &str, max_bytes: u64) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{name}.spool.lock")))?;
        if !super::file::lock_soon(&lock) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ResourceBusy,
                "another process is using this spool: give each server process its own AUDIT_SPOOL_DIR",
            ));
        }
        let path = dir.join(format!("{name}.spool"));
        let offset_path = dir.join(format!("{name}.spool.offset"));
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        // A crash inside `write` can leave the last line cut: the next line would be glued to it
        // and reach the collector as one broken record. (Writes to an append-only file land at
        // its end, which is where a missing newline goes.)
        let mended = super::file::mend_torn_tail(&file)?;
        if mended != super::file::MendedTail::Whole {
            tracing::warn!(spool = %path.display(), ?mended, "audit spool ended mid-record; mended");
        }
        let len = file.metadata()?.len();
        let offset = std::fs::read_to_string(&offset_path)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .filter(|o| *o <= len)
            .unwrap_or(0);
        Ok(Spool {
            _lock: lock,
            path,
            offset_path,
            file,
            len,
            offset,
            max_bytes,
        })
    }

    /// Bytes waiting to be delivered.
    pub fn pending_bytes(&self) -> u64 {
        self.len - self.offset
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending_bytes() == 0
    }

    /// Appends `line`; `Ok(false)` when the spool is full and the line was dropped.
    pub fn append(&mut self, line: &str) -> std::io::Result<bool> {
        let size = line.len() as u64 + 1;
        if self.pending_bytes() + size > self.max_bytes {
            return Ok(false);
        }
        if self.len + size > self.max_bytes.saturating_mul(2) {
            self.compact()?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.file.write_all(&buf)?;
        self.len += size;
        Ok(true)
    }

    /// Up to `max_lines` of the oldest undelivered lines. Reads only as far as those lines go,
    /// so a large backlog is not re-read for every small batch.
    pub fn peek(&mut self, max_lines: usize) -> std::io::Result<Vec<String>> {
        use std::os::unix::fs::FileExt;
        const CHUNK: u64 = 64 * 1024;
        let mut lines = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut at = self.offset;
        while lines.len() < max_lines && at < self.len {
            let start = pending.len();
            let n = CHUNK.min(self.len - at);
            pending.resize(start + n as usize, 0);
            self.file.read_exact_at(&mut pending[start..], at)?;
            at += n;
            let mut taken = 0;
            while lines.len() < max_lines {
                let Some(end) = pending[taken..].iter().position(|b| *b == b'\n') else {
                    break;
                };
                lines.push(String::from_utf8_lossy(&pending[taken..taken + end]).into_owned());
                taken += end + 1;
            }
            // Keep only the unfinished line for the next chunk.
            pending.drain(..taken);
        }
        Ok(lines)
    }

    /// Marks `lines`, the oldest ones returned by [`Spool::peek`], as delivered; empties the
    /// files once everything is.
    pub fn consume(&mut self, lines: &[String]) -> std::io::Result<()> {
        let bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();
        self.offset = (self.offset + bytes).min(self.len);
        if self.is_empty() {
            self.file.set_len(0)?;
            self.len = 0;
            self.offset = 0;
        }
        self.save_offset()
    }

    fn save_offset(&self) -> std::io::Result<()> {
        let tmp = self.offset_path.with_extension("offset.tmp");
        std::fs::write(&tmp, self.offset.to_string())?;
        std::fs::rename(&tmp, &self.offset_path)
    }

    /// Rewrites the spool without its delivered head, so it never grows past twice its bound.
    fn compact(&mut self) -> std::io::Result<()> {
        let mut rest = Vec::with_capacity(self.pending_bytes() as usize);
        let mut reader = &self.file;
        reader.seek(SeekFrom::Start(self.offset))?;
        reader.read_to_end(&mut rest)?;
        let tmp = self.path.with_extension("spool.tmp");
        std::fs::write(&tmp, &rest)?;
        std::fs::rename(&tmp, &self.path)?;
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)?;
        self.len = rest.len() as u64;
        self.offset = 0;
        self.save_offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_bounded_and_durable() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), "s", 20).unwrap();
        assert!(spool.append("aaaa").unwrap());
        assert!(spool.append("bbbb").unwrap());
        assert!(spool.append("cccc").unwrap());
        assert!(spool.append("dddd").unwrap());
        assert!(!spool.append("eeee").unwrap(), "full: 20 bytes pending");
        let lines = spool.peek(2).unwrap();
        assert_eq!(lines, ["aaaa", "bbbb"]);
        spool.consume(&lines).unwrap();
        drop(spool);

        // A restart resumes after what was delivered.
        let mut spool = Spool::open(dir.path(), "s", 20).unwrap();
        assert!(spool.append("ffff").unwrap());
        let lines = spool.peek(10).unwrap();
        assert_eq!(lines, ["cccc", "dddd", "ffff"]);
        spool.consume(&lines).unwrap();
        assert!(spool.is_empty());
        assert_eq!(
            std::fs::metadata(dir.path().join("s.spool")).unwrap().len(),
            0
        );
    }

    #[test]
    fn a_line_cut_by_a_crash_is_not_glued_to_the_next() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), "s", 1024).unwrap();
        assert!(spool.append("aaaa").unwrap());
        drop(spool);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join("s.spool"))
            .unwrap();
        file.write_all(b"{\"seq\":2,\"cut").unwrap();
        let mut spool = Spool::open(dir.path(), "s", 1024).unwrap();
        assert!(spool.append("cccc").unwrap());
        assert_eq!(spool.peek(10).unwrap(), ["aaaa", "cccc"]);
    }

    #[test]
    fn peek_reads_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), "s", 10 * 1024 * 1024).unwrap();
        // Lines longer than a read chunk, and many of them.
        let long = "x".repeat(100 * 1024);
        for i in 0..5 {
            assert!(spool.append(&format!("{i}{long}")).unwrap());
        }
        let lines = spool.peek(3).unwrap();
        assert_eq!(lines.len(), 3);
        assert!(lines
            .iter()
            .enumerate()
            .all(|(i, l)| l.starts_with(&i.to_string()) && l.len() == long.len() + 1));
        spool.consume(&lines[..1]).unwrap();
        assert!(spool.peek(1).unwrap()[0].starts_with('1'));
    }

    #[test]
    fn one_process_per_spool() {
        let dir = tempfile::tempdir().unwrap();
        let first = Spool::open(dir.path(), "s", 10).unwrap();
        let second = Spool::open(dir.path(), "s", 10)
            .err()
            .expect("the spool is taken");
        assert_eq!(second.kind(), std::io::ErrorKind::ResourceBusy);
        drop(first);
        assert!(
            Spool::open(dir.path(), "s", 10).is_ok(),
            "free again once closed"
        );
    }

    #[test]
    fn compaction_keeps_order_and_bounds_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // Room for two 5-byte lines; one always stays undelivered, so only compaction keeps
        // the file from growing.
        let mut spool = Spool::open(dir.path(), "s", 10).unwrap();
        assert!(spool.append("0000").unwrap());
        for i in 1..50 {
            assert!(spool.append(&format!("{i:04}")).unwrap());
            let lines = spool.peek(1).unwrap();
            assert_eq!(lines, [format!("{:04}", i - 1)]);
            spool.consume(&lines).unwrap();
        }
        assert!(std::fs::metadata(dir.path().join("s.spool")).unwrap().len() <= 20);
        assert_eq!(spool.peek(5).unwrap(), ["0049"]);
    }
}
