//! CRD schema admission: structural check, validation, pruning, defaulting and CEL rules.
