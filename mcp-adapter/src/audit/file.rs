//! The `AUDIT_LOG_FILE` sink: JSON lines appended to a file that logrotate may move away at any
//! time, plus the head anchor beside it.

use super::chain::{self, Head};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// An append-only JSON-lines file that follows rotation: before each write it checks that the
/// path still names the file it holds open, and reopens (creating a fresh file) when logrotate
/// has renamed or removed it. `copytruncate` needs nothing: appends land at the new end.
pub struct FileSink {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
    head: HeadFile,
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
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let meta = file.metadata()?;
    Ok((file, (meta.dev(), meta.ino())))
}

impl FileSink {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: PathBuf) -> std::io::Result<FileSink> {
        let (file, identity) = open_append(&path)?;
        Ok(FileSink {
            head: HeadFile::open(chain::head_path(&path))?,
            path,
            file,
            identity,
        })
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

/// Where a chain left off: the last record's `seq` and MAC, read from the end of the log, or
/// from the head anchor when the log was just rotated away (or is empty).
pub fn resume_point(path: &Path) -> (u64, String) {
    if let Some(point) = last_record(path) {
        return point;
    }
    std::fs::read_to_string(chain::head_path(path))
        .ok()
        .and_then(|t| serde_json::from_str::<Head>(t.trim()).ok())
        .map(|h| (h.seq, h.integrity_hmac))
        .unwrap_or_default()
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
        .find_map(|line| {
            let (canonical, mac) = chain::unseal(line)?;
            let record: serde_json::Value = serde_json::from_str(&canonical).ok()?;
            Some((record["seq"].as_u64()?, mac.to_string()))
        })
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
