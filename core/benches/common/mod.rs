//! The shared benchmark workload (the peers' `workload.py`, see BENCHMARKS.md), ported:
//! the same distributions from a small seeded generator (splitmix64), so
//! every run and every machine sees the same items.
#![allow(dead_code)]

use priceguard::{Field, Item};

/// `now` of every item.
pub const NOW: i64 = 1_800_000_000;

/// The policy the workload is made for (`POLICY_TOML` of workload.py).
pub const BENCH_POLICY: &str = r#"
name = "bench"
version = "1"
currency = "USD"

[bounds]
min_price = "0.99"
max_price = "5000"

[margin]
min_margin = "0.15"

[change]
max_increase = "0.10"
max_decrease = "0.20"
cooldown_secs = 3600

[promotion]
max_discount = "0.50"
"#;

/// splitmix64: tiny, seeded, good enough for benchmark inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
}

/// The workload as columns (what a columnar caller holds).
pub struct Workload {
    pub proposed: Vec<i64>,
    pub current: Vec<i64>,
    pub cost: Vec<i64>,
    /// 0 = not on promotion.
    pub reference: Vec<i64>,
    pub expected_units: Vec<i64>,
    pub last_change_at: Vec<i64>,
    pub now: Vec<i64>,
    /// Validity bitmap of `reference` and `expected_units` (promoted rows).
    pub promo_valid: Vec<u8>,
    /// The real mix only: the model's float64 proposal in dollars with 4
    /// decimals (`proposed` is it snapped to the cent); empty otherwise.
    pub proposed_major: Vec<f64>,
}

/// `make(n, seed)` of workload.py: about 5 % wild proposals (x0.01 or x10),
/// 10 % of items on promotion, a third changed price within the hour.
pub fn make(n: usize, seed: u64) -> Workload {
    make_mix(n, seed, false)
}

/// `make(n, seed, mix="real")` of workload.py when `real`: the same
/// catalogue, plus about 3 % of items whose cost rose past what
/// `max_increase` allows (their stability class is relaxed) and the
/// model's proposals as dollars with 4 decimals (`proposed_major`).
pub fn make_mix(n: usize, seed: u64, real: bool) -> Workload {
    make_relaxed(n, seed, real, 0.03)
}

/// [`make_mix`] with `share` of the items (instead of 3 %) relaxed when
/// `real`: the issue's second bound is 5 %.
pub fn make_relaxed(n: usize, seed: u64, real: bool, share: f64) -> Workload {
    let mut rng = Rng::new(seed);
    let mut w = Workload {
        proposed: Vec::with_capacity(n),
        current: Vec::with_capacity(n),
        cost: Vec::with_capacity(n),
        reference: Vec::with_capacity(n),
        expected_units: Vec::with_capacity(n),
        last_change_at: Vec::with_capacity(n),
        now: vec![NOW; n],
        promo_valid: vec![0; n.div_ceil(8)],
        proposed_major: Vec::new(),
    };
    for i in 0..n {
        let cost = rng.int(100, 10_000);
        let current = (cost as f64 * rng.uniform(1.2, 1.8)).round_ties_even() as i64;
        let mut proposed = (current as f64 * rng.uniform(0.7, 1.3)).round_ties_even() as i64;
        let wild = rng.f64();
        if wild < 0.025 {
            proposed = (proposed / 100).max(1);
        } else if wild < 0.05 {
            proposed *= 10;
        }
        let promo = rng.f64() < 0.10;
        let units = rng.int(1, 500);
        let mut cost = cost;
        if real {
            // the margin floor lands 15-40 % above the current price
            if rng.f64() < share {
                cost = (current as f64 * rng.uniform(0.98, 1.19)).round_ties_even() as i64;
            }
            let major = ((proposed as f64 / 100.0 + rng.uniform(-0.005, 0.005)) * 1e4)
                .round_ties_even()
                / 1e4;
            proposed = ((major * 100.0).round_ties_even() as i64).max(1);
            w.proposed_major.push(major);
        }
        w.proposed.push(proposed);
        w.current.push(current);
        w.cost.push(cost);
        w.reference.push(if promo { current } else { 0 });
        w.expected_units.push(if promo { units } else { 0 });
        w.last_change_at.push(NOW - rng.int(0, 3 * 3600));
        if promo {
            if let Some(b) = w.promo_valid.get_mut(i / 8) {
                *b |= 1 << (i % 8);
            }
        }
    }
    w
}

impl Workload {
    /// The rows as items (what an array-of-structs caller holds).
    pub fn items(&self) -> Vec<Item> {
        (0..self.proposed.len())
            .map(|i| {
                let mut item = Item::new(self.proposed[i])
                    .with_current_price(self.current[i])
                    .with_unit_cost(self.cost[i])
                    .with_now(self.now[i])
                    .with_last_change_at(self.last_change_at[i]);
                if self.reference[i] != 0 {
                    item.set(Field::ReferencePrice, self.reference[i]);
                    item.set(Field::ExpectedUnits, self.expected_units[i]);
                }
                item
            })
            .collect()
    }
}
