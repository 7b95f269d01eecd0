//! One readable sentence per decision (feature `alloc`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use rust_decimal::Decimal;

use crate::compiled::Ratio;
use crate::decision::{Decision, Outcome, Reason};
use crate::engine::MAX_UNITS;
use crate::group::LadderNote;
use crate::item::{Field, Item};
use crate::money::{pow10_i64, snap_half_even, Amount, Currency};
use crate::policy::Policy;
use crate::rules::{bounds, disclosure, promotion, Rule};

fn pct(r: Option<Ratio>) -> String {
    match r {
        Some(r) => format!("{} %", (r.to_decimal() * Decimal::ONE_HUNDRED).normalize()),
        None => String::from("?"),
    }
}

fn factor(r: Option<Ratio>) -> String {
    r.map_or_else(
        || String::from("?"),
        |r| format!("{}", r.to_decimal().normalize()),
    )
}

/// Why the engine refuses `item`'s value of `field` (docs/spec.md §6 bad
/// input), in the words every interface uses after the value: `must be
/// greater than zero`, `must not be negative`, `must be at least 1`, `is
/// more than 1000000000`, `times reference_price is beyond the supported
/// range` or `is beyond the supported range`.
///
/// `field` is the one a decision names in `invalid_field`; the text is
/// `is not a valid value` for a field the engine never refuses by value.
///
/// ```
/// use priceguard::{invalid_reason, Field, Item};
/// let item = Item::new(0);
/// assert_eq!(invalid_reason(Field::ProposedPrice, &item), "must be greater than zero");
/// let item = Item::new(100).with_unit_cost(-1);
/// assert_eq!(invalid_reason(Field::UnitCost, &item), "must not be negative");
/// ```
pub fn invalid_reason(field: Field, item: &Item) -> String {
    let Some(value) = item.get(field) else {
        return String::from("is missing or not a valid value");
    };
    match field {
        Field::UnitCost if value < 0 => String::from("must not be negative"),
        Field::ExpectedUnits if value < 1 => String::from("must be at least 1"),
        Field::ExpectedUnits if value > MAX_UNITS => format!("is more than {MAX_UNITS}"),
        Field::ExpectedUnits => String::from("times reference_price is beyond the supported range"),
        Field::Now
        | Field::LastChangeAt
        | Field::ChangesInWindow
        | Field::PromoStartedAt
        | Field::LastPromoEndedAt
        | Field::ReversalsInWindow
        | Field::CompetitorQuotes
            if value < 0 =>
        {
            String::from("must not be negative")
        }
        f if f.is_money() && f != Field::UnitCost && value <= 0 => {
            String::from("must be greater than zero")
        }
        f if f.is_money() && value > crate::money::max_units(item.scale()) => {
            String::from("is beyond the supported range")
        }
        // In range and positive: the only way left for a price to be
        // refused is a snap to zero on a tick above one minor unit.
        Field::ProposedPrice | Field::PinnedPrice => {
            String::from("snaps to zero on the policy's tick")
        }
        _ => String::from("is not a valid value"),
    }
}

/// `field: `value` reason`, the value as money in `cur` for money fields.
fn invalid_message(field: Field, item: &Item, cur: Currency) -> String {
    let why = invalid_reason(field, item);
    match item.get(field) {
        Some(units) if field.is_money() => format!(
            "{field}: `{}` {why}",
            cur.format_amount(Amount {
                units,
                scale: item.scale()
            })
        ),
        Some(v) => format!("{field}: `{v}` {why}"),
        None => format!("{field} {why}"),
    }
}

impl Decision {
    /// One sentence saying what happened and why, e.g. `proposed 12.49
    /// raised to 14.38 by margin (15 % over cost 12.22)`.
    pub fn explain(&self, policy: &Policy, item: &Item) -> String {
        let cur = policy.currency();
        let m = |v: Option<i64>| {
            v.map_or_else(|| String::from("none"), |v| format!("{}", cur.format(v)))
        };
        let k = item.scale();
        let mi = |units: i64| format!("{}", cur.format_amount(Amount { units, scale: k }));
        // The proposal as given, then its snap to the tick when it is off
        // it: "proposed 19.4373, snapped to 19.44, raised to 19.99 by ...".
        let judged = item.pinned_price().unwrap_or(item.proposed_price());
        let tick = policy.rules_for(item.segment()).tick;
        let unit = pow10_i64(k).saturating_mul(tick);
        let snapped = snap_half_even(judged, unit) / pow10_i64(k);
        let off_tick = judged % unit != 0 && item.pinned_price().is_none();
        let proposed = if off_tick && self.outcome != Outcome::Rejected {
            format!(
                "{}, snapped to {},",
                mi(item.proposed_price()),
                m(Some(snapped))
            )
        } else {
            mi(item.proposed_price())
        };
        let s = match (self.outcome, self.reason) {
            (Outcome::Rejected, Reason::InvalidInput) => match self.invalid_field {
                Some(f) => format!("rejected: {}", invalid_message(f, item, cur)),
                None => String::from("rejected: invalid input"),
            },
            (Outcome::Rejected, reason) => format!(
                "rejected: {} and there is no current price to keep",
                self.reason_phrase(policy, item, reason)
            ),
            (Outcome::Held, reason) => format!(
                "proposed {proposed} held at {} by {}",
                m(self.price),
                self.reason_phrase(policy, item, reason)
            ),
            (Outcome::Accepted, _) => format!("proposed {proposed} accepted"),
            (Outcome::Adjusted, reason) => {
                let price = self.price.unwrap_or(0);
                let from = if off_tick {
                    snapped
                } else {
                    crate::money::round_to_minor(item.proposed_price(), k)
                };
                if off_tick && price == snapped {
                    return self.with_notes(
                        policy,
                        item,
                        format!(
                            "proposed {} snapped to {} by {}",
                            mi(item.proposed_price()),
                            m(self.price),
                            self.reason_phrase(policy, item, reason)
                        ),
                    );
                }
                let verb = if price > from { "raised" } else { "lowered" };
                format!(
                    "proposed {proposed} {verb} to {} by {}",
                    m(self.price),
                    self.reason_phrase(policy, item, reason)
                )
            }
        };
        self.with_notes(policy, item, s)
    }

    /// [`Decision::explain`] for a row the group pass moved, naming the
    /// neighbour whose edge set its price, e.g. `raised 14.99 to 15.75 to
    /// stay 5 % above SKU-1 (rank 1, 15.00)`. `note` is the pass's
    /// [`LadderNote`] for the row; `sku`, `rank` and `pack_size` are the
    /// neighbour's (the row `note.neighbour`). A decision the pass did not
    /// move is explained as [`Decision::explain`] does.
    pub fn explain_ladder(
        &self,
        policy: &Policy,
        item: &Item,
        note: &LadderNote,
        sku: &str,
        rank: i64,
        pack_size: Option<u64>,
    ) -> String {
        let moved = self.price.is_some_and(|p| p != note.own);
        let Some(price) = self.price.filter(|_| moved && self.is_change()) else {
            return self.explain(policy, item);
        };
        let cur = policy.currency();
        let m = |v: i64| format!("{}", cur.format(v));
        let l = policy.ladder().unwrap_or_default();
        let verb = if price > note.own {
            "raised"
        } else {
            "lowered"
        };
        let q = m(note.neighbour_price);
        let pack = pack_size.map_or_else(String::new, |u| format!(", pack of {u}"));
        let who = format!("{sku} (rank {rank}, {q}{pack})");
        let why = match (note.rule, note.neighbour_above) {
            (Rule::LadderGap, false) => format!("to stay {} above {who}", pct(l.min_gap)),
            (Rule::LadderGap, true) => format!("so that {who} stays {} above it", pct(l.min_gap)),
            (Rule::LadderMaxGap, false) => {
                format!("to stay at most {} above {who}", pct(l.max_gap))
            }
            (Rule::LadderMaxGap, true) => {
                format!("so that {who} stays at most {} above it", pct(l.max_gap))
            }
            (Rule::UnitPrice, false) => format!(
                "to keep its unit price at least {} below that of {who}",
                pct(l.min_unit_saving)
            ),
            (Rule::UnitPrice, true) => format!(
                "so that the unit price of {who} stays at least {} below its own",
                pct(l.min_unit_saving)
            ),
            (r, _) => format!("by {} against {who}", r.name()),
        };
        let own = m(note.own);
        let head = match crate::money::pow10_i64(item.scale()) {
            k if item.proposed_price() == note.own.saturating_mul(k) => String::new(),
            _ => format!(
                "proposed {}, decided alone at {own}; ",
                cur.format_amount(Amount {
                    units: item.proposed_price(),
                    scale: item.scale()
                })
            ),
        };
        self.with_notes(
            policy,
            item,
            format!("{head}{verb} {own} to {} {why}", m(price)),
        )
    }

    /// The sentence's clauses after the outcome: relaxed classes, unmet
    /// rules, approval.
    fn with_notes(&self, policy: &Policy, item: &Item, mut s: String) -> String {
        let k = item.scale();
        let cur = policy.currency();
        let mi = |units: i64| format!("{}", cur.format_amount(Amount { units, scale: k }));
        if !self.relaxed.is_empty() {
            let names: Vec<&str> = self.relaxed.iter().map(|c| c.name()).collect();
            s.push_str(&format!(
                "; relaxed {} to resolve a conflict",
                names.join(" and ")
            ));
        }
        if self.unmet.contains(Rule::PriceEnding) {
            s.push_str("; no allowed price ending fits the interval");
        }
        if self.unmet.contains(Rule::MaxMarkup) {
            s.push_str("; max_markup is below the cost floors and yields to them");
        }
        if self.needs_approval {
            let r = policy.rules_for(item.segment());
            s.push_str(&format!(
                "; needs approval: moves more than {} from current {}",
                pct(r.max_auto_change),
                item.current_price()
                    .map_or_else(|| String::from("none"), mi)
            ));
        }
        s
    }

    fn reason_phrase(&self, policy: &Policy, item: &Item, reason: Reason) -> String {
        match reason {
            Reason::None => String::from("no rule"),
            Reason::Custom(i) => format!("custom rule #{i}"),
            Reason::Rule(rule) => format!("{} ({})", rule.name(), rule_detail(policy, item, rule)),
            Reason::Infeasible => String::from("infeasible hard bounds (no price satisfies them all)"),
            Reason::MissingCost => String::from("missing_cost (a cost rule applies but unit_cost is absent)"),
            Reason::InvalidInput => String::from("invalid_input"),
            Reason::CircuitOpen => {
                String::from("circuit_open (too many proposals in this batch broke hard or financial rules)")
            }
            Reason::Freeze => String::from("freeze (the policy's kill switch is on)"),
            Reason::Unbounded => {
                String::from("unbounded (no rule bounds the price on one side and the policy does not allow that)")
            }
            Reason::Ladder => String::from(
                "ladder (no set of prices satisfies the group's ladder, so the whole group keeps its prices)",
            ),
            Reason::CompetitorQuality => {
                let r = policy.rules_for(item.segment());
                format!(
                    "competitor_quality ({} competitor quotes, at least {} needed to trust competitor_price)",
                    item.competitor_quotes().unwrap_or(0),
                    r.min_quotes.unwrap_or(0)
                )
            }
        }
    }
}

/// What a rule says for this item, in words.
pub(crate) fn rule_detail(policy: &Policy, item: &Item, rule: Rule) -> String {
    let r = policy.rules_for(item.segment());
    let cur = policy.currency();
    // Policy money is in minor units; the item's in its own scale (M1).
    let m =
        |v: Option<i64>| v.map_or_else(|| String::from("none"), |v| format!("{}", cur.format(v)));
    let k = item.scale();
    let mi = |v: Option<i64>| {
        v.map_or_else(
            || String::from("none"),
            |units| format!("{}", cur.format_amount(Amount { units, scale: k })),
        )
    };
    let at_item = r.scaled(pow10_i64(k));
    let p = mi(item.current_price());
    let ladder = policy.ladder().unwrap_or_default();
    match rule {
        Rule::LadderGap => format!(
            "each rank at least {} above the rank below",
            pct(ladder.min_gap)
        ),
        Rule::LadderMaxGap => format!(
            "each rank at most {} above the rank below",
            pct(ladder.max_gap)
        ),
        Rule::UnitPrice => format!(
            "a larger pack's unit price at least {} below the smaller pack's",
            pct(ladder.min_unit_saving)
        ),
        Rule::MinPrice => format!("minimum {}", mi(bounds::effective_min(&at_item, item))),
        Rule::MaxPrice => format!("maximum {}", mi(bounds::effective_max(&at_item, item))),
        Rule::Map => format!("minimum advertised price {}", mi(item.map_price())),
        Rule::EmergencyCap => match item.baseline_price() {
            Some(b) => format!(
                "at most {} over baseline {}",
                pct(r.emergency_cap),
                mi(Some(b))
            ),
            None => String::from("emergency mode is on and the item has no baseline_price"),
        },
        Rule::Margin => format!("{} over cost {}", pct(r.min_margin), mi(item.unit_cost())),
        Rule::Markup => format!(
            "markup {} over cost {}",
            pct(r.min_markup),
            mi(item.unit_cost())
        ),
        Rule::UnitMargin => format!(
            "cost {} plus {}",
            mi(item.unit_cost()),
            m(r.min_unit_margin)
        ),
        Rule::MaxDiscount => format!(
            "at most {} off reference {}",
            pct(r.max_discount),
            mi(item.reference_price())
        ),
        Rule::PromoBudget => {
            let name = item
                .campaign()
                .and_then(|c| policy.campaign_name(c))
                .unwrap_or("(unknown)");
            match (
                item.campaign().and_then(|c| policy.budget(c)),
                item.expected_units(),
            ) {
                (None, _) => format!("campaign `{name}` has no budget in the policy"),
                (_, None) => format!("campaign `{name}` item has no expected_units"),
                (Some(b), Some(u)) => {
                    format!("campaign `{name}` budget {} for {u} units", m(Some(b)))
                }
            }
        }
        Rule::MaxIncrease => format!("at most {} above current {p}", pct(r.max_increase)),
        Rule::MaxDecrease => format!("at most {} below current {p}", pct(r.max_decrease)),
        Rule::MaxStep => format!("at most {} from current {p}", m(r.max_step)),
        Rule::WindowIncrease => format!(
            "at most {} above window anchor {}",
            pct(r.window_increase),
            mi(item.window_anchor_price().or(item.current_price()))
        ),
        Rule::WindowDecrease => format!(
            "at most {} below window anchor {}",
            pct(r.window_decrease),
            mi(item.window_anchor_price().or(item.current_price()))
        ),
        Rule::Cooldown => match (item.now(), item.last_change_at(), r.cooldown_secs) {
            (Some(now), Some(last), Some(c)) => {
                format!("changed {} s ago, cooldown {c} s", now.saturating_sub(last))
            }
            (None, Some(_), Some(c)) => format!("cooldown {c} s and no `now` to prove it is over"),
            _ => String::from("cooldown"),
        },
        Rule::MaxChanges => format!(
            "{} changes already in the window, at most {}",
            item.changes_in_window().unwrap_or(0),
            r.max_changes.unwrap_or(0)
        ),
        Rule::MinChange => format!(
            "moves under {} of current {p} are not made",
            pct(r.min_change)
        ),
        Rule::CompetitorFloor => format!(
            "at least {} x competitor {}",
            factor(r.min_index),
            mi(item.competitor_price())
        ),
        Rule::CompetitorCeiling => format!(
            "at most {} x competitor {}",
            factor(r.max_index),
            mi(item.competitor_price())
        ),
        Rule::PriceEnding => match r.endings {
            Some(e) => {
                let list: Vec<String> = e
                    .residues()
                    .iter()
                    .map(|v| format!("{}", cur.format(*v)))
                    .collect();
                format!(
                    "allowed endings {} modulo {}",
                    list.join(", "),
                    cur.format(e.modulus)
                )
            }
            None => String::from("price endings"),
        },
        Rule::Tick => format!("tick {}", cur.format(r.tick)),
        Rule::Pinned => format!("pinned by a merchandiser at {}", mi(item.pinned_price())),
        Rule::MaxMarkup => format!(
            "markup at most {} over cost {}",
            pct(r.max_markup),
            mi(item.unit_cost())
        ),
        Rule::PriorPrice => {
            let days = r.prior_days.unwrap_or(0);
            match (disclosure::held(r, item), item.prior_low_price()) {
                (Some(_), None) => format!(
                    "was {} and no prior_low_price to prove it is the {days}-day low",
                    mi(item.reference_price())
                ),
                (Some(_), Some(low)) => format!(
                    "was {} is above the {days}-day low {}; lawful reference {}",
                    mi(item.reference_price()),
                    mi(Some(low)),
                    m(Some(crate::money::floor_to_minor(low, k)))
                ),
                (None, _) => format!(
                    "was {} is above the price in force {p}: a deeper cut inside the running promotion would be a new reduction",
                    mi(item.reference_price())
                ),
            }
        }
        Rule::PromoSpell => {
            let day = promotion::DAY;
            match (item.promo_started_at(), item.now(), item.last_promo_ended_at()) {
                (None, _, _) => String::from(
                    "no discount: no promo_started_at to prove the promotion is within its limits",
                ),
                (Some(_), None, _) if r.promo_max_days.is_some() => String::from(
                    "no discount: no `now` to prove the promotion is within promotion.max_days",
                ),
                (Some(start), Some(now), _)
                    if r.promo_max_days.is_some_and(|d| now - start > d * day) =>
                {
                    format!(
                        "no discount: the promotion has run {} s, more than {} days",
                        now - start,
                        r.promo_max_days.unwrap_or(0)
                    )
                }
                (Some(start), _, Some(end)) => format!(
                    "no discount: the promotion began {} s after the previous one ended, under {} days",
                    start - end,
                    r.promo_min_days_between.unwrap_or(0)
                ),
                _ => String::from("no discount off reference"),
            }
        }
        Rule::Oscillation => match item.reversals_in_window() {
            Some(n) => format!(
                "the price changed direction {n} times in the window, {} holds it",
                r.max_reversals.unwrap_or(0)
            ),
            None => String::from("no reversals_in_window to prove the price is not oscillating"),
        },
    }
}
