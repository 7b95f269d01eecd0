//! Inputs finer than the currency (docs/spec.md M1): read exactly, decided
//! exactly, the same from text, floats and decimals.

#![allow(clippy::unwrap_used)]
use priceguard::money::{Amount, Digits};
use priceguard::{Currency, Field, Item, Outcome, Policy, Reason, Rule};
use rust_decimal::Decimal;

fn policy(extra: &str) -> Policy {
    Policy::from_toml_str(&format!(
        "name = \"fine\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"1000\"\n{extra}"
    ))
    .unwrap()
}

fn item(p: &Policy, fields: &[(Field, &str)]) -> Item {
    let mut it = Item::new(0);
    for (f, t) in fields {
        p.set_field_text(&mut it, *f, t).unwrap();
    }
    it
}

#[test]
fn amounts_parse_exactly() {
    let usd = Currency::from_code("USD").unwrap();
    let a = |t: &str| usd.parse_amount(t, Digits::Exact).unwrap();
    assert_eq!(
        a("19.4373"),
        Amount {
            units: 194373,
            scale: 2
        }
    );
    assert_eq!(
        a("19.99"),
        Amount {
            units: 1999,
            scale: 0
        }
    );
    assert_eq!(
        a("19.990000000"),
        Amount {
            units: 1999,
            scale: 0
        }
    );
    assert_eq!(
        a("13.580160000000001"),
        Amount {
            units: 1358016,
            scale: 3
        }
    );
    assert_eq!(a("0.000000005"), Amount { units: 0, scale: 0 }); // half to even: 0
    assert_eq!(a("0.000000015"), Amount { units: 2, scale: 6 });
    assert_eq!(a("1e-05"), Amount { units: 1, scale: 3 });
    // Digits an exponent puts past the first rounded place: below half.
    assert_eq!(a("7e-10"), Amount { units: 0, scale: 0 });
    assert_eq!(a("5.1e-10"), Amount { units: 0, scale: 0 });
    assert_eq!(a("6e-9"), Amount { units: 1, scale: 6 });
    let jpy = Currency::from_code("JPY").unwrap();
    assert_eq!(
        jpy.parse_amount("51e-09", Digits::Exact),
        Ok(Amount { units: 0, scale: 0 })
    );
    assert_eq!(
        a("1.5E2"),
        Amount {
            units: 15000,
            scale: 0
        }
    );
    let s = |t: &str| usd.parse_amount(t, Digits::Snapped).unwrap();
    // Round to odd keeps the side of every tie.
    assert_eq!(
        s("19.435000000001"),
        Amount {
            units: 1943500001,
            scale: 6
        }
    );
    assert_eq!(
        s("19.435"),
        Amount {
            units: 19435,
            scale: 1
        }
    );
    assert!(usd.parse_amount("1.2.3", Digits::Exact).is_err());
    assert!(usd
        .parse_amount("10000000000000.01", Digits::Exact)
        .is_err());
}

#[test]
fn one_number_any_form() {
    let usd = Currency::from_code("USD").unwrap();
    for (t, f) in [
        ("19.4373", 19.4373f64),
        ("13.580160000000001", 13.580160000000001),
        ("3.9694", 3.9694),
        ("0.1", 0.1),
        ("2.675", 2.675),
        ("1.9999999999999998", 1.9999999999999998),
    ] {
        for how in [Digits::Exact, Digits::Snapped] {
            let text = usd.parse_amount(t, how).unwrap();
            let float = usd.float_to_amount(f, how).unwrap();
            let dec = usd
                .decimal_to_amount(t.parse::<Decimal>().unwrap(), how)
                .unwrap();
            assert_eq!(text, float, "{t}");
            assert_eq!(text, dec, "{t}");
        }
    }
}

#[test]
fn landed_cost_floor_is_exact() {
    let p = policy("[margin]\nmin_margin = \"0.15\"\n");
    let it = item(
        &p,
        &[(Field::ProposedPrice, "4.70"), (Field::UnitCost, "3.9694")],
    );
    let d = p.evaluate(&it);
    // 3.9694 / 0.85 = 4.66988.. -> 4.67 (rounding the cost first gave 4.68).
    let it = it.with_proposed_price(400 * 100);
    let d2 = p.evaluate(&it);
    assert_eq!(d.outcome, Outcome::Accepted);
    assert_eq!(d2.price, Some(467));
    assert_eq!(d2.reason, Reason::Rule(Rule::Margin));
}

#[test]
fn sub_cent_proposal_snaps() {
    let p = policy("");
    let it = item(&p, &[(Field::ProposedPrice, "19.4373")]);
    let d = p.evaluate(&it);
    assert_eq!(d.price, Some(1944));
    assert_eq!(d.outcome, Outcome::Adjusted);
    assert_eq!(d.reason, Reason::Rule(Rule::Tick));
    assert!(d.violated.contains(Rule::Tick) && d.binding.contains(Rule::Tick));
    assert_eq!(
        d.explain(&p, &it),
        "proposed 19.4373 snapped to 19.44 by tick (tick 0.01)"
    );
    let it = item(&p, &[(Field::ProposedPrice, "0.0049")]);
    let d = p.evaluate(&it);
    // 0.0049 snaps to 0.00: no price at all.
    assert_eq!(d.invalid_field, Some(Field::ProposedPrice), "{d:?}");
}

#[test]
fn fine_spend_is_exact_and_budget_charged_up() {
    let p = policy("[promotion]\nmax_discount = \"0.5\"\n");
    let it = item(
        &p,
        &[
            (Field::ProposedPrice, "15.00"),
            (Field::ReferencePrice, "19.4373"),
            (Field::ExpectedUnits, "10"),
        ],
    );
    let d = p.evaluate(&it);
    assert_eq!(d.price, Some(1500));
    // (19.4373 - 15.00) x 10 = 44.373, exactly.
    assert_eq!((d.promo_spend, d.spend_scale), (Some(44373), 1));
    assert_eq!(d.promo_spend_minor(), Some(4438));
}

#[test]
fn a_proposal_that_snaps_to_zero_is_invalid() {
    let p = Policy::from_toml_str(
        "name = \"chf\"\ncurrency = \"CHF\"\ntick = \"0.05\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"100\"\n",
    )
    .unwrap();
    for (t, invalid) in [
        ("0.025", true),
        ("0.02", true),
        ("0.0251", false),
        ("0.03", false),
    ] {
        let it = item(&p, &[(Field::ProposedPrice, t)]);
        let d = p.evaluate(&it);
        assert_eq!(d.reason == Reason::InvalidInput, invalid, "{t}: {d:?}");
        if invalid {
            assert_eq!(d.invalid_field, Some(Field::ProposedPrice));
            assert_eq!(
                d.explain(&p, &it),
                format!("rejected: proposed_price: `{t}` snaps to zero on the policy's tick")
            );
        }
    }
}

#[test]
fn a_hold_at_a_finer_current_price_is_held_not_accepted() {
    let p = policy("[change]\ncooldown_secs = 3600\nmax_increase = \"0.5\"\n");
    let it = item(
        &p,
        &[
            (Field::ProposedPrice, "19.4373"),
            (Field::CurrentPrice, "19.4373"),
            (Field::Now, "1000"),
            (Field::LastChangeAt, "999"),
        ],
    );
    let d = p.evaluate(&it);
    // Published: the current price rounded to the cent, which is not the
    // proposal: held by the cooldown.
    assert_eq!((d.outcome, d.price), (Outcome::Held, Some(1944)));
    assert_eq!(d.reason, Reason::Rule(Rule::Cooldown));
}

/// The short reader for plain finer text gives what the general reader
/// gives, on every shape around its limits.
#[test]
fn short_and_general_readings_agree() {
    use priceguard::money::parse_amount;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let digits = (next() % 4) as u8;
        let int_len = (next() % 14) as usize;
        let frac_len = (next() % 12) as usize;
        let mut t = String::new();
        match next() % 4 {
            0 => t.push('-'),
            1 => t.push('+'),
            _ => {}
        }
        for _ in 0..int_len {
            t.push(char::from(b'0' + (next() % 10) as u8));
        }
        t.push('.');
        for _ in 0..frac_len {
            t.push(char::from(b'0' + (next() % 10) as u8));
        }
        for how in [Digits::Exact, Digits::Snapped] {
            let got = parse_amount(&t, digits, how);
            // The general reader, reached through an exponent form of the
            // same number (which the short reader never takes).
            let general = parse_amount(&format!("{t}e0"), digits, how);
            assert_eq!(got, general, "{t} at {digits} digits");
        }
    }
}
