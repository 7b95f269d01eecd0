/* Tiny check helpers shared by the C tests. */
#ifndef PRICEGUARD_TEST_CHECK_H
#define PRICEGUARD_TEST_CHECK_H

#include <stdio.h>

#include "priceguard.h"

/* Field by field: padding bytes are not part of a decision's value. */
static inline int decision_eq(const priceguard_decision *a, const priceguard_decision *b) {
  return a->outcome == b->outcome && a->reason == b->reason && a->present == b->present &&
         a->relaxed == b->relaxed && a->price == b->price && a->lower == b->lower && a->upper == b->upper &&
         a->violated == b->violated && a->binding == b->binding && a->unmet == b->unmet &&
         a->promo_spend == b->promo_spend && a->invalid_field == b->invalid_field &&
         a->needs_approval == b->needs_approval && a->lawful_reference == b->lawful_reference;
}

#endif
