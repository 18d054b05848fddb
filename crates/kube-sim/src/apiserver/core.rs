//! The server core: the store plus the seeded randomness of uids and generated names, behind
//! one lock. Write operations are methods of [`Core`] (see `write`, `delete`, `crd`, `gc`).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{resources::ResourceInfo, store::Store};

/// Which endpoint of an object a request addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    /// The object itself.
    Main,
    /// `/status`.
    Status,
    /// A pod's `/binding`: sets `spec.nodeName` and the `PodScheduled` condition together.
    Binding,
}

impl Sub {
    /// Name of the subresource in managedFields (empty for the main resource).
    pub fn name(self) -> &'static str {
        match self {
            Sub::Main => "",
            Sub::Status => "status",
            Sub::Binding => "binding",
        }
    }
}

/// The resource, version and namespace a request addresses.
#[derive(Clone)]
pub struct Target {
    /// The resource.
    pub info: Arc<ResourceInfo>,
    /// API version in the path.
    pub version: String,
    /// Namespace in the path (empty for cluster-scoped or all namespaces).
    pub namespace: String,
    /// Subresource.
    pub sub: Sub,
}

impl Target {
    /// `apiVersion` of objects served through this target.
    pub fn api_version(&self) -> String {
        self.info.api_version(&self.version)
    }

    /// Scope of field ownership of a write through this target.
    pub fn scope(&self) -> super::fieldset::Scope {
        use super::fieldset::Scope;
        match (self.sub, self.info.status_subresource) {
            (Sub::Status, _) => Scope::StatusOnly,
            (Sub::Binding, _) => Scope::All,
            (Sub::Main, true) => Scope::NoStatus,
            (Sub::Main, false) => Scope::All,
        }
    }
}

/// Options common to writes.
#[derive(Clone, Debug)]
pub struct WriteOpts {
    /// `dryRun=All`: compute and return the result without storing it.
    pub dry_run: bool,
    /// Field manager of the write.
    pub manager: String,
    /// `fieldValidation` and the duplicate fields of the body.
    pub fields: super::validation::FieldCheck,
}

/// Store and randomness under one lock.
pub struct Core {
    /// Objects and history.
    pub store: Store,
    rng: ChaCha8Rng,
    /// uids of objects removed since the last garbage collection pass.
    pub deleted: Vec<String>,
    /// `Warning` headers of the current write (`fieldValidation=Warn`); the handler takes them.
    pub warnings: Vec<String>,
}

impl Core {
    /// A core keeping `history` changes, with uids drawn from `seed`.
    pub fn new(history: usize, seed: u64) -> Self {
        Core {
            store: Store::new(history),
            rng: ChaCha8Rng::seed_from_u64(seed),
            deleted: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A new uid in UUID v4 form.
    pub fn uid(&mut self) -> String {
        let mut b: [u8; 16] = self.rng.random();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Five random characters for `generateName`, from the alphabet the real server uses.
    pub fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..5)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }
}
