//! The compiled, flat form of a policy's rules for one segment: integers in
//! minor units and exact rationals, `Copy`, no strings, no maps. The types
//! live with the rules that read them (`rules::params`); this module is
//! their public path.

pub use crate::rules::params::{CompiledRules, Endings, Ratio, MAX_ENDINGS};
