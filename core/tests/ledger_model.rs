//! The budget ledger against a model: whatever sequence of reserve,
//! commit, release, double settle and forged settle a caller makes, every
//! reservation settles once and no campaign is ever overspent
//! (docs/spec.md §7).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use priceguard::{BudgetLedger, CampaignId, LedgerError, Policy, ReservationTicket};
use proptest::prelude::*;

const POLICY: &str = r#"
name = "ledger"
currency = "USD"
[bounds]
min_price = "1.00"
max_price = "100"
[promotion]
max_discount = "0.50"
budgets = { a = "10.00", b = "5.00", c = "0.50" }
"#;

const BUDGETS: [i64; 3] = [1000, 500, 50];

#[test]
fn a_double_release_while_another_is_outstanding_is_refused() {
    // The issue's sequence: with only the campaign's total checked,
    // releasing A twice while B is outstanding returned B's budget too,
    // and 1,400 could be spent from 1,000.
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let id = policy.campaign_id("a");
    let ledger = BudgetLedger::new(&policy);
    let a = ledger.reserve(id, 400).unwrap().into_ticket();
    let b = ledger.reserve(id, 400).unwrap();
    ledger.release_ticket(a).unwrap();
    assert_eq!(ledger.release_ticket(a), Err(LedgerError::AlreadySettled));
    assert_eq!(ledger.remaining(id), Some(600));
    assert_eq!(ledger.reserved(id), Some(400));
    let c = ledger.reserve(id, 600).unwrap();
    assert!(matches!(
        ledger.reserve(id, 1),
        Err(LedgerError::Insufficient { .. })
    ));
    ledger.commit(b).unwrap();
    ledger.commit(c).unwrap();
    assert_eq!(ledger.remaining(id), Some(0));
    assert_eq!(ledger.reserved(id), Some(0));
}

#[test]
fn a_full_ledger_refuses_new_reservations_until_one_settles() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let id = policy.campaign_id("a");
    let ledger = BudgetLedger::with_capacity(&policy, 2);
    let r1 = ledger.reserve(id, 1).unwrap();
    let r2 = ledger.reserve(id, 1).unwrap();
    assert_eq!(ledger.reserve(id, 1), Err(LedgerError::TooManyReservations));
    // Nothing was taken by the refused call.
    assert_eq!(ledger.remaining(id), Some(998));
    let stale = r1.into_ticket();
    ledger.release_ticket(stale).unwrap();
    let r3 = ledger.reserve(id, 7).unwrap();
    // The freed slot was reused: the old ticket still cannot settle it.
    assert_eq!(
        ledger.commit_ticket(stale),
        Err(LedgerError::AlreadySettled)
    );
    assert_eq!(ledger.reserved(id), Some(8));
    ledger.commit(r2).unwrap();
    ledger.commit(r3).unwrap();
    assert_eq!(ledger.remaining(id), Some(992));
}

#[test]
fn a_ticket_settles_only_in_its_own_ledger() {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let id = policy.campaign_id("a");
    let one = BudgetLedger::new(&policy);
    let two = BudgetLedger::new(&policy);
    let mine = two.reserve(id, 300).unwrap();
    let t = one.reserve(id, 300).unwrap().into_ticket();
    assert_eq!(two.release_ticket(t), Err(LedgerError::NotReserved));
    assert_eq!(two.reserved(id), Some(300));
    assert_eq!(two.remaining(id), Some(700));
    one.release_ticket(t).unwrap();
    two.commit(mine).unwrap();
}

#[derive(Clone, Debug)]
enum Op {
    Reserve {
        campaign: usize,
        amount: i64,
    },
    Commit(usize),
    Release(usize),
    /// Settles ticket `k` with its amount changed by `delta`.
    Forge {
        k: usize,
        delta: i64,
        release: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..400i64).prop_map(|(campaign, amount)| Op::Reserve { campaign, amount }),
        2 => any::<usize>().prop_map(Op::Commit),
        3 => any::<usize>().prop_map(Op::Release),
        1 => (any::<usize>(), prop_oneof![Just(-1i64), Just(1), Just(100)], any::<bool>())
            .prop_map(|(k, delta, release)| Op::Forge { k, delta, release }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn no_sequence_of_calls_overspends(
        ops in prop::collection::vec(op(), 1..80),
        capacity in 1usize..8,
    ) {
        let policy = Policy::from_toml_str(POLICY).unwrap();
        let ids: Vec<CampaignId> = ["a", "b", "c"].iter().map(|n| policy.campaign_id(n)).collect();
        let ledger = BudgetLedger::with_capacity(&policy, capacity);
        // Every ticket ever issued, and whether it is still outstanding.
        let mut tickets: Vec<(ReservationTicket, bool)> = Vec::new();
        let mut committed = [0i64; 3];
        for op in ops {
            match op {
                Op::Reserve { campaign, amount } => {
                    let id = ids[campaign];
                    let outstanding = tickets.iter().filter(|t| t.1).count();
                    let left = ledger.remaining(id).unwrap();
                    match ledger.reserve(id, amount) {
                        Ok(r) => {
                            prop_assert!(amount <= left && outstanding < capacity);
                            tickets.push((r.into_ticket(), true));
                        }
                        Err(LedgerError::Insufficient { .. }) => prop_assert!(amount > left),
                        Err(LedgerError::TooManyReservations) => {
                            prop_assert_eq!(outstanding, capacity);
                        }
                        Err(e) => prop_assert!(false, "unexpected {}", e),
                    }
                }
                Op::Commit(k) | Op::Release(k) if !tickets.is_empty() => {
                    let release = matches!(op, Op::Release(_));
                    let k = k % tickets.len();
                    let (t, live) = tickets[k];
                    let got = if release { ledger.release_ticket(t) } else { ledger.commit_ticket(t) };
                    if live {
                        prop_assert_eq!(got, Ok(()));
                        tickets[k].1 = false;
                        if !release {
                            let c = ids.iter().position(|i| *i == t.campaign).unwrap();
                            committed[c] += t.amount;
                        }
                    } else {
                        prop_assert_eq!(got, Err(LedgerError::AlreadySettled));
                    }
                }
                Op::Forge { k, delta, release } if !tickets.is_empty() => {
                    let (t, live) = tickets[k % tickets.len()];
                    let forged = ReservationTicket { amount: t.amount + delta, ..t };
                    let got = if release { ledger.release_ticket(forged) } else { ledger.commit_ticket(forged) };
                    prop_assert!(got.is_err(), "a forged ticket settled");
                    if live {
                        prop_assert_eq!(got, Err(LedgerError::NotReserved));
                    }
                }
                _ => {}
            }
            for (c, id) in ids.iter().enumerate() {
                let remaining = ledger.remaining(*id).unwrap();
                let reserved = ledger.reserved(*id).unwrap();
                let outstanding: i64 = tickets
                    .iter()
                    .filter(|t| t.1 && t.0.campaign == *id)
                    .map(|t| t.0.amount)
                    .sum();
                prop_assert_eq!(reserved, outstanding);
                prop_assert!(remaining >= 0);
                prop_assert_eq!(remaining + reserved + committed[c], BUDGETS[c]);
            }
        }
    }
}
