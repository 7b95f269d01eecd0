//! The content hash of a compiled policy: SHA-256 over a canonical byte
//! encoding of what decides prices, so the same rules give the same hash
//! whether they were written in TOML or JSON, in any key order or format.

use alloc::string::String;

use sha2::{Digest, Sha256};

use super::{Breaker, Policy};
use crate::compiled::{CompiledRules, Endings, Ratio};

/// Domain tag and version of the canonical encoding. A change to the
/// encoding changes the tag, so old and new hashes never collide.
const TAG: &[u8] = b"priceguard policy v1\0";

/// Feeds the canonical encoding into a hasher.
struct Canon(Sha256);

impl Canon {
    fn u8(&mut self, v: u8) {
        self.0.update([v]);
    }

    fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }

    fn i64(&mut self, v: i64) {
        self.0.update(v.to_le_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }

    fn ratio(&mut self, r: Ratio) {
        // Ratios are normalised at compile time (`Ratio::from_decimal`), so
        // `0.10` and `0.1` encode alike.
        self.i64(r.num);
        self.i64(r.den);
    }

    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Canon, T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v);
            }
        }
    }

    fn endings(&mut self, e: Endings) {
        self.i64(e.modulus);
        let residues = e.residues();
        self.u64(residues.len() as u64);
        for r in residues {
            self.i64(*r);
        }
    }

    fn breaker(&mut self, b: Breaker) {
        self.ratio(b.max_violation_ratio);
        self.u64(b.min_batch);
    }

    fn rules(&mut self, r: &CompiledRules) {
        // Destructured without `..`: a new field fails to compile here
        // until it is hashed too.
        let CompiledRules {
            tick,
            priority,
            freeze,
            allow_unbounded,
            min_price,
            max_price,
            emergency_cap,
            min_margin,
            min_markup,
            max_markup,
            min_unit_margin,
            max_discount,
            max_increase,
            max_decrease,
            max_step,
            cooldown_secs,
            max_changes,
            window_increase,
            window_decrease,
            min_change,
            min_index,
            max_index,
            endings,
            max_auto_change,
            prior_days,
            progressive,
            promo_max_days,
            promo_min_days_between,
            max_reversals,
            max_quote_age_secs,
            min_quotes,
            outlier_mad,
            market_required,
        } = *r;
        self.i64(tick);
        for c in priority {
            self.u8(c as u8);
        }
        self.bool(freeze);
        self.bool(allow_unbounded);
        for money in [min_price, max_price] {
            self.opt(money, Canon::i64);
        }
        for ratio in [emergency_cap, min_margin, min_markup] {
            self.opt(ratio, Canon::ratio);
        }
        self.opt(min_unit_margin, Canon::i64);
        for ratio in [max_discount, max_increase, max_decrease] {
            self.opt(ratio, Canon::ratio);
        }
        for int in [max_step, cooldown_secs, max_changes] {
            self.opt(int, Canon::i64);
        }
        for ratio in [
            window_increase,
            window_decrease,
            min_change,
            min_index,
            max_index,
        ] {
            self.opt(ratio, Canon::ratio);
        }
        self.opt(endings, Canon::endings);
        self.opt(max_auto_change, Canon::ratio);
        // Keys added after v1 are encoded only when set, each after its
        // name: a policy that does not use them keeps its v1 hash, so
        // audit logs stamped before the key existed still verify.
        if let Some(k) = max_markup {
            self.str("margin.max_markup");
            self.ratio(k);
        }
        for (name, v) in [
            ("disclosure.prior_days", prior_days),
            ("promotion.max_days", promo_max_days),
            ("promotion.min_days_between", promo_min_days_between),
            ("change.max_reversals", max_reversals),
            ("market.max_quote_age_secs", max_quote_age_secs),
            ("market.min_quotes", min_quotes),
        ] {
            if let Some(v) = v {
                self.str(name);
                self.i64(v);
            }
        }
        if let Some(k) = outlier_mad {
            self.str("market.outlier_mad");
            self.ratio(k);
        }
        for (name, on) in [
            ("disclosure.progressive", progressive),
            ("market.required", market_required),
        ] {
            if on {
                self.str(name);
                self.bool(on);
            }
        }
    }
}

impl Policy {
    /// SHA-256 of a canonical encoding of the compiled policy: name,
    /// version, currency, every segment's compiled rules, campaigns and
    /// budgets, the breaker and the change window. Equal for the same rules
    /// written in TOML or JSON, whatever the key order, formatting or
    /// number spelling (`0.10` and `0.1`); different after any rule change.
    /// Decisions are stamped with it so an audit can prove which policy
    /// decided them.
    pub fn content_hash(&self) -> [u8; 32] {
        let Policy {
            name,
            version,
            currency,
            base,
            segments,
            // Derived from `base` and `segments`.
            prepared: _,
            campaigns,
            budgets,
            breaker,
            window_secs,
            ladder,
            spec: _,
        } = self;
        let mut h = Canon(Sha256::new());
        h.0.update(TAG);
        h.str(name);
        h.str(version);
        h.str(currency.code());
        h.u8(currency.minor_units());
        h.rules(base);
        h.u64(segments.len() as u64);
        for (id, rules) in segments {
            h.u64(u64::from(*id));
            h.rules(rules);
        }
        h.u64(campaigns.len() as u64);
        for (i, c) in campaigns.iter().enumerate() {
            h.str(c);
            h.opt(budgets.get(i).copied(), Canon::i64);
        }
        h.opt(*breaker, Canon::breaker);
        h.opt(*window_secs, Canon::i64);
        // Added after v1: encoded only when set, after its name, so a
        // policy without it keeps its v1 hash.
        if let Some(l) = ladder {
            h.str("ladder");
            for r in [l.min_gap, l.max_gap, l.min_unit_saving] {
                h.opt(r, Canon::ratio);
            }
        }
        h.0.finalize().into()
    }

    /// [`Policy::content_hash`] as 64 lower-case hex digits.
    pub fn content_hash_hex(&self) -> String {
        hex(&self.content_hash())
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}
