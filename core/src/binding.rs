//! What the project's own bindings (the Python package) need from the
//! columnar paths and nothing else should: the float64 block path, the
//! column-at-a-time decision rows, the flagged float conversion. Hidden
//! from the documentation and outside the API's stability promise: these
//! may change in any release.

pub use crate::batch::{FloatBlocks, FloatColumns, TimeColumn};
pub use crate::lanes::DecisionRows;
pub use crate::money::{floats_to_minor_flags, FLAG_FAST, FLAG_LOOK, FLAG_NAN};
