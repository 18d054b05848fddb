//! Reproducible tar archives: the image layer and the `oci-archive` around the layout.
//!
//! Every entry gets the same owner (0:0), no user or group names, the same mtime
//! (`SOURCE_DATE_EPOCH`) and a mode chosen here rather than read from the disk, and entries are
//! written sorted by path: the bytes depend only on the contents, so building twice gives the
//! same digest.

use std::io::Write;

use anyhow::{Context, Result};
use flate2::{Compression, GzBuilder};

/// One entry of an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A directory (`path` ends with `/`), with its mode.
    Dir { path: String, mode: u32 },
    /// A regular file, with its mode and contents.
    File {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
}

impl Entry {
    /// A directory entry.
    pub fn dir(path: &str, mode: u32) -> Self {
        let path = if path.ends_with('/') {
            path.to_string()
        } else {
            format!("{path}/")
        };
        Self::Dir { path, mode }
    }

    /// A file entry.
    pub fn file(path: &str, mode: u32, data: Vec<u8>) -> Self {
        Self::File {
            path: path.to_string(),
            mode,
            data,
        }
    }

    fn path(&self) -> &str {
        match self {
            Self::Dir { path, .. } | Self::File { path, .. } => path,
        }
    }
}

/// The tar archive (POSIX ustar) of `entries`, sorted by path, every entry owned by 0:0 and
/// modified at `mtime`.
pub fn tar(mut entries: Vec<Entry>, mtime: u64) -> Result<Vec<u8>> {
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in &entries {
        let mut header = tar::Header::new_ustar();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        let (data, mode, kind): (&[u8], u32, tar::EntryType) = match entry {
            Entry::Dir { mode, .. } => (&[], *mode, tar::EntryType::Directory),
            Entry::File { mode, data, .. } => (data, *mode, tar::EntryType::Regular),
        };
        header.set_mode(mode);
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        builder
            .append_data(&mut header, entry.path(), data)
            .with_context(|| format!("cannot add {} to the archive", entry.path()))?;
    }
    Ok(builder.into_inner()?)
}

/// `data` compressed with gzip, with no file name and a zero mtime in the gzip header.
pub fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(archive: &[u8]) -> Vec<(String, u64, u32, u64)> {
        let mut archive = tar::Archive::new(archive);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.uid().unwrap(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_owned_by_root_and_dated_by_the_epoch() {
        let entries = vec![
            Entry::file("b", 0o755, b"bin".to_vec()),
            Entry::dir("a", 0o755),
            Entry::file("a/x", 0o644, b"x".to_vec()),
        ];
        let archive = tar(entries, 1_700_000_000).unwrap();
        assert_eq!(
            names(&archive),
            vec![
                ("a/".to_string(), 0, 0o755, 1_700_000_000),
                ("a/x".to_string(), 0, 0o644, 1_700_000_000),
                ("b".to_string(), 0, 0o755, 1_700_000_000),
            ]
        );
    }

    #[test]
    fn same_entries_in_another_order_give_the_same_bytes() {
        let one = vec![Entry::file("b", 0o644, vec![1]), Entry::dir("a", 0o755)];
        let two = vec![Entry::dir("a", 0o755), Entry::file("b", 0o644, vec![1])];
        assert_eq!(tar(one, 5).unwrap(), tar(two.clone(), 5).unwrap());
        assert_ne!(tar(two.clone(), 5).unwrap(), tar(two, 6).unwrap());
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        let data = vec![7u8; 10_000];
        let a = gzip(&data).unwrap();
        assert_eq!(a, gzip(&data).unwrap());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&a[..]), &mut out).unwrap();
        assert_eq!(out, data);
    }
}
