//! Rules a Rust caller defines: a name, a class and bounds from the item.

use super::Class;
use crate::item::Item;

/// First bit of custom rules in a [`RuleSet`](super::RuleSet).
pub const CUSTOM_BASE: usize = 32;
/// Most custom rules one evaluation composes.
pub const MAX_CUSTOM_RULES: usize = 32;

/// A bound a custom rule sets for one item, in the item's own units:
/// minor units, or `10^-scale` minor units for an item whose money is
/// finer ([`Item::scale`], docs/spec.md M1), the units its values are read
/// in. The engine rounds it onto the tick in the safe direction (lower
/// up, upper down).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomBound {
    /// Lower bound, if any.
    pub lo: Option<i64>,
    /// Upper bound, if any.
    pub hi: Option<i64>,
}

/// A user-defined rule for Rust callers: a stable name, a class, and the
/// bounds it sets for an item. It is relaxed with its class, reported in
/// `violated` / `binding` like a built-in rule, and rules of the stability
/// and market classes are skipped for pinned items, as built-ins are.
///
/// ```
/// use priceguard::engine::{CustomBound, CustomRule};
/// use priceguard::{Class, Item, Policy};
///
/// /// Key-value items (segment 1) are never priced above the competitor.
/// struct NeverAboveCompetitor;
///
/// impl CustomRule for NeverAboveCompetitor {
///     fn name(&self) -> &'static str { "kvi_competitor_ceiling" }
///     fn class(&self) -> Class { Class::Market }
///     fn bounds(&self, item: &Item) -> CustomBound {
///         match (item.segment(), item.competitor_price()) {
///             (Some(1), Some(k)) => CustomBound { lo: None, hi: Some(k) },
///             _ => CustomBound::default(),
///         }
///     }
/// }
///
/// let policy = Policy::from_toml_str(r#"
///     name = "kvi"
///     currency = "USD"
///     bounds = { min_price = "1", max_price = "100" }
/// "#).unwrap();
/// let item = Item::new(1299).with_segment(1).with_competitor_price(1249);
/// let d = policy.evaluate_with(&item, &[&NeverAboveCompetitor]);
/// assert_eq!(d.price, Some(1249));
/// assert_eq!(d.binding.custom_names(&[&NeverAboveCompetitor]).next(), Some("kvi_competitor_ceiling"));
/// ```
pub trait CustomRule {
    /// The stable name reported for this rule.
    fn name(&self) -> &'static str;
    /// The class it belongs to (`Cosmetic` is treated as `Market`).
    fn class(&self) -> Class;
    /// The bounds for `item`, in the units of its money values (minor
    /// units unless [`Item::scale`] says finer; see [`CustomBound`]).
    fn bounds(&self, item: &Item) -> CustomBound;
}
