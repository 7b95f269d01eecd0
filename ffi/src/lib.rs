//! C ABI for priceguard.
