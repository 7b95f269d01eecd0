//! A reference group pass (docs/spec.md §10), for tests only.
//!
//! Written from the spec text, for obviousness: groups are collected in a
//! map, every bound is an exact rational (`BigRational`), infinite ends
//! are `None`, and endings are searched by listing candidates. It takes
//! the solo decisions as input and calls no engine code.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use priceguard::{Decision, Field, GroupRow, Item, Outcome, Policy, Ratio, Reason, Rule, RuleSet};

type Q = BigRational;

fn q(v: i64) -> Q {
    Q::from_integer(BigInt::from(v))
}

fn frac(r: Ratio) -> Q {
    Q::new(BigInt::from(r.num), BigInt::from(r.den))
}

fn ceil_t(x: &Q, tick: i64) -> Q {
    Q::from_integer((x / q(tick)).ceil().to_integer() * BigInt::from(tick))
}

fn floor_t(x: &Q, tick: i64) -> Q {
    Q::from_integer((x / q(tick)).floor().to_integer() * BigInt::from(tick))
}

fn to_i64(x: &Q) -> i64 {
    i64::try_from(x.to_integer()).unwrap_or(i64::MAX)
}

/// The three factors between two members (§10.2): `a`, `1 + max_gap`,
/// the unit factor; `b` is the smaller upper one.
struct Factors {
    a: Option<Q>,
    gap: Option<Q>,
    unit: Option<Q>,
}

impl Factors {
    fn new(policy: &Policy, lo: Option<u64>, hi: Option<u64>) -> Factors {
        let l = policy.ladder().unwrap_or_default();
        let one = Q::one();
        Factors {
            a: l.min_gap.map(|g| &one + frac(g)),
            gap: l.max_gap.map(|g| &one + frac(g)),
            unit: match (l.min_unit_saving, lo, hi) {
                (Some(s), Some(lo), Some(hi)) => {
                    Some(Q::new(BigInt::from(hi), BigInt::from(lo)) * (&one - frac(s)))
                }
                _ => None,
            },
        }
    }

    fn b(&self) -> Option<Q> {
        match (&self.gap, &self.unit) {
            (Some(g), Some(u)) => Some(g.clone().min(u.clone())),
            (g, u) => g.clone().or(u.clone()),
        }
    }

    /// The edge rules prices `pi` (lower rank) and `pj` break.
    fn broken(&self, pi: &Q, pj: &Q) -> RuleSet {
        let mut s = RuleSet::EMPTY;
        if self.a.as_ref().is_some_and(|a| pj < &(a * pi)) {
            s.insert(Rule::LadderGap);
        }
        if self.gap.as_ref().is_some_and(|g| pj > &(g * pi)) {
            s.insert(Rule::LadderMaxGap);
        }
        if self.unit.as_ref().is_some_and(|u| pj > &(u * pi)) {
            s.insert(Rule::UnitPrice);
        }
        s
    }
}

fn max_opt(a: Option<Q>, b: Option<Q>) -> Option<Q> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<Q>, b: Option<Q>) -> Option<Q> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn empty(lo: &Option<Q>, hi: &Option<Q>) -> bool {
    matches!((lo, hi), (Some(l), Some(h)) if l > h)
}

/// Whether a solo decision is a fixed point (§10.3 step 3).
pub fn is_fixed(item: &Item, d: &Decision) -> bool {
    d.outcome == Outcome::Held
        || (item.campaign().is_some() && matches!(d.outcome, Outcome::Accepted | Outcome::Adjusted))
}

/// The nearest allowed ending to `x` in `[lo, hi]` (R7), ties towards
/// `up`; candidates listed one modulus either side of `x`, then the ends.
fn nearest_ending(
    policy: &Policy,
    item: &Item,
    x: &Q,
    lo: &Option<Q>,
    hi: &Option<Q>,
    up: bool,
) -> Option<Q> {
    let e = policy.rules_for(item.segment()).endings?;
    let m = q(e.modulus);
    let base = (x / &m).floor() * &m;
    let inside = |c: &Q| lo.as_ref().is_none_or(|l| c >= l) && hi.as_ref().is_none_or(|h| c <= h);
    let mut best: Option<Q> = None;
    for k in -2..=2 {
        for r in e.residues() {
            let c = &base + q(k) * &m + q(*r);
            if !inside(&c) {
                continue;
            }
            best = Some(match best {
                None => c,
                Some(b) => {
                    let (db, dc) = ((&b - x).abs(), (&c - x).abs());
                    if dc < db || (dc == db && ((up && c > b) || (!up && c < b))) {
                        c
                    } else {
                        b
                    }
                }
            });
        }
    }
    best
}

trait Abs {
    fn abs(self) -> Self;
}

impl Abs for Q {
    fn abs(self) -> Q {
        if self < Q::zero() {
            -self
        } else {
            self
        }
    }
}

/// The group pass over `solo` decisions (one per item, `rows[i]` the
/// group info of item `i`).
pub fn resolve(
    policy: &Policy,
    items: &[Item],
    rows: &[Option<GroupRow>],
    solo: &[Decision],
) -> Vec<Decision> {
    let mut out = solo.to_vec();
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(r) = r {
            groups.entry(r.group).or_default().push(i);
        }
    }
    for members in groups.values() {
        let rank = |i: &usize| rows[*i].and_then(|r| r.rank);
        let pack = |i: usize| rows[i].and_then(|r| r.pack_size);
        // §10.3 step 2: missing or repeated ranks, bad pack sizes.
        let mut ranks: Vec<Option<i64>> = members.iter().map(rank).collect();
        ranks.sort();
        let bad_rank = ranks.iter().any(Option::is_none) || ranks.windows(2).any(|w| w[0] == w[1]);
        let bad_pack = members
            .iter()
            .any(|i| pack(*i).is_some_and(|p| p == 0 || p > 1_000_000));
        if bad_rank || bad_pack {
            let f = if bad_rank {
                Field::Rank
            } else {
                Field::PackSize
            };
            for i in members {
                if out[*i].reason != Reason::InvalidInput {
                    out[*i] = Decision::invalid(f);
                }
            }
            continue;
        }
        let mut chain: Vec<usize> = members
            .iter()
            .copied()
            .filter(|i| solo[*i].outcome != Outcome::Rejected)
            .collect();
        chain.sort_by_key(|i| rank(i));
        if chain.is_empty() {
            continue;
        }
        let n = chain.len();
        let tick_of = |i: usize| {
            if is_fixed(&items[i], &solo[i]) {
                1
            } else {
                policy.rules_for(items[i].segment()).tick
            }
        };
        let own = |i: usize| q(solo[i].price.unwrap_or(0));
        let interval = |i: usize| -> (Option<Q>, Option<Q>) {
            if is_fixed(&items[i], &solo[i]) {
                (Some(own(i)), Some(own(i)))
            } else {
                (solo[i].lower.map(q), solo[i].upper.map(q))
            }
        };
        // Backward pass.
        let mut f: Vec<(Option<Q>, Option<Q>)> = vec![(None, None); n];
        let mut ok = true;
        for t in (0..n).rev() {
            let i = chain[t];
            let (mut lo, mut hi) = interval(i);
            if t + 1 < n {
                let fx = Factors::new(policy, pack(i), pack(chain[t + 1]));
                let (lo_j, hi_j) = &f[t + 1];
                let from_lo = match (lo_j, fx.b()) {
                    (Some(l), Some(b)) => Some(l / b),
                    _ => None,
                };
                let from_hi = match (hi_j, &fx.a) {
                    (Some(h), Some(a)) => Some(h / a),
                    _ => None,
                };
                lo = max_opt(lo, from_lo);
                hi = min_opt(hi, from_hi);
            }
            let tick = tick_of(i);
            let lo = lo.map(|v| ceil_t(&v, tick));
            let hi = hi.map(|v| floor_t(&v, tick));
            if empty(&lo, &hi) {
                ok = false;
                break;
            }
            f[t] = (lo, hi);
        }
        // Forward pass.
        let mut p: Vec<Q> = Vec::new();
        let mut flags: Vec<(bool, bool)> = Vec::new(); // (ending moved it, no ending fits)
        if ok {
            for t in 0..n {
                let i = chain[t];
                let (mut lo, mut hi) = f[t].clone();
                if t > 0 {
                    let fx = Factors::new(policy, pack(chain[t - 1]), pack(i));
                    let pi = &p[t - 1];
                    lo = max_opt(lo, fx.a.as_ref().map(|a| a * pi));
                    hi = min_opt(hi, fx.b().map(|b| b * pi));
                }
                let tick = tick_of(i);
                let lo = lo.map(|v| ceil_t(&v, tick));
                let hi = hi.map(|v| floor_t(&v, tick));
                if empty(&lo, &hi) {
                    ok = false;
                    break;
                }
                let o = own(i);
                let mut x = o.clone();
                if let Some(l) = &lo {
                    if &x < l {
                        x = l.clone();
                    }
                }
                if let Some(h) = &hi {
                    if &x > h {
                        x = h.clone();
                    }
                }
                let mut fl = (false, false);
                if x != o
                    && !is_fixed(&items[i], &solo[i])
                    && policy.rules_for(items[i].segment()).endings.is_some()
                {
                    let up = q(items[i].proposed_price()) > x;
                    match nearest_ending(policy, &items[i], &x, &lo, &hi, up) {
                        Some(v) => {
                            fl.0 = v != x;
                            x = v;
                        }
                        None => fl.1 = true,
                    }
                }
                p.push(x);
                flags.push(fl);
            }
        }
        if !ok {
            for i in &chain {
                if solo[*i].outcome != Outcome::Held {
                    let mut h = match items[*i].current_price() {
                        Some(c) => {
                            let mut d = Decision::rejected(Reason::Ladder);
                            d.outcome = Outcome::Held;
                            d.price = Some(c);
                            d
                        }
                        None => Decision::rejected(Reason::Ladder),
                    };
                    h.violated = solo[*i].violated;
                    out[*i] = h;
                }
            }
            continue;
        }
        for t in 0..n {
            let i = chain[t];
            let o = own(i);
            if p[t] == o {
                continue;
            }
            let below = (t > 0)
                .then(|| Factors::new(policy, pack(chain[t - 1]), pack(i)).broken(&p[t - 1], &o));
            let above = (t + 1 < n)
                .then(|| Factors::new(policy, pack(i), pack(chain[t + 1])).broken(&o, &p[t + 1]));
            let broke = RuleSet(below.map_or(0, |s| s.0) | above.map_or(0, |s| s.0));
            let first = below
                .and_then(|s| s.iter().next())
                .or_else(|| above.and_then(|s| s.iter().next()))
                .unwrap_or(Rule::LadderGap);
            let price = to_i64(&p[t]);
            let mut d = solo[i];
            d.price = Some(price);
            d.outcome = if price == items[i].proposed_price() {
                Outcome::Accepted
            } else {
                Outcome::Adjusted
            };
            d.reason = if d.outcome == Outcome::Accepted {
                Reason::None
            } else {
                Reason::Rule(first)
            };
            d.violated = RuleSet(solo[i].violated.0 | broke.0);
            d.binding = broke;
            if flags[t].0 {
                d.binding.insert(Rule::PriceEnding);
            }
            d.unmet = RuleSet(solo[i].unmet.0 & !(1 << Rule::PriceEnding as u8));
            if flags[t].1 {
                d.unmet.insert(Rule::PriceEnding);
            }
            let r = policy.rules_for(items[i].segment());
            d.needs_approval = match (r.max_auto_change, items[i].current_price()) {
                (Some(lim), Some(c)) if c > 0 => q((price - c).abs()) > frac(lim) * q(c),
                _ => false,
            };
            out[i] = d;
        }
    }
    out
}

/// The edge rules the published prices of a group break (empty when the
/// group is published whole), for the property tests.
pub fn broken_edges(
    policy: &Policy,
    items: &[Item],
    rows: &[Option<GroupRow>],
    chain: &[usize],
    prices: &[i64],
) -> RuleSet {
    let _ = items;
    let mut s = RuleSet::EMPTY;
    for w in chain.windows(2).zip(prices.windows(2)) {
        let ((i, j), (pi, pj)) = ((w.0[0], w.0[1]), (w.1[0], w.1[1]));
        let f = Factors::new(
            policy,
            rows[i].and_then(|r| r.pack_size),
            rows[j].and_then(|r| r.pack_size),
        );
        s.0 |= f.broken(&q(pi), &q(pj)).0;
    }
    s
}
