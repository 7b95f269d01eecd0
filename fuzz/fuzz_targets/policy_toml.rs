//! Bytes to a TOML policy: never a panic; either an error that names a
//! reason or a policy that evaluates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use priceguard::{Item, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_toml_str(text) {
        Ok(policy) => {
            // A policy that loads must evaluate without panicking.
            let _ = policy.evaluate(&Item::new(1999).with_current_price(2099).with_unit_cost(1000));
        }
        Err(e) => assert!(!e.message.is_empty(), "an error without a reason"),
    }
});
