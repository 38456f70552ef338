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
    head_path: PathBuf,
    file: File,
    identity: (u64, u64),
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
            head_path: chain::head_path(&path),
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

    /// Replaces the head anchor atomically (write a temporary file, then rename over).
    pub fn write_head(&self, head: &Head) -> std::io::Result<()> {
        let mut tmp = self.head_path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, serde_json::to_vec(head).unwrap_or_default())?;
        std::fs::rename(&tmp, &self.head_path)
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
