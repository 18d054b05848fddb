//! The `kubectl eds` plugin verbs.
