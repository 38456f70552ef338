//! The `AUDIT_LOG_FILE` sink: JSON lines appended to a file that logrotate may move away at any
//! time, plus the head anchor beside it.

use super::chain::{self, Head};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Audit files are readable by their owner only: records name callers and what they did.
const PRIVATE: u32 = 0o600;

/// An append-only JSON-lines file that follows rotation: before each write it checks that the
/// path still names the file it holds open, and reopens (creating a fresh file) when logrotate
/// has renamed or removed it. `copytruncate` needs nothing: appends land at the new end.
pub struct FileSink {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
    head: HeadFile,
    /// `<file>.lock`, held locked while this process writes the log.
    _lock: File,
    /// What opening found at the end of the log and mended (see `mend_torn_tail`).
    pub mended_tail: MendedTail,
}

/// The end of a log a killed writer left mid-record (a kill during `write` can stop it between
/// pages, so a record may be cut anywhere): the next record would be glued to it and the line
/// would fail verification. Opening the log mends that before anything is appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MendedTail {
    /// The log ended with a newline (or was empty): nothing to mend.
    #[default]
    Whole,
    /// The last record was whole but its newline was not written: the newline was added.
    NewlineAdded,
    /// The last record was cut short: its this-many bytes were removed. It was never anchored
    /// (the head anchor is written after a record), so the chain before it stays whole.
    CutRecordRemoved(u64),
}

impl MendedTail {
    /// What was mended, in words for the `chain_start` record; `None` when nothing was.
    pub fn described(self) -> Option<String> {
        match self {
            MendedTail::Whole => None,
            MendedTail::NewlineAdded => {
                Some("the last record's newline was missing and was added".to_string())
            }
            MendedTail::CutRecordRemoved(bytes) => Some(format!(
                "a record cut short by a crash ({bytes} bytes, never anchored) was removed"
            )),
        }
    }
}

/// Mends a log whose last line has no newline: completes a whole record, removes a cut one.
/// Leaves alone a last line longer than any record (1 MiB): that is not a torn write, and the
/// verifier should see it.
pub(super) fn mend_torn_tail(file: &File) -> std::io::Result<MendedTail> {
    use std::os::unix::fs::FileExt;
    const MOST: u64 = 1024 * 1024;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(MOST);
    let mut tail = vec![0u8; (len - start) as usize];
    file.read_exact_at(&mut tail, start)?;
    if tail.last().is_none_or(|b| *b == b'\n') {
        return Ok(MendedTail::Whole);
    }
    let line_start = match tail.iter().rposition(|b| *b == b'\n') {
        Some(i) => start + i as u64 + 1,
        None if start == 0 => 0,
        None => return Ok(MendedTail::Whole),
    };
    let last = &tail[(line_start - start) as usize..];
    let whole = std::str::from_utf8(last)
        .ok()
        .and_then(sealed_record)
        .is_some();
    if whole {
        file.write_all_at(b"\n", len)?;
        Ok(MendedTail::NewlineAdded)
    } else {
        file.set_len(line_start)?;
        Ok(MendedTail::CutRecordRemoved(len - line_start))
    }
}

/// The head anchor's file, rewritten in place: one `pwrite` of a fixed-size, space-padded block
/// per record. Creating a temporary file and renaming it over the anchor cost a third of a
/// millisecond per tool call; a single write of one block within one page is not torn in
/// practice, and a torn anchor would only make the verifier complain, never hide a cut.
struct HeadFile {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
}

/// Size of the anchor block: the JSON (about 180 bytes) padded with spaces, then a newline.
const HEAD_BLOCK: usize = 256;

impl HeadFile {
    fn open(path: PathBuf) -> std::io::Result<HeadFile> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .mode(PRIVATE)
            .open(&path)?;
        let meta = file.metadata()?;
        Ok(HeadFile {
            path,
            file,
            identity: (meta.dev(), meta.ino()),
        })
    }

    fn write(&mut self, head: &Head) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        // Someone removed or replaced the anchor: write a fresh one at the path.
        let current = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.ok() != Some(self.identity) {
            *self = HeadFile::open(self.path.clone())?;
        }
        let mut block = serde_json::to_vec(head).unwrap_or_default();
        if block.len() >= HEAD_BLOCK {
            return Err(std::io::Error::other("head anchor larger than its block"));
        }
        block.resize(HEAD_BLOCK - 1, b' ');
        block.push(b'\n');
        self.file.write_all_at(&block, 0)?;
        if self.file.metadata()?.len() > HEAD_BLOCK as u64 {
            self.file.set_len(HEAD_BLOCK as u64)?;
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<(File, (u64, u64))> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(PRIVATE)
        .open(path)?;
    let meta = file.metadata()?;
    Ok((file, (meta.dev(), meta.ino())))
}

impl FileSink {
    /// Opens (or creates) `path` for appending, after [`check_path`]; refuses a log that
    /// another process is writing (two writers would interleave duplicate `seq` values).
    pub fn open(path: PathBuf) -> std::io::Result<FileSink> {
        check_path(&path)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE)
            .open(lock_path(&path))?;
        if !lock_soon(&lock) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ResourceBusy,
                format!(
                    "another process is writing this audit log ({} is locked): give each server process its own AUDIT_LOG_FILE (two stdio sessions from one client configuration need two)",
                    lock_path(&path).display()
                ),
            ));
        }
        let (file, identity) = open_append(&path)?;
        // Only the lock holder may mend: another writer's record could be in flight.
        let mended_tail = mend_torn_tail(&OpenOptions::new().read(true).write(true).open(&path)?)?;
        Ok(FileSink {
            head: HeadFile::open(chain::head_path(&path))?,
            path,
            file,
            identity,
            _lock: lock,
            mended_tail,
        })
    }

    /// Reopens the path if the file was moved or removed; fails when it cannot be (directory
    /// gone, no permission).
    pub fn reopen_if_moved(&mut self) -> std::io::Result<()> {
        self.follow_rotation()
    }

    fn follow_rotation(&mut self) -> std::io::Result<()> {
        let current = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.ok() != Some(self.identity) {
            let (file, identity) = open_append(&self.path)?;
            self.file = file;
            self.identity = identity;
        }
        Ok(())
    }

    /// Appends one line (reopening first if the file was rotated).
    pub fn append(&mut self, line: &str) -> std::io::Result<()> {
        self.follow_rotation()?;
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        // One write call per record, so a concurrent reader never sees half a line.
        self.file.write_all(&buf)
    }

    /// Rewrites the head anchor to point at the record just appended.
    pub fn write_head(&mut self, head: &Head) -> std::io::Result<()> {
        self.head.write(head)
    }
}

/// Takes the lock on `lock`, waiting up to half a second for a holder that is going away: a
/// process spawned an instant before the last holder closed it keeps a copy of the descriptor
/// until its `exec`, and a supervisor's restart can overlap the old process's exit. A holder still
/// there after that is another writer.
pub(super) fn lock_soon(lock: &File) -> bool {
    for _ in 0..20 {
        if lock.try_lock().is_ok() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    lock.try_lock().is_ok()
}

/// `<file>.lock`: locked by the process writing the log.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Refuses an audit log path that is not a regular file (a device such as `/dev/full` would be
/// read without end at start-up; `/dev/stdout` would get a `/dev/stdout.head` beside it).
pub fn check_path(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is not a regular file (a device, pipe or directory): point AUDIT_LOG_FILE at a file; for the trail on stderr, leave it unset",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// Where a chain left off: the last record's `seq` and MAC, read from the end of the log, or
/// from the head anchor when the log was just rotated away (or is empty).
///
/// Refuses a log that ends before its anchor: records were cut from its tail, and resuming
/// would overwrite the anchor, the only evidence of the cut.
pub fn resume_point(path: &Path) -> std::io::Result<(u64, String)> {
    check_path(path)?;
    let anchor = std::fs::read_to_string(chain::head_path(path))
        .ok()
        .and_then(|t| serde_json::from_str::<Head>(t.trim()).ok());
    match (last_record(path), anchor) {
        (Some((seq, _)), Some(head)) if seq < head.seq => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} ends at seq {seq} but its head anchor says the chain reached seq {}: records were cut from the end. Check it with `mcp-defectdojo audit verify`; to start a new log, move the log and its .head aside",
                path.display(),
                head.seq
            ),
        )),
        (Some(point), _) => Ok(point),
        (None, Some(head)) => Ok((head.seq, head.integrity_hmac)),
        (None, None) => Ok((0, String::new())),
    }
}

fn last_record(path: &Path) -> Option<(u64, String)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    // The last record is short; 256 KiB from the end is plenty and bounds startup on huge logs.
    let start = len.saturating_sub(256 * 1024);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    text.lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .find_map(sealed_record)
}

/// A line's `seq` and MAC when it is a whole sealed record; `None` for anything else (a line cut
/// short, or not a record).
fn sealed_record(line: &str) -> Option<(u64, String)> {
    let (canonical, mac) = chain::unseal(line)?;
    let record: serde_json::Value = serde_json::from_str(&canonical).ok()?;
    Some((record["seq"].as_u64()?, mac.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_anchor_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut sink = FileSink::open(path.clone()).unwrap();
        sink.write_head(&Head::new(b"k", 1, "aa")).unwrap();
        sink.write_head(&Head::new(b"k", 2, "bb")).unwrap();
        let text = std::fs::read_to_string(chain::head_path(&path)).unwrap();
        assert_eq!(text.len(), HEAD_BLOCK);
        let head: Head = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(head, Head::new(b"k", 2, "bb"));
        // Removed by someone: the next record writes a fresh anchor.
        std::fs::remove_file(chain::head_path(&path)).unwrap();
        sink.write_head(&Head::new(b"k", 3, "cc")).unwrap();
        let text = std::fs::read_to_string(chain::head_path(&path)).unwrap();
        assert_eq!(serde_json::from_str::<Head>(text.trim()).unwrap().seq, 3);
    }

    #[test]
    fn files_are_private_locked_and_regular() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let sink = FileSink::open(path.clone()).unwrap();
        for p in [path.clone(), chain::head_path(&path)] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let second = FileSink::open(path.clone())
            .err()
            .expect("a second writer is refused");
        assert!(second.to_string().contains("another process"), "{second}");
        drop(sink);
        FileSink::open(path).expect("free again once the first writer is gone");
        let device = FileSink::open(PathBuf::from("/dev/null")).err().unwrap();
        assert!(
            device.to_string().contains("not a regular file"),
            "{device}"
        );
        assert!(resume_point(Path::new("/dev/zero")).is_err());
    }

    #[test]
    fn follows_logrotate_moves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut sink = FileSink::open(path.clone()).unwrap();
        sink.append("one").unwrap();
        std::fs::rename(&path, dir.path().join("audit.jsonl.1")).unwrap();
        sink.append("two").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("audit.jsonl.1")).unwrap(),
            "one\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        std::fs::remove_file(&path).unwrap();
        sink.append("three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
    }
}
