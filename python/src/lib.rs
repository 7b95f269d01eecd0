//! Python bindings for priceguard.
