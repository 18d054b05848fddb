//! Rendering of plans: grouped unified diffs, per-node table, JSON.
