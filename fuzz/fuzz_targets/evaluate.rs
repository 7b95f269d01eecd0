//! An arbitrary policy and item: never a panic, and the decision obeys
//! every invariant of `priceguard::testkit::check_invariants`. The same
//! items as columns (`evaluate_columns`, whose kernel decides most rows
//! itself) give exactly the decisions and summary of `evaluate_batch`.
//! And the float64 block path (`evaluate_float_blocks`, the Python float64
//! batch's), under the input's policy less the rules it leaves to the rows
//! path, on rows made from the input's values as float64 major units, with
//! odd doubles (NaN, infinities, subnormals, values off the minor unit,
//! half a minor unit, fractional units) injected where a row's mask says:
//! every row it decides is one whose every value reads (as every door
//! reads a float: exactly, docs/spec.md M1), and gets `evaluate`'s
//! decision for it (see `check_float_blocks`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use priceguard::policy::spec::{
    ApprovalSpec, BoundsSpec, BreakerSpec, ChangeSpec, Dec, EmergencySpec, EndingsSpec, MarginSpec,
    MarketSpec, PromotionSpec, SegmentSpec,
};
use priceguard::binding::{FloatColumns, TimeColumn};
use priceguard::{BatchSummary, CampaignId, Decision, Field, Item, Policy, PolicySpec};
use rust_decimal::Decimal;

#[derive(Arbitrary, Debug)]
struct Input {
    currency: u8,
    tick: u8,
    priority: u8,
    allow_unbounded: bool,
    freeze: bool,
    min_price: Option<u32>,
    max_price: Option<u32>,
    min_margin: Option<u16>,
    min_markup: Option<u16>,
    max_markup: Option<u16>,
    min_unit_margin: Option<u16>,
    max_increase: Option<u16>,
    max_decrease: Option<u16>,
    max_step: Option<u32>,
    cooldown: Option<u16>,
    max_changes: Option<u8>,
    window_increase: Option<u16>,
    window_decrease: Option<u16>,
    min_change: Option<u8>,
    max_discount: Option<u16>,
    budget: Option<u32>,
    min_index: Option<u16>,
    max_index: Option<u16>,
    cap: Option<u16>,
    endings: Option<(u8, u8)>,
    approval: Option<u16>,
    breaker: Option<(u8, u8)>,
    segment_margin: Option<u16>,
    items: Vec<([i64; 17], u32)>,
}

fn frac(v: u16, scale: u32) -> Dec {
    Dec(Decimal::new(i64::from(v), scale))
}

fn spec(i: &Input) -> PolicySpec {
    let (code, digits) = match i.currency % 4 {
        0 => ("USD", 2),
        1 => ("JPY", 0),
        2 => ("KWD", 3),
        _ => ("CHF", 2),
    };
    let money = |v: u32| Dec(Decimal::new(i64::from(v), digits));
    let priorities = [
        ["hard", "financial", "stability", "market"],
        ["hard", "stability", "financial", "market"],
        ["hard", "market", "stability", "financial"],
        ["hard", "financial", "market", "stability"],
    ];
    let prio = priorities[usize::from(i.priority % 4)];
    let has_window = i.max_changes.is_some() || i.window_increase.is_some() || i.window_decrease.is_some();
    // The spec types are #[non_exhaustive]: built from their defaults.
    let mut s = PolicySpec::default();
    s.name = "fuzz".into();
    s.version = Some("1".into());
    s.currency = code.into();
    s.tick = (i.tick % 3 > 0 && digits > 0).then(|| money(if i.tick % 3 == 1 { 5 } else { 10 }));
    s.priority = Some(prio.iter().map(|s| s.to_string()).collect());
    s.allow_unbounded = i.allow_unbounded;
    s.freeze = i.freeze;
    let mut bounds = BoundsSpec::default();
    bounds.min_price = i.min_price.map(money);
    bounds.max_price = i.max_price.map(money);
    s.bounds = Some(bounds);
    let mut margin = MarginSpec::default();
    margin.min_margin = i.min_margin.map(|v| frac(v % 1000, 3));
    margin.min_markup = i.min_markup.map(|v| frac(v, 3));
    margin.max_markup = i.max_markup.map(|v| frac(v, 3));
    margin.min_unit_margin = i.min_unit_margin.map(|v| money(u32::from(v)));
    s.margin = Some(margin);
    let mut change = ChangeSpec::default();
    change.max_increase = i.max_increase.map(|v| frac(v, 3));
    change.max_decrease = i.max_decrease.map(|v| frac(v % 1001, 3));
    change.max_step = i.max_step.map(money);
    change.cooldown_secs = i.cooldown.map(u64::from);
    change.max_changes = i.max_changes.map(u64::from);
    change.window_secs = has_window.then_some(86_400);
    change.window_increase = i.window_increase.map(|v| frac(v, 3));
    change.window_decrease = i.window_decrease.map(|v| frac(v % 1001, 3));
    change.min_change = i.min_change.map(|v| frac(u16::from(v % 100), 3));
    s.change = Some(change);
    let mut promotion = PromotionSpec::default();
    promotion.max_discount = i.max_discount.map(|v| frac(v % 1001, 3));
    promotion.budgets = i.budget.map(|b| [("c".to_string(), money(b))].into_iter().collect());
    s.promotion = Some(promotion);
    let mut market = MarketSpec::default();
    market.min_index = i.min_index.map(|v| frac(v.max(1), 3));
    market.max_index = i.max_index.map(|v| frac(v.max(1), 3));
    s.market = Some(market);
    s.emergency = i.cap.map(|v| {
        let mut e = EmergencySpec::default();
        e.cap = Some(frac(v, 3));
        e
    });
    s.endings = i.endings.map(|(a, b)| {
        let mut e = EndingsSpec::default();
        e.allowed = Some(vec![money(u32::from(a % 100)), money(u32::from(b % 100))]);
        e.modulus = Some(money(100));
        e
    });
    s.breaker = i.breaker.map(|(r, m)| {
        let mut b = BreakerSpec::default();
        b.max_violation_ratio = Some(frac(u16::from(r % 101), 2));
        b.min_batch = Some(u64::from(m.max(1)));
        b
    });
    s.approval = i.approval.map(|v| {
        let mut a = ApprovalSpec::default();
        a.max_auto_change = Some(frac(v.max(1), 3));
        a
    });
    s.segments = i
        .segment_margin
        .map(|v| {
            let mut margin = MarginSpec::default();
            margin.min_margin = Some(frac(v % 1000, 3));
            let mut seg = SegmentSpec::default();
            seg.id = 1;
            seg.margin = Some(margin);
            vec![seg]
        })
        .unwrap_or_default();
    s
}

fn item(raw: &[i64; 17], mask: u32) -> Item {
    let mut it = Item::new(raw[16]);
    for (k, field) in Field::ALL.iter().take(16).enumerate() {
        if mask & (1 << k) != 0 {
            let v = match field {
                Field::Campaign => i64::from(raw[k].rem_euclid(3) as u32).min(1),
                Field::Segment => raw[k].rem_euclid(3),
                _ => raw[k],
            };
            it.set(*field, v);
        }
    }
    if mask & (1 << 20) != 0 {
        it = it.with_campaign(CampaignId::UNKNOWN);
    }
    it
}

/// Mask bits (above the 16 field bits and the campaign bit 20; the top
/// three bits pick the block they apply in) that
/// replace a float column's value in a row with the raw bits of the
/// input's value for that field (any double: NaN, infinities, subnormals,
/// huge): proposed, current, cost, reference, units.
const RAW_BITS: [(u32, usize); 5] = [(21, 16), (22, 0), (23, 1), (24, 5), (25, 6)];
/// Mask bit that moves the proposal half a minor unit up (a tie).
const HALF_TICK: u32 = 26;
/// Mask bit that makes the row's units 2.5 (not whole).
const HALF_UNIT: u32 = 27;

/// The float path against `evaluate`. The input's policy without the
/// rules the block path leaves to the rows path (so that it has one), on
/// rows of plausible prices made from the input's values (most of which
/// take the common path), as float64 columns in major units with odd
/// doubles injected where a row's mask says: `evaluate_float_blocks`
/// decides only rows whose every value converts exactly, and gives each
/// `evaluate`'s decision for the converted item, and their summary.
fn check_float_blocks(input: &Input) {
    const BLOCK: usize = 64;
    let mut sp = spec(input);
    sp.tick = None;
    sp.breaker = None;
    sp.emergency = None;
    sp.endings = None;
    sp.approval = None;
    sp.segments = Vec::new();
    sp.market = None;
    if let Some(c) = sp.change.as_mut() {
        c.max_changes = None;
        c.window_secs = None;
        c.window_increase = None;
        c.window_decrease = None;
        c.min_change = None;
    }
    let Ok(policy) = Policy::from_spec(sp) else {
        return;
    };
    let raw: Vec<&([i64; 17], u32)> = input.items.iter().take(64).collect();
    if raw.is_empty() {
        return;
    }
    const NOW: i64 = 1_800_000_000;
    let n = 64 * 3 + 5;
    let digits = policy.currency().minor_units();
    let scale = 10f64.powi(i32::from(digits));
    let major = |v: i64| v as f64 / scale;
    let has = |mask: u32, f: Field| mask & (1 << Field::ALL.iter().position(|x| *x == f).unwrap_or(31)) != 0;
    let mut cols: [Vec<f64>; 5] = Default::default();
    let (mut now, mut last) = (Vec::new(), Vec::new());
    for r in 0..n {
        let (vals, mask) = raw[r % raw.len()];
        let mask = *mask;
        let v = |f: Field| vals[Field::ALL.iter().position(|x| *x == f).unwrap_or(16)];
        let p = 1 + vals[16].rem_euclid(1_000_000);
        let opt = |f: Field, value: i64| if has(mask, f) { major(value) } else { f64::NAN };
        let mut row = [
            major(p),
            opt(Field::CurrentPrice, (p + v(Field::CurrentPrice).rem_euclid(p + 1) - p / 2).max(1)),
            opt(Field::UnitCost, v(Field::UnitCost).rem_euclid(p + 1)),
            opt(Field::ReferencePrice, p + v(Field::ReferencePrice).rem_euclid(p + 1)),
            if has(mask, Field::ExpectedUnits) {
                (1 + v(Field::ExpectedUnits).rem_euclid(1000)) as f64
            } else {
                f64::NAN
            },
        ];
        // The odd values go into one block (the top three mask bits say
        // which, if any), so the other blocks can still be decided.
        let odd = (mask >> 29) as usize == r / BLOCK;
        if odd && mask & (1 << HALF_TICK) != 0 {
            row[0] += 0.5 / scale;
        }
        if odd && mask & (1 << HALF_UNIT) != 0 {
            row[4] = 2.5;
        }
        for (k, (bit, at)) in RAW_BITS.iter().enumerate() {
            if odd && mask & (1 << bit) != 0 {
                row[k] = f64::from_bits(vals[*at] as u64);
            }
        }
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
        now.push(NOW);
        last.push(NOW - v(Field::LastChangeAt).rem_euclid(200_000) + 1000);
    }
    // A column is given when some row has a value in it.
    let given = |k: usize| cols[k].iter().any(|v| !v.is_nan()).then_some(cols[k].as_slice());
    let with_now = raw.iter().any(|(_, m)| has(*m, Field::Now));
    let with_last = raw.iter().any(|(_, m)| has(*m, Field::LastChangeAt));
    let fc = FloatColumns {
        proposed_price: &cols[0],
        current_price: given(1),
        unit_cost: given(2),
        reference_price: given(3),
        expected_units: given(4),
        now: with_now.then_some(TimeColumn::Values(&now)),
        last_change_at: with_last.then_some(TimeColumn::Values(&last)),
    };
    let mut got = vec![Decision::default(); n];
    let mut summary = BatchSummary::default();
    let mut decided = Vec::new();
    let mut from = 0;
    while from + BLOCK <= n {
        let Some(b) = policy.evaluate_float_blocks(&fc, from, got.as_mut_slice()) else {
            return;
        };
        assert_eq!(b.rows % BLOCK, 0, "not whole blocks");
        assert!(from + b.rows <= n, "decided past the end");
        summary.merge(&b.summary);
        decided.extend(from..from + b.rows);
        from += b.rows + BLOCK;
    }
    let mut its = Vec::new();
    for &r in &decided {
        // Each value read as every door reads a float (docs/spec.md M1,
        // M2): exactly, a proposal with finer digits snapped by the engine.
        let mut it = Item::new(0);
        for (f, v) in [
            (Field::ProposedPrice, cols[0][r]),
            (Field::CurrentPrice, cols[1][r]),
            (Field::UnitCost, cols[2][r]),
            (Field::ReferencePrice, cols[3][r]),
            (Field::ExpectedUnits, cols[4][r]),
        ] {
            if v.is_nan() {
                assert!(f != Field::ProposedPrice, "row {r}: decided without a proposal");
                continue;
            }
            if let Err(e) = policy.set_field_float(&mut it, f, v) {
                panic!("row {r}: decided from {f:?} = {v:?}, which does not read: {e}");
            }
        }
        for (f, v) in [
            (Field::Now, with_now.then_some(now[r])),
            (Field::LastChangeAt, with_last.then_some(last[r])),
        ] {
            if let Some(v) = v {
                assert!(it.set(f, v), "row {r}: decided with {f:?} = {v}, out of range");
            }
        }
        let want = policy.evaluate(&it);
        assert_eq!(
            got[r], want,
            "row {r} decided from floats differs\nfloats: {:?}\nitem: {it:?}\npolicy: {:?}",
            cols.iter().map(|c| c[r]).collect::<Vec<_>>(),
            policy.spec()
        );
        its.push(it);
    }
    let mut out = vec![Decision::default(); its.len()];
    let want = policy.evaluate_batch(&its, &mut out).unwrap();
    assert_eq!(summary, want, "float blocks' summary differs\npolicy: {:?}", policy.spec());
}

fuzz_target!(|input: Input| {
    check_float_blocks(&input);
    let Ok(policy) = Policy::from_spec(spec(&input)) else {
        return;
    };
    let items: Vec<Item> = input.items.iter().take(64).map(|(raw, mask)| item(raw, *mask)).collect();
    for it in &items {
        let d = policy.evaluate(it);
        if let Err(e) = priceguard::testkit::check_invariants(&policy, it, &d) {
            panic!("invariant broken: {e}\npolicy: {:?}\nitem: {it:?}\ndecision: {d:?}", policy.spec());
        }
    }
    // Without item bounds, MAP, baseline and pin the columnar kernel runs.
    let kernel_only = input.items.len() % 2 == 0;
    let items: Vec<Item> = if kernel_only {
        items
            .iter()
            .map(|it| {
                let mut out = Item::new(it.proposed_price());
                for f in Field::ALL.iter().take(16) {
                    let skip = matches!(
                        f,
                        Field::MinPrice | Field::MaxPrice | Field::MapPrice | Field::BaselinePrice | Field::PinnedPrice
                    );
                    if let (false, Some(v)) = (skip, it.get(*f)) {
                        out.set(*f, v);
                    }
                }
                out
            })
            .collect()
    } else {
        items
    };
    // Repeated to two full 64-row blocks and a tail, so the block path
    // (lanes) decides some of them when the policy is one it covers.
    let items: Vec<Item> = if kernel_only && !items.is_empty() {
        items.iter().cycle().take(64 * 2 + 3).copied().collect()
    } else {
        items
    };
    let mut out = vec![Decision::default(); items.len()];
    let want = policy.evaluate_batch(&items, &mut out).unwrap();
    let n = items.len();
    let proposed: Vec<i64> = items.iter().map(Item::proposed_price).collect();
    let mut owned = Vec::new();
    for f in Field::ALL.iter().take(16) {
        let mut v = vec![0; n];
        let mut bits = vec![0u8; n.div_ceil(8)];
        let mut any = false;
        for (i, it) in items.iter().enumerate() {
            if let Some(x) = it.get(*f) {
                v[i] = x;
                bits[i / 8] |= 1 << (i % 8);
                any = true;
            }
        }
        if any {
            owned.push((*f, v, bits));
        }
    }
    let mut cols = priceguard::batch::Columns::new(&proposed);
    for (f, v, bits) in &owned {
        cols = cols.with(*f, v, Some(bits)).unwrap();
    }
    let mut got = vec![Decision::default(); n];
    let got_summary = policy.evaluate_columns(&cols, &mut got).unwrap();
    assert_eq!(got_summary, want, "summary differs\npolicy: {:?}", policy.spec());
    for (i, (g, w)) in got.iter().zip(&out).enumerate() {
        assert_eq!(g, w, "row {i} differs\nitem: {:?}\npolicy: {:?}", items[i], policy.spec());
    }
});
