/* Cost of one evaluation through the C ABI: 7 runs of 1M calls of
 * priceguard_policy_evaluate on the core bench's "typical" item; prints the
 * median ns per call. Compare with direct/ (the same loop in Rust). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "priceguard.h"

#define RUNS 7

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "policy.toml";
  const int CALLS = argc > 2 ? atoi(argv[2]) : 1000000; /* calls per run */
  const priceguard_policy *p = NULL;
  char err[512] = "";
  if (priceguard_policy_from_path(path, err, sizeof err, &p) != PRICEGUARD_RESULT_OK) {
    fprintf(stderr, "%s: %s\n", path, err);
    return 1;
  }
  priceguard_item item;
  memset(&item, 0, sizeof item);
  item.proposed_price = 1349;
  item.current_price = 1299;
  item.unit_cost = 1000;
  item.now = 1800000000;
  item.last_change_at = 1799990000;
  item.present = PRICEGUARD_HAS_CURRENT_PRICE | PRICEGUARD_HAS_UNIT_COST | PRICEGUARD_HAS_NOW |
                 PRICEGUARD_HAS_LAST_CHANGE_AT;

  volatile int64_t sink = 0;
  double per_call[RUNS];
  priceguard_decision d;
  for (int i = 0; i < CALLS / 10; i++) { /* warm up */
    priceguard_policy_evaluate(p, &item, &d);
    sink += d.price;
  }
  for (int run = 0; run < RUNS; run++) {
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
      if (priceguard_policy_evaluate(p, &item, &d) != PRICEGUARD_RESULT_OK) return 1;
      sink += d.price;
    }
    per_call[run] = (now_ns() - t0) / (double)CALLS;
  }
  qsort(per_call, RUNS, sizeof per_call[0], cmp);
  printf("c_abi   median %.2f ns/call (min %.2f, max %.2f) outcome=%s price=%lld\n", per_call[RUNS / 2],
         per_call[0], per_call[RUNS - 1], priceguard_outcome_name(d.outcome), (long long)d.price);
  priceguard_policy_free(p);
  return sink == 42 ? 2 : 0;
}
