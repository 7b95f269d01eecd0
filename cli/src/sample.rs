//! `priceguard sample`: a realistic proposals file for `examples/policy.toml`,
//! deterministic for a seed (PCG-64, whose output is stable across
//! platforms and versions).

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::check::flush_buf;
use crate::format::Format;
use crate::output::Output;
use crate::read::COLUMNS;
use crate::write::{push_json_str, push_money};
use crate::CliError;

/// The sample's clock: every row is evaluated around this time.
const NOW: i64 = 1_795_000_000;

/// Which workload `sample` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Proposals in whole cents, unit costs at a segment-typical margin
    /// below the live price.
    #[default]
    Clean,
    /// As a pricing model's output: proposals with 4 decimals (finer than
    /// the currency), and about 3 % of rows whose unit cost rose past
    /// max_increase, so the margin floor relaxes the stability rules.
    Real,
}

/// One generated row: `(column, text)` for each present field.
struct Gen {
    rng: Pcg64,
    fields: Vec<(usize, Vec<u8>)>,
    mix: Mix,
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Snaps a price in cents to the nearest x.99 or x.49 ending (a live price
/// set by a retailer that uses charm pricing).
fn charm(c: i64) -> i64 {
    let base = c.div_euclid(100) * 100;
    let candidates = [base - 1, base + 49, base + 99];
    let best = candidates
        .iter()
        .copied()
        .filter(|v| *v > 0)
        .min_by_key(|v| (v - c).abs())
        .unwrap_or(99);
    best.max(99)
}

impl Gen {
    fn money(&mut self, col: usize, minor: i64) {
        let mut b = Vec::with_capacity(12);
        push_money(&mut b, minor, 2);
        self.fields.push((col, b));
    }

    fn int(&mut self, col: usize, v: i64) {
        self.fields
            .push((col, itoa::Buffer::new().format(v).as_bytes().to_vec()));
    }

    fn text(&mut self, col: usize, t: &str) {
        self.fields.push((col, t.as_bytes().to_vec()));
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.random::<f64>()
    }

    /// Roughly normal (sum of uniforms), mean 0, standard deviation `sd`.
    fn normal(&mut self, sd: f64) -> f64 {
        let s: f64 = (0..6).map(|_| self.rng.random::<f64>()).sum::<f64>() - 3.0;
        s * sd * std::f64::consts::SQRT_2
    }

    fn row(&mut self, n: u64) {
        self.fields.clear();
        let col = |name: &str| COLUMNS.iter().position(|f| f.name() == name).unwrap_or(0);
        self.text(col("sku"), &format!("SKU-{n:07}"));
        // Segment: none, 1 electronics, 2 grocery, 3 luxury.
        let seg_roll = self.rng.random::<f64>();
        let segment = if seg_roll < 0.40 {
            0
        } else if seg_roll < 0.65 {
            1
        } else if seg_roll < 0.90 {
            2
        } else {
            3
        };
        let (cost_lo, cost_hi, m_lo, m_hi): (f64, f64, f64, f64) = match segment {
            1 => (20.0, 900.0, 0.12, 0.30),
            2 => (0.40, 15.0, 0.26, 0.40),
            3 => (60.0, 1500.0, 0.50, 0.65),
            _ => (2.0, 200.0, 0.22, 0.45),
        };
        if segment > 0 {
            self.int(col("segment"), segment);
        }
        let cost_f =
            (cost_lo.ln() + (cost_hi.ln() - cost_lo.ln()) * self.rng.random::<f64>()).exp();
        let cost = cents(cost_f).max(1);
        let margin = self.uniform(m_lo, m_hi);
        let current = charm(cents(cost_f / (1.0 - margin)));
        // The real mix: a cost that rose to 95-115 % of the live price, so
        // the margin floor lies above what max_increase allows. (Every
        // extra draw is in the real mix only: the clean file is unchanged.)
        let cost = if self.mix == Mix::Real && self.chance(0.03) {
            cents(current as f64 / 100.0 * self.uniform(0.95, 1.15)).max(1)
        } else {
            cost
        };
        let new_listing = self.chance(0.02);
        let has_cost = !self.chance(0.005);
        if has_cost {
            self.money(col("unit_cost"), cost);
        }
        if !new_listing {
            self.money(col("current_price"), current);
        }
        // The model's proposal: a small move, a promotion, or (3 %) wild.
        let promo = !new_listing && self.chance(0.08);
        let wild = self.rng.random::<f64>();
        let mut proposed = if wild < 0.015 {
            (current / 100).max(1)
        } else if wild < 0.03 {
            current * 10
        } else {
            cents(current as f64 / 100.0 * (1.0 + self.normal(0.04))).max(1)
        };
        if promo {
            let reference = if self.chance(0.3) {
                charm(cents(current as f64 / 100.0 * 1.15))
            } else {
                current
            };
            let depth = self.uniform(0.05, 0.35);
            if wild >= 0.03 {
                proposed = charm(cents(reference as f64 / 100.0 * (1.0 - depth)));
            }
            self.money(col("reference_price"), reference);
            let units = self.rng.random_range(5..120_i64);
            self.int(col("expected_units"), units);
            let campaign = if self.chance(0.6) {
                "spring-sale"
            } else {
                "clearance"
            };
            self.text(col("campaign"), campaign);
        }
        if self.mix == Mix::Real {
            // A float proposal in dollars, written to 4 decimals.
            let fine = proposed * 100 + self.rng.random_range(-50..50_i64);
            let mut b = Vec::with_capacity(12);
            push_money(&mut b, fine.max(1), 4);
            self.fields.push((col("proposed_price"), b));
        } else {
            self.money(col("proposed_price"), proposed);
        }
        if self.chance(0.04) {
            self.money(col("min_price"), charm(cents(cost_f * 1.3)));
        }
        if self.chance(0.01) {
            self.money(col("max_price"), charm(cents(current as f64 / 100.0 * 1.5)));
        }
        if self.chance(0.05) {
            self.money(col("map_price"), charm(cents(current as f64 / 100.0 * 0.9)));
        }
        // Clock and history.
        let now = NOW + (n as i64) / 50;
        if !self.chance(0.01) {
            self.int(col("now"), now);
        }
        if !new_listing && self.chance(0.8) {
            let ago = if self.chance(0.05) {
                self.rng.random_range(60..3600_i64)
            } else {
                self.rng.random_range(3600..30 * 86_400_i64)
            };
            self.int(col("last_change_at"), now - ago);
            let changes = if self.chance(0.03) {
                self.rng.random_range(6..9_i64)
            } else {
                let mix = [0, 0, 0, 0, 0, 1, 1, 1, 2, 3];
                mix.get(self.rng.random_range(0..mix.len()))
                    .copied()
                    .unwrap_or(0)
            };
            self.int(col("changes_in_window"), changes);
            if self.chance(0.5) {
                let anchor = cents(current as f64 / 100.0 * self.uniform(0.9, 1.1)).max(1);
                self.money(col("window_anchor_price"), anchor);
            }
        }
        if self.chance(0.7) {
            let k = cents(current as f64 / 100.0 * self.uniform(0.85, 1.2)).max(1);
            self.money(col("competitor_price"), k);
        }
        if self.chance(0.01) {
            self.money(
                col("pinned_price"),
                charm(cents(current as f64 / 100.0 * 0.95)),
            );
        }
        // A few rows as they come out of real exports: unreadable values.
        if self.chance(0.0005) {
            let bad = ["N/A", "12.345", "-1", "1,299.00"];
            let k = self.rng.random_range(0..bad.len());
            let t = bad.get(k).copied().unwrap_or("N/A");
            let c = col("unit_cost");
            self.fields.retain(|(i, _)| *i != c);
            self.text(c, t);
        }
    }
}

/// Runs `sample`.
pub fn run(
    rows: u64,
    seed: u64,
    output: Option<&Path>,
    format: Option<Format>,
    mix: Mix,
) -> Result<(), CliError> {
    let format = Format::for_output(output, format, Format::Csv);
    let mut out = Output::open(output)?;
    let name = out.name().to_string();
    let mut g = Gen {
        rng: Pcg64::seed_from_u64(seed),
        fields: Vec::new(),
        mix,
    };
    let mut buf = Vec::with_capacity(1 << 20);
    if format == Format::Csv {
        let names: Vec<&str> = COLUMNS.iter().map(|f| f.name()).collect();
        buf.extend_from_slice(names.join(",").as_bytes());
        buf.push(b'\n');
    }
    for n in 1..=rows {
        g.row(n);
        g.fields.sort_by_key(|(c, _)| *c);
        match format {
            Format::Csv => {
                let mut next = 0;
                for (c, text) in &g.fields {
                    while next < *c {
                        buf.push(b',');
                        next += 1;
                    }
                    crate::write::push_csv_field(&mut buf, text);
                }
                while next + 1 < COLUMNS.len() {
                    buf.push(b',');
                    next += 1;
                }
                buf.push(b'\n');
            }
            Format::Jsonl => {
                buf.push(b'{');
                for (k, (c, text)) in g.fields.iter().enumerate() {
                    if k > 0 {
                        buf.push(b',');
                    }
                    let field = COLUMNS.get(*c).map_or("sku", |f| f.name());
                    push_json_str(&mut buf, field.as_bytes());
                    buf.push(b':');
                    push_json_str(&mut buf, text);
                }
                buf.extend_from_slice(b"}\n");
            }
        }
        if buf.len() > (1 << 20) - 4096 {
            flush_buf(&mut out, &mut buf, &name)?;
        }
    }
    flush_buf(&mut out, &mut buf, &name)?;
    out.commit()
}
