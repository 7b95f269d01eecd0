//! Eight threads reserve from one `BudgetLedger`: the total reserved never
//! exceeds the budget, exactly, and every reservation is accounted for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;

use priceguard::{BudgetLedger, Item, LedgerError, Outcome, Policy};

/// Iterations per thread: fewer under miri, which interprets every step.
const ROUNDS: i64 = if cfg!(miri) { 60 } else { 5_000 };
const EVALS: i64 = if cfg!(miri) { 20 } else { 500 };

/// A ledger for `policy`: under miri a small one, since the interpreter
/// initialises every one of the default 65,536 reservation slots step by
/// step (the threads never hold more than a few reservations at once).
fn ledger(policy: &Policy) -> BudgetLedger {
    if cfg!(miri) {
        BudgetLedger::with_capacity(policy, 64)
    } else {
        BudgetLedger::new(policy)
    }
}

const POLICY: &str = r#"
name = "ledger"
currency = "USD"
[bounds]
min_price = "1.00"
max_price = "100"
[promotion]
max_discount = "0.50"
budgets = { flash = "1000.00" }
"#;

#[test]
fn eight_threads_never_overspend_raw_reservations() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let id = policy.campaign_id("flash");
    let ledger = Arc::new(ledger(&policy));
    let total = Arc::new(AtomicI64::new(0));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let mut mine = 0;
                for i in 0..ROUNDS {
                    let amount = 1 + ((t * 7 + i) % 13);
                    match ledger.reserve(id, amount) {
                        Ok(r) => {
                            mine += r.amount();
                            if i % 5 == 0 {
                                // Give some back, commit the rest.
                                mine -= r.amount();
                                ledger.release(r).unwrap();
                            } else {
                                ledger.commit(r).unwrap();
                            }
                        }
                        Err(LedgerError::Insufficient {
                            remaining,
                            requested,
                        }) => {
                            assert!(remaining < requested);
                        }
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
                total.fetch_add(mine, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let spent = total.load(Ordering::SeqCst);
    let remaining = ledger.remaining(id).unwrap();
    assert!(spent <= 100_000, "spent {spent} of 100000");
    assert_eq!(spent + remaining, 100_000, "every cent accounted for");
    assert_eq!(ledger.reserved(id), Some(0));
    // 8 x 5000 reservations of 1..13 cents ask far more than the budget:
    // the budget must be all but exhausted, not left idle.
    if !cfg!(miri) {
        assert!(remaining < 1_000, "remaining {remaining}");
    }
}

#[test]
fn eight_threads_evaluating_with_the_ledger_never_overspend() {
    let policy = Arc::new(Policy::from_toml_str(POLICY).unwrap());
    let id = policy.campaign_id("flash");
    let ledger = Arc::new(ledger(&policy));
    let total = Arc::new(AtomicI64::new(0));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let policy = Arc::clone(&policy);
            let ledger = Arc::clone(&ledger);
            let total = Arc::clone(&total);
            thread::spawn(move || {
                for i in 0..EVALS {
                    // 20.00 reference, proposals 10.00..19.99, 1..9 units.
                    let item = Item::new(1000 + (i * 37 + t) % 1000)
                        .with_current_price(2000)
                        .with_reference_price(2000)
                        .with_expected_units(1 + (i + t) % 9)
                        .with_campaign(id);
                    let (d, r) = policy.evaluate_reserving(&item, &ledger);
                    if let Some(r) = r {
                        assert_eq!(Some(r.amount()), d.promo_spend);
                        assert!(matches!(d.outcome, Outcome::Accepted | Outcome::Adjusted));
                        total.fetch_add(r.amount(), Ordering::SeqCst);
                        ledger.commit(r).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let spent = total.load(Ordering::SeqCst);
    let remaining = ledger.remaining(id).unwrap();
    assert!(spent <= 100_000, "spent {spent} of 100000");
    assert_eq!(spent + remaining, 100_000);
    if !cfg!(miri) {
        assert!(spent > 90_000, "the budget was used: {spent}");
    }
}

#[test]
fn settling_more_than_was_reserved_is_refused() {
    use priceguard::ReservationTicket;
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let id = policy.campaign_id("flash");
    let ledger = ledger(&policy);
    let r = ledger.reserve(id, 500).unwrap();
    // A copy of the same reservation, settled after the original.
    let ticket = r.into_ticket();
    let twin = ticket;
    ledger.release_ticket(ticket).unwrap();
    assert_eq!(
        ledger.release_ticket(twin),
        Err(LedgerError::AlreadySettled)
    );
    assert_eq!(ledger.commit_ticket(twin), Err(LedgerError::AlreadySettled));
    assert_eq!(ledger.remaining(id), Some(100_000));
    assert_eq!(ledger.reserved(id), Some(0));
    // A forged ticket: more than was reserved, or no token at all.
    let r = ledger.reserve(id, 100).unwrap();
    let t = r.into_ticket();
    assert_eq!(
        ledger.commit_ticket(ReservationTicket { amount: 101, ..t }),
        Err(LedgerError::NotReserved)
    );
    assert_eq!(
        ledger.commit_ticket(ReservationTicket { token: 0, ..t }),
        Err(LedgerError::NotReserved)
    );
    ledger.commit_ticket(t).unwrap();
    assert_eq!(ledger.remaining(id), Some(99_900));
    assert_eq!(ledger.reserved(id), Some(0));
    assert_eq!(ledger.reserve(id, -1), Err(LedgerError::NegativeAmount));
    assert_eq!(
        ledger.reserve(priceguard::CampaignId(7), 1),
        Err(LedgerError::UnknownCampaign)
    );
}
