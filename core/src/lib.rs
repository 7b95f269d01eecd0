#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]
// `unsafe` lives in one module, `cpu` (the SIMD dispatch).
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(all(test, not(feature = "alloc")))]
extern crate alloc;

#[allow(unsafe_code)]
pub mod cpu;
mod currency_table;

pub mod compiled;
pub mod decision;
pub mod engine;
pub mod group;
pub mod item;
#[cfg(feature = "alloc")]
mod kernel;
#[cfg(feature = "alloc")]
mod lanes;
#[cfg(target_has_atomic = "64")]
pub mod metrics;
pub mod money;
pub mod rules;
mod tail;

#[cfg(feature = "alloc")]
pub mod audit;
#[cfg(feature = "alloc")]
pub mod batch;
#[cfg(feature = "alloc")]
#[doc(hidden)]
pub mod binding;
#[cfg(feature = "alloc")]
mod budgets;
#[cfg(feature = "alloc")]
mod columns;
#[cfg(feature = "alloc")]
mod explain;
#[cfg(feature = "alloc")]
pub mod ledger;
#[cfg(feature = "alloc")]
pub mod policy;
#[cfg(feature = "std")]
pub mod schedule;

pub use compiled::{CompiledRules, Endings, Ratio};
pub use cpu::{simd, Simd};
pub use decision::{Decision, Outcome, Reason};
pub use engine::{evaluate_rules, Budget};
pub use group::{
    resolve_groups, GroupError, GroupRow, GroupScratch, GroupSummary, LadderNote, Member, Segments,
};
pub use item::{CampaignId, Field, Item};
pub use money::{Currency, MoneyError, MAX_MONEY};
pub use rules::ladder::{Ladder, MAX_PACK_SIZE};
pub use rules::{Class, ClassSet, Rule, RuleSet};

#[cfg(feature = "alloc")]
pub use batch::{BatchError, BatchSummary, Budgets, DecisionSink};
#[cfg(feature = "alloc")]
pub use explain::invalid_reason;
#[cfg(feature = "alloc")]
pub use ledger::{BudgetLedger, LedgerError, Reservation, ReservationTicket};
#[cfg(feature = "alloc")]
pub use policy::{Breaker, FieldError, Policy, PolicyError, PolicySpec};

#[cfg(feature = "testkit")]
pub mod testkit;
