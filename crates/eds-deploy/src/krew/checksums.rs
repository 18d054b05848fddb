//! The sha256 of the release archives, read from a file in the format `sha256sum` writes: one
//! `<64 hex digits>  <file name>` per line (`<digest> *<file name>` in binary mode).

use std::collections::BTreeMap;

use super::Error;

/// sha256 digests by archive file name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checksums {
    digests: BTreeMap<String, String>,
}

impl Checksums {
    /// Parses `sha256sum` output. File names are reduced to their last path component, so
    /// `sha256sum dist/*` works as well as running it in the archive directory; blank lines
    /// are skipped.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut checksums = Self::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim_end();
            if line.trim_start().is_empty() {
                continue;
            }
            let malformed = |reason: &str| Error::Malformed {
                line: number,
                reason: reason.to_string(),
            };
            let (digest, rest) = line
                .split_once(|c: char| c.is_ascii_whitespace())
                .ok_or_else(|| malformed("no file name after the sha256"))?;
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::BadDigest {
                    line: number,
                    digest: digest.to_string(),
                });
            }
            let name = rest.trim_start();
            // `*` marks binary mode in sha256sum's output; it is not part of the name.
            let name = name.strip_prefix('*').unwrap_or(name);
            let name = name.rsplit(['/', '\\']).next().unwrap_or_default();
            if name.is_empty() {
                return Err(malformed("no file name after the sha256"));
            }
            checksums.insert(name, digest, number)?;
        }
        Ok(checksums)
    }

    fn insert(&mut self, name: &str, digest: &str, line: usize) -> Result<(), Error> {
        // sha256sum prints lowercase; krew accepts only lowercase.
        let digest = digest.to_ascii_lowercase();
        match self.digests.get(name) {
            Some(known) if *known != digest => Err(Error::ConflictingDigest {
                line,
                archive: name.to_string(),
            }),
            Some(_) => Ok(()),
            None => {
                self.digests.insert(name.to_string(), digest);
                Ok(())
            }
        }
    }

    /// The sha256 of `archive` (a file name, no directory), lowercase.
    pub fn get(&self, archive: &str) -> Option<&str> {
        self.digests.get(archive).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    #[test]
    fn reads_text_and_binary_mode_lines_and_strips_directories() {
        let text = format!("{A}  a.tar.gz\n\n{B} *dist/b.zip\r\n");
        let checksums = Checksums::parse(&text).unwrap();
        assert_eq!(checksums.get("a.tar.gz"), Some(A));
        assert_eq!(checksums.get("b.zip"), Some(B));
        assert_eq!(checksums.get("dist/b.zip"), None);
        assert_eq!(checksums.get("c.zip"), None);
    }

    #[test]
    fn uppercase_digests_are_stored_lowercase() {
        let text = format!("{}  a.tar.gz\n", A.to_uppercase());
        assert_eq!(Checksums::parse(&text).unwrap().get("a.tar.gz"), Some(A));
    }

    #[test]
    fn a_line_without_a_file_name_is_malformed_and_named_by_number() {
        let text = format!("{A}  a.tar.gz\n{B}\n");
        let error = Checksums::parse(&text).unwrap_err();
        assert!(matches!(error, Error::Malformed { line: 2, .. }), "{error}");
        assert!(error.to_string().contains("line 2"), "{error}");
        let error = Checksums::parse(&format!("{B}  dist/\n")).unwrap_err();
        assert!(matches!(error, Error::Malformed { line: 1, .. }), "{error}");
    }

    #[test]
    fn digests_that_are_not_64_hex_digits_are_rejected() {
        for digest in [&A[..63], &format!("{}g", &A[..63]), "SHA256"] {
            let error = Checksums::parse(&format!("{digest}  a.tar.gz\n")).unwrap_err();
            match &error {
                Error::BadDigest { line: 1, digest: d } => assert_eq!(d, digest),
                other => panic!("{digest}: {other}"),
            }
        }
    }

    #[test]
    fn the_same_archive_with_two_digests_is_an_error_but_a_repeat_is_not() {
        let repeat = format!("{A}  a.tar.gz\n{A}  a.tar.gz\n");
        assert_eq!(Checksums::parse(&repeat).unwrap().get("a.tar.gz"), Some(A));
        let conflict = format!("{A}  a.tar.gz\n{B}  other/a.tar.gz\n");
        let error = Checksums::parse(&conflict).unwrap_err();
        assert!(
            matches!(&error, Error::ConflictingDigest { line: 2, archive } if archive == "a.tar.gz"),
            "{error}"
        );
    }
}
