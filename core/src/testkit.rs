//! Proptest strategies and invariant checks for user constraint sets (feature `testkit`).
