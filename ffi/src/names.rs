//! Stable names from codes, as static NUL-terminated strings.

use std::ffi::{c_char, CStr};

use priceguard::{Class, Field, Outcome, Reason, Rule};

/// The rule's name from the core, which writes each name once.
fn rule_cstr(r: Rule) -> Option<&'static CStr> {
    Some(r.c_name())
}

fn reason_cstr(r: Reason) -> Option<&'static CStr> {
    Some(match r {
        Reason::None => c"",
        Reason::Rule(rule) => return rule_cstr(rule),
        Reason::Infeasible => c"infeasible",
        Reason::MissingCost => c"missing_cost",
        Reason::InvalidInput => c"invalid_input",
        Reason::CircuitOpen => c"circuit_open",
        Reason::Freeze => c"freeze",
        Reason::Unbounded => c"unbounded",
        Reason::Ladder => c"ladder",
        Reason::CompetitorQuality => c"competitor_quality",
        Reason::Custom(_) => c"custom",
        _ => return None,
    })
}

fn outcome_cstr(o: Outcome) -> &'static CStr {
    match o {
        Outcome::Accepted => c"accepted",
        Outcome::Adjusted => c"adjusted",
        Outcome::Held => c"held",
        Outcome::Rejected => c"rejected",
    }
}

fn class_cstr(c: Class) -> &'static CStr {
    match c {
        Class::Hard => c"hard",
        Class::Financial => c"financial",
        Class::Stability => c"stability",
        Class::Market => c"market",
        Class::Cosmetic => c"cosmetic",
        Class::Group => c"group",
    }
}

fn field_cstr(f: Field) -> Option<&'static CStr> {
    Some(match f {
        Field::CurrentPrice => c"current_price",
        Field::UnitCost => c"unit_cost",
        Field::MinPrice => c"min_price",
        Field::MaxPrice => c"max_price",
        Field::MapPrice => c"map_price",
        Field::ReferencePrice => c"reference_price",
        Field::ExpectedUnits => c"expected_units",
        Field::Campaign => c"campaign",
        Field::Now => c"now",
        Field::LastChangeAt => c"last_change_at",
        Field::ChangesInWindow => c"changes_in_window",
        Field::WindowAnchorPrice => c"window_anchor_price",
        Field::BaselinePrice => c"baseline_price",
        Field::CompetitorPrice => c"competitor_price",
        Field::Segment => c"segment",
        Field::PinnedPrice => c"pinned_price",
        Field::ProposedPrice => c"proposed_price",
        Field::Sku => c"sku",
        Field::PriorLowPrice => c"prior_low_price",
        Field::PromoStartedAt => c"promo_started_at",
        Field::LastPromoEndedAt => c"last_promo_ended_at",
        Field::ReversalsInWindow => c"reversals_in_window",
        Field::CompetitorQuotes => c"competitor_quotes",
        Field::Group => c"group",
        Field::Rank => c"rank",
        Field::PackSize => c"pack_size",
        _ => return None,
    })
}

fn ptr(s: Option<&'static CStr>) -> *const c_char {
    s.map_or(std::ptr::null(), CStr::as_ptr)
}

/// The stable name of a `priceguard_rule` code (`"margin"`), or NULL for
/// an unknown code. A static string: do not free it.
#[no_mangle]
pub extern "C" fn priceguard_rule_name(code: u32) -> *const c_char {
    ffi_boundary! {
        ptr(u8::try_from(code).ok().and_then(Rule::from_code).and_then(rule_cstr))
    }
}

/// The stable name of a `priceguard_reason` code (`"margin"`,
/// `"invalid_input"`, `""` for none), or NULL for an unknown code. A
/// static string: do not free it.
#[no_mangle]
pub extern "C" fn priceguard_reason_name(code: u32) -> *const c_char {
    ffi_boundary! {
        ptr(Reason::from_code(code).and_then(reason_cstr))
    }
}

/// The stable name of a `priceguard_outcome` (`"adjusted"`), or NULL for
/// an unknown value. A static string: do not free it.
#[no_mangle]
pub extern "C" fn priceguard_outcome_name(outcome: u32) -> *const c_char {
    ffi_boundary! {
        ptr(Outcome::ALL.get(outcome as usize).copied().map(outcome_cstr))
    }
}

/// The stable name of a `priceguard_class` (`"financial"`), or NULL for an
/// unknown value. A static string: do not free it.
#[no_mangle]
pub extern "C" fn priceguard_class_name(class: u32) -> *const c_char {
    ffi_boundary! {
        ptr(crate::types::CLASSES.iter().find(|(c, _)| *c as u32 == class).map(|(_, k)| class_cstr(*k)))
    }
}

/// The docs/spec.md §3 name of a `priceguard_field` (`"unit_cost"`), or NULL for an
/// unknown value. A static string: do not free it.
#[no_mangle]
pub extern "C" fn priceguard_field_name(field: u32) -> *const c_char {
    ffi_boundary! {
        ptr(Field::ALL.get(field as usize).copied().and_then(field_cstr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: *const c_char) -> Option<&'static str> {
        // SAFETY: the name functions return NULL or a static C string.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("<bad>"))
    }

    #[test]
    fn names_match_core() {
        for r in Rule::ALL {
            assert_eq!(s(priceguard_rule_name(*r as u32)), Some(r.name()));
            assert_eq!(
                s(priceguard_reason_name(Reason::Rule(*r).code())),
                Some(r.name())
            );
        }
        assert_eq!(s(priceguard_rule_name(Rule::ALL.len() as u32)), None);
        assert_eq!(s(priceguard_rule_name(u32::MAX)), None);
        for code in 0..100 {
            assert_eq!(
                s(priceguard_reason_name(code)),
                Reason::from_code(code).map(Reason::name)
            );
        }
        for o in Outcome::ALL {
            assert_eq!(s(priceguard_outcome_name(o as u32)), Some(o.name()));
        }
        assert_eq!(s(priceguard_outcome_name(4)), None);
        for (c, k) in crate::types::CLASSES {
            assert_eq!(s(priceguard_class_name(c as u32)), Some(k.name()));
        }
        assert_eq!(s(priceguard_class_name(6)), None);
        for f in Field::ALL {
            assert_eq!(s(priceguard_field_name(f as u32)), Some(f.name()));
        }
        assert_eq!(s(priceguard_field_name(Field::ALL.len() as u32)), None);
    }
}
