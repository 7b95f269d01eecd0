//! `Item` as a value: an item that lost a field equals (and hashes as) one
//! never given it, as `Item::from_parts` documents.

#![allow(clippy::unwrap_used)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use priceguard::{Field, Item};

fn hash(item: &Item) -> u64 {
    let mut h = DefaultHasher::new();
    item.hash(&mut h);
    h.finish()
}

#[test]
fn an_item_without_a_field_equals_one_never_given_it() {
    let mut checked = 0;
    for field in Field::ALL {
        // The group fields live beside the item (docs/spec.md §10).
        if matches!(field, Field::ProposedPrice | Field::Sku)
            || Field::GROUP_FIELDS.contains(&field)
        {
            continue;
        }
        let plain = Item::new(1249).with_now(1_800_000_000);
        let mut given = plain;
        assert!(given.set(field, 7), "{field:?}");
        if field == Field::Now {
            // `now` was already there: removing it leaves neither.
            let expected = Item::new(1249);
            assert_eq!(given.without(field), expected, "{field:?}");
            assert_eq!(hash(&given.without(field)), hash(&expected), "{field:?}");
        } else {
            assert_ne!(given, plain, "{field:?}");
            assert_eq!(given.without(field), plain, "{field:?}");
            assert_eq!(hash(&given.without(field)), hash(&plain), "{field:?}");
        }
        assert_eq!(
            given.without(field).presence() & field.bit(),
            0,
            "{field:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
    // The proposal is not optional: `without` leaves it alone.
    let item = Item::new(1249);
    assert_eq!(item.without(Field::ProposedPrice), item);
}
