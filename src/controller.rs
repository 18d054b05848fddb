//! Controller runtime: watches, reconcile, server-side-apply executor, status, events, metrics.
