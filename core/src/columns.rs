//! The columnar input of a batch: one `&[i64]` per field with an optional
//! validity bitmap. Below the evaluators (the row kernel and the SIMD lanes
//! read it) and the batch drivers (which decide it).

use crate::item::{Field, Item};

/// One optional input column of a [`Columns`] batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column<'a> {
    pub(crate) field: Field,
    pub(crate) values: &'a [i64],
    pub(crate) validity: Option<&'a [u8]>,
}

impl Column<'_> {
    /// Whether row `i` has a value.
    #[inline(always)]
    pub(crate) fn present(&self, i: usize) -> bool {
        match self.validity {
            None => true,
            Some(bits) => bits.get(i / 8).copied().unwrap_or(0) & (1 << (i % 8)) != 0,
        }
    }

    /// Row `i`'s value, if it has one.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        if self.present(i) {
            self.values.get(i).copied()
        } else {
            None
        }
    }
}

/// One slot per field code; `proposed_price` and `sku` are never filled.
const SLOTS: usize = Field::ALL.len();

/// A structure-of-arrays batch for columnar callers (Arrow, Polars,
/// NumPy): one `&[i64]` per field, money in minor units of the policy
/// currency, `campaign` as the raw [`CampaignId`](crate::CampaignId) value
/// and `segment` as the segment id.
///
/// A column that is not given is absent for every row. A given column may
/// carry a validity bitmap in the Arrow layout (bit `i % 8` of byte
/// `i / 8` set when row `i` is present, least significant bit first); a
/// column without one is present in every row. A `campaign` or `segment`
/// value outside `0..=u32::MAX` makes that row `invalid_input`, naming the
/// field. Every column is checked to have the batch's length when added.
///
/// ```
/// use priceguard::batch::Columns;
/// use priceguard::{Decision, Field, Policy};
///
/// let policy = Policy::from_toml_str(r#"
///     name = "cols"
///     currency = "USD"
///     bounds = { min_price = "1", max_price = "100" }
/// "#).unwrap();
/// let proposed = [1249, 20000, 500];
/// let current = [1299, 1999, 0];
/// let current_valid = [0b011]; // row 2 is a new listing
/// let cols = Columns::new(&proposed)
///     .with(Field::CurrentPrice, &current, Some(&current_valid))
///     .unwrap();
/// let mut out = vec![Decision::default(); 3];
/// policy.evaluate_columns(&cols, &mut out).unwrap();
/// assert_eq!(out[1].price, Some(10000));
/// ```
#[derive(Clone, Debug)]
pub struct Columns<'a> {
    pub(crate) proposed: &'a [i64],
    columns: [Option<Column<'a>>; SLOTS],
    /// Per row, the digits beyond the minor unit of the row's money
    /// columns (see [`Columns::with_scales`]); `None`: whole minor units.
    pub(crate) scales: Option<&'a [u8]>,
}

/// A column that cannot join a [`Columns`] batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ColumnsError {
    /// The column's length differs from `proposed_price`'s.
    #[error("column `{field}` holds {len} values but the batch has {items} rows")]
    Length {
        /// The column.
        field: Field,
        /// Its length.
        len: usize,
        /// Rows in the batch.
        items: usize,
    },
    /// The validity bitmap has fewer than one bit per row.
    #[error(
        "validity bitmap of column `{field}` holds {bytes} bytes but {items} rows need {needed}"
    )]
    Validity {
        /// The column.
        field: Field,
        /// Bytes given.
        bytes: usize,
        /// Rows in the batch.
        items: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// `proposed_price` is given to [`Columns::new`]; `sku` is not an engine input.
    #[error("column `{0}` cannot be added with `with`")]
    NotOptional(Field),
}

impl<'a> Columns<'a> {
    /// A batch of `proposed.len()` rows with no optional column.
    pub fn new(proposed: &'a [i64]) -> Columns<'a> {
        Columns {
            proposed,
            columns: [None; SLOTS],
            scales: None,
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.proposed.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.proposed.is_empty()
    }

    /// Adds (or replaces) the column of an optional `field`, with an
    /// optional Arrow-style validity bitmap.
    pub fn with(
        mut self,
        field: Field,
        values: &'a [i64],
        validity: Option<&'a [u8]>,
    ) -> Result<Columns<'a>, ColumnsError> {
        let items = self.len();
        if values.len() != items {
            return Err(ColumnsError::Length {
                field,
                len: values.len(),
                items,
            });
        }
        if let Some(bits) = validity {
            let needed = items.div_ceil(8);
            if bits.len() < needed {
                return Err(ColumnsError::Validity {
                    field,
                    bytes: bits.len(),
                    items,
                    needed,
                });
            }
        }
        if matches!(field, Field::ProposedPrice | Field::Sku) {
            return Err(ColumnsError::NotOptional(field));
        }
        let slot = self
            .columns
            .get_mut(field as usize)
            .ok_or(ColumnsError::NotOptional(field))?;
        *slot = Some(Column {
            field,
            values,
            validity,
        });
        Ok(self)
    }

    /// Gives each row's scale: row `i`'s money values (the proposal and
    /// every money column) are in `10^-scales[i]` minor units, as
    /// [`Item::with_scale`] says (docs/spec.md M1). Rows with scale 0 are
    /// whole minor units and take every fast path; finer rows are decided
    /// exactly by the general engine. Fails when `scales` is not one byte
    /// a row.
    ///
    /// ```
    /// use priceguard::batch::Columns;
    /// use priceguard::{Decision, Field, Policy};
    ///
    /// let policy = Policy::from_toml_str(r#"
    ///     name = "fine"
    ///     currency = "USD"
    ///     bounds = { min_price = "1", max_price = "100" }
    ///     margin = { min_margin = "0.15" }
    /// "#).unwrap();
    /// // Row 1: cost 3.9694 (hundredths of a cent), proposal 4.50.
    /// let proposed = [499, 45000];
    /// let cost = [300, 39694];
    /// let scales = [0, 2];
    /// let cols = Columns::new(&proposed)
    ///     .with(Field::UnitCost, &cost, None).unwrap()
    ///     .with_scales(&scales).unwrap();
    /// let mut out = vec![Decision::default(); 2];
    /// policy.evaluate_columns(&cols, &mut out).unwrap();
    /// // 3.9694 / 0.85 = 4.66988..., so the floor is 4.67, not 4.68.
    /// assert_eq!(out[1].price, Some(467));
    /// ```
    pub fn with_scales(mut self, scales: &'a [u8]) -> Result<Columns<'a>, ColumnsError> {
        if scales.len() != self.len() {
            return Err(ColumnsError::Length {
                field: Field::ProposedPrice,
                len: scales.len(),
                items: self.len(),
            });
        }
        self.scales = Some(scales);
        Ok(self)
    }

    /// `proposed_price`.
    pub(crate) fn proposed(&self) -> &'a [i64] {
        self.proposed
    }

    /// `field`'s column, if given.
    pub(crate) fn column(&self, field: Field) -> Option<Column<'a>> {
        self.columns.get(field as usize).copied().flatten()
    }

    /// Row `i` as an [`Item`], or the field whose value no item can hold.
    #[inline]
    pub fn item(&self, i: usize) -> Result<Item, Field> {
        let mut item = Item::new(self.proposed.get(i).copied().unwrap_or(0))
            .with_scale(row_scale(self.scales, i));
        for col in self.columns.iter().flatten() {
            if let Some(v) = col.get(i) {
                if !item.set(col.field, v) {
                    return Err(col.field);
                }
            }
        }
        Ok(item)
    }

    /// The given columns, in field order, for the row loop.
    pub(crate) fn given(&self) -> ([Column<'a>; SLOTS], usize) {
        let mut given = [Column {
            field: Field::ProposedPrice,
            values: &[],
            validity: None,
        }; SLOTS];
        let mut n = 0;
        for (slot, col) in given.iter_mut().zip(self.columns.iter().flatten()) {
            *slot = *col;
            n += 1;
        }
        (given, n)
    }
}

/// Row `i` of `cols` from the given columns only.
#[inline(always)]
pub(crate) fn gather(cols: &Columns<'_>, given: &[Column<'_>], i: usize) -> Result<Item, Field> {
    let mut item =
        Item::new(cols.proposed.get(i).copied().unwrap_or(0)).with_scale(row_scale(cols.scales, i));
    for col in given {
        if let Some(v) = col.get(i) {
            if !item.set(col.field, v) {
                return Err(col.field);
            }
        }
    }
    Ok(item)
}

/// Row `i`'s scale (0 without a scales column).
#[inline(always)]
pub(crate) fn row_scale(scales: Option<&[u8]>, i: usize) -> u8 {
    scales.and_then(|s| s.get(i).copied()).unwrap_or(0)
}
