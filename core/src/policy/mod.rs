//! Policies: the file model ([`PolicySpec`]), parsing, validation, and the
//! compiled [`Policy`] that evaluates items.

use alloc::string::String;
use alloc::vec::Vec;

mod compile;
mod error;
pub(crate) mod hash;
mod input;
#[cfg(feature = "serde")]
mod parse;
pub mod spec;

pub use error::{PolicyError, PolicyErrorKind, MAX_POLICY_BYTES};
pub use input::FieldError;
#[cfg(feature = "serde")]
pub use parse::{spec_from_json, spec_from_toml, toml_offset};
pub use spec::PolicySpec;

use crate::compiled::{CompiledRules, Ratio};
use crate::decision::Decision;
use crate::engine::{evaluate_rules, Budget};
use crate::item::{CampaignId, Item};
use crate::money::Currency;

/// Most campaigns in `promotion.budgets` (the ledger's fixed capacity).
pub const MAX_CAMPAIGNS: usize = 256;
/// Most entries in `segments`.
pub const MAX_SEGMENTS: usize = 1024;

/// The batch circuit breaker (docs/spec.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Breaker {
    /// Trip when more than this share of a batch violates a hard or financial rule.
    pub max_violation_ratio: Ratio,
    /// Batches smaller than this are never judged.
    pub min_batch: u64,
}

impl Breaker {
    /// `min_batch` when `[breaker]` leaves it out.
    pub const DEFAULT_MIN_BATCH: u64 = 100;

    /// Whether `violators` out of `items` trips the breaker.
    pub fn trips(&self, violators: u64, items: u64) -> bool {
        items >= self.min_batch
            && u128::from(violators) * self.max_violation_ratio.den.unsigned_abs() as u128
                > u128::from(items) * self.max_violation_ratio.num.unsigned_abs() as u128
    }
}

/// A validated, compiled policy. Immutable and `Sync`: share one across
/// threads.
///
/// ```
/// use priceguard::{Item, Outcome, Policy};
/// let policy = Policy::from_toml_str(r#"
///     name = "demo"
///     currency = "USD"
///     [bounds]
///     min_price = "0.99"
///     max_price = "5000"
///     [margin]
///     min_margin = "0.15"
/// "#).unwrap();
/// // proposed 12.49, cost 12.22: the margin floor is 12.22 / 0.85 = 14.376..., so 14.38
/// let d = policy.evaluate(&Item::new(1249).with_unit_cost(1222));
/// assert_eq!(d.outcome, Outcome::Adjusted);
/// assert_eq!(d.price, Some(1438));
/// ```
#[derive(Clone, Debug)]
pub struct Policy {
    name: String,
    version: String,
    currency: Currency,
    base: CompiledRules,
    segments: Vec<(u32, CompiledRules)>,
    /// The fast path's form of `base` then of each segment's rules, in
    /// order; `None` where the rules need the general engine.
    prepared: Vec<Option<crate::kernel::Prepared>>,
    campaigns: Vec<String>,
    budgets: Vec<i64>,
    breaker: Option<Breaker>,
    window_secs: Option<i64>,
    ladder: Option<crate::rules::ladder::Ladder>,
    spec: PolicySpec,
}

impl Policy {
    /// Validates and compiles a policy model.
    pub fn from_spec(spec: PolicySpec) -> Result<Policy, PolicyError> {
        compile::compile(spec)
    }

    /// Parses, validates and compiles a TOML policy. Validation errors carry
    /// the line and column of the offending key.
    #[cfg(feature = "serde")]
    pub fn from_toml_str(text: &str) -> Result<Policy, PolicyError> {
        let spec = spec_from_toml(text)?;
        Policy::from_spec(spec).map_err(|e| match toml_offset(text, &e.path) {
            Some(off) if e.line.is_none() && !e.path.is_empty() => e.at_offset(text, off),
            _ => e,
        })
    }

    /// Parses, validates and compiles a JSON policy.
    #[cfg(feature = "serde")]
    pub fn from_json_str(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_spec(spec_from_json(text)?)
    }

    /// Reads a policy file: JSON when the name ends in `.json`, else TOML.
    /// Refuses a file larger than [`MAX_POLICY_BYTES`] and anything that is
    /// not a regular file; [`PolicyError::kind`] tells a missing file from a
    /// bad one.
    #[cfg(feature = "serde")]
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyError> {
        Policy::from_path_limited(path, MAX_POLICY_BYTES)
    }

    /// [`Policy::from_path`] with a caller's cap on the file size in bytes.
    #[cfg(feature = "serde")]
    pub fn from_path_limited(
        path: impl AsRef<std::path::Path>,
        max_bytes: u64,
    ) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let text = read_policy_text(path, max_bytes)?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Policy::from_json_str(&text)
        } else {
            Policy::from_toml_str(&text)
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The policy's version (empty when the file gives none).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The policy currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The tick in minor units.
    pub fn tick(&self) -> i64 {
        self.base.tick
    }

    /// The model the policy was compiled from.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// The batch circuit breaker, when configured.
    pub fn breaker(&self) -> Option<Breaker> {
        self.breaker
    }

    /// The `[ladder]` table, when configured (docs/spec.md §10).
    pub fn ladder(&self) -> Option<crate::rules::ladder::Ladder> {
        self.ladder
    }

    /// `change.window_secs`, when configured.
    pub fn window_secs(&self) -> Option<i64> {
        self.window_secs
    }

    /// The compiled rules an item of `segment` is judged by: the segment's
    /// merged rules, or the policy's own for no segment or an id the policy
    /// does not list.
    #[inline]
    pub fn rules_for(&self, segment: Option<u32>) -> &CompiledRules {
        self.prepared_for(segment).0
    }

    /// The rules for `segment` and their prepared form, if they have one.
    #[inline]
    pub(crate) fn prepared_for(
        &self,
        segment: Option<u32>,
    ) -> (&CompiledRules, Option<&crate::kernel::Prepared>) {
        let found = segment.and_then(|id| {
            let i = self.segments.binary_search_by_key(&id, |(s, _)| *s).ok()?;
            let (_, rules) = self.segments.get(i)?;
            Some((rules, i + 1))
        });
        let (rules, slot) = found.unwrap_or((&self.base, 0));
        (rules, self.prepared.get(slot).and_then(Option::as_ref))
    }

    /// The segment ids the policy lists, ascending.
    pub fn segment_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().map(|(id, _)| *id)
    }

    /// Resolves a campaign name; [`CampaignId::UNKNOWN`] when the policy has
    /// no budget for it (such items are held).
    pub fn campaign_id(&self, name: &str) -> CampaignId {
        match self.campaigns.binary_search_by(|c| c.as_str().cmp(name)) {
            Ok(i) => CampaignId(u32::try_from(i).unwrap_or(u32::MAX)),
            Err(_) => CampaignId::UNKNOWN,
        }
    }

    /// The name of a campaign id.
    pub fn campaign_name(&self, id: CampaignId) -> Option<&str> {
        self.campaigns.get(id.0 as usize).map(String::as_str)
    }

    /// The configured budget of a campaign, minor units.
    pub fn budget(&self, id: CampaignId) -> Option<i64> {
        self.budgets.get(id.0 as usize).copied()
    }

    /// `(name, budget)` of every campaign, sorted by name; the index is the [`CampaignId`].
    pub fn campaigns(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.campaigns
            .iter()
            .map(String::as_str)
            .zip(self.budgets.iter().copied())
    }

    /// Number of campaigns.
    pub fn campaign_count(&self) -> usize {
        self.campaigns.len()
    }

    #[inline]
    pub(crate) fn budget_view(&self, item: &Item, remaining: Option<&[i64]>) -> Budget {
        match item.campaign() {
            None => Budget::None,
            Some(id) => {
                let table = remaining.unwrap_or(&self.budgets);
                match table.get(id.0 as usize) {
                    Some(b) if (id.0 as usize) < self.budgets.len() => Budget::Remaining(*b),
                    _ => Budget::Unknown,
                }
            }
        }
    }

    /// Evaluates one item, with each campaign's full configured budget
    /// available. Allocates nothing.
    #[inline]
    pub fn evaluate(&self, item: &Item) -> Decision {
        // The prepared fast path decides most items; the general engine,
        // the reference it is tested against, decides the rest.
        let (rules, prepared) = self.prepared_for(item.segment());
        if let Some(d) = prepared.and_then(|p| p.evaluate_item(item)) {
            return d;
        }
        evaluate_rules(rules, item, self.budget_view(item, None))
    }

    /// Evaluates one item with user-defined rules composed with the
    /// policy's (see [`CustomRule`](crate::engine::CustomRule)).
    #[inline]
    pub fn evaluate_with(
        &self,
        item: &Item,
        custom: &[&dyn crate::engine::CustomRule],
    ) -> Decision {
        crate::engine::evaluate_rules_with(
            self.rules_for(item.segment()),
            item,
            self.budget_view(item, None),
            custom,
        )
    }
}

/// Reads a policy file's text: a regular file of at most `max_bytes` bytes,
/// in UTF-8. The read itself is bounded too, so a file that grows while it
/// is read (or lies about its size) cannot take more than the cap.
#[cfg(feature = "std")]
pub fn read_policy_text(path: &std::path::Path, max_bytes: u64) -> Result<String, PolicyError> {
    use std::io::Read;
    let shown = path.display();
    let io = |e: std::io::Error| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            PolicyErrorKind::NotFound
        } else {
            PolicyErrorKind::Io
        };
        PolicyError::with_kind(kind, "", alloc::format!("cannot read `{shown}`: {e}"))
    };
    let not_a_file = || {
        PolicyError::with_kind(
            PolicyErrorKind::NotAFile,
            "",
            alloc::format!("`{shown}` is not a regular file"),
        )
    };
    // Checked before opening too: opening a FIFO blocks until a writer
    // comes, and a policy path must never hang the caller.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(not_a_file());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    let too_large = || {
        PolicyError::with_kind(
            PolicyErrorKind::TooLarge,
            "",
            alloc::format!("`{shown}` is larger than the policy size cap of {max_bytes} bytes"),
        )
    };
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        PolicyError::with_kind(
            PolicyErrorKind::Encoding,
            "",
            alloc::format!("`{shown}` is not UTF-8 (invalid byte at offset {at})"),
        )
    })
}
