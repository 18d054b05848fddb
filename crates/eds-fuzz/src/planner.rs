//! `plan()` on cluster histories built from arbitrary data.
//!
//! The input is a spec and a script: plans applied as the controller would apply them, clock
//! advances, template and strategy edits, steering annotations, nodes added, removed, cordoned,
//! tainted and relabelled, node overrides, pods crashing, failing, unready, deleted, doubled
//! or terminating, Settings and ERSs appearing or going away. Every plan of the script is
//! checked against the invariants of [`invariants`]; the script is capped so one input stays
//! well under a second.

mod input;
mod invariants;
mod script;

use arbitrary::{Arbitrary, Unstructured};

pub use input::{Action, Amount, CanaryIn, EdsAnnotation, Input, Spec};

/// Most actions of one input.
pub const MAX_ACTIONS: usize = 48;
/// Most nodes at the start.
pub const MAX_NODES: u8 = 8;

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    script::play(&input);
}
