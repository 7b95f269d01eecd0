#define _POSIX_C_SOURCE 200809L
/* 8 threads share one policy and one ledger: they evaluate and reserve
 * concurrently. The ledger never overspends and every decision that does
 * not depend on the ledger equals the single-threaded one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "priceguard.h"

#define THREADS 8
#define ITEMS 64
#define BUDGET 100000 /* 1000.00 */

static const char POLICY[] = "name = \"threads\"\ncurrency = \"USD\"\n"
                             "[bounds]\nmin_price = \"0.99\"\nmax_price = \"5000\"\n"
                             "[margin]\nmin_margin = \"0.15\"\n"
                             "[change]\nmax_increase = \"0.10\"\nmax_decrease = \"0.20\"\n"
                             "[promotion]\nmax_discount = \"0.50\"\n"
                             "budgets = { spring = \"1000.00\", flash = \"10.00\" }\n";

static const priceguard_policy *policy;
static priceguard_ledger *ledger;
static priceguard_item items[ITEMS];
static priceguard_decision expected[ITEMS];
static uint32_t spring, flash;
static int rounds = 200;
static pthread_barrier_t start;

typedef struct result {
  int mismatches;
  int errors;
  int64_t committed[2]; /* spring, flash */
  int64_t direct_reserved;
} result;

static void *worker(void *arg) {
  result *res = arg;
  pthread_barrier_wait(&start);
  for (int round = 0; round < rounds; round++) {
    for (int i = 0; i < ITEMS; i++) {
      priceguard_decision d;
      priceguard_reservation r;
      if (priceguard_policy_evaluate(policy, &items[i], &d) != PRICEGUARD_RESULT_OK) res->errors++;
      if (!decision_eq(&d, &expected[i])) res->mismatches++;
      if (priceguard_policy_evaluate_reserving(policy, ledger, &items[i], &d, &r) != PRICEGUARD_RESULT_OK) {
        res->errors++;
        continue;
      }
      if (!(items[i].present & PRICEGUARD_HAS_CAMPAIGN)) {
        if (!decision_eq(&d, &expected[i]) || r.amount != 0) res->mismatches++;
        continue;
      }
      /* With less budget left the price can only go up, never below the full-budget one. */
      if (r.amount > 0 && (d.promo_spend != r.amount || d.price < expected[i].price)) res->mismatches++;
      if (r.amount > 0) {
        /* Commit every other reservation, release the rest. */
        if ((round + i) % 2 == 0) {
          if (priceguard_ledger_commit(ledger, &r) != PRICEGUARD_RESULT_OK) res->errors++;
          res->committed[r.campaign == spring ? 0 : 1] += r.amount;
        } else if (priceguard_ledger_release(ledger, &r) != PRICEGUARD_RESULT_OK) {
          res->errors++;
        }
      }
    }
    /* Direct reservations race the evaluations for the flash budget. */
    priceguard_reservation r;
    if (priceguard_ledger_reserve(ledger, flash, 7, &r) == PRICEGUARD_RESULT_OK) {
      if (priceguard_ledger_commit(ledger, &r) != PRICEGUARD_RESULT_OK) res->errors++;
      res->direct_reserved += 7;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) rounds = atoi(argv[1]);
  char err[256] = "";
  if (priceguard_policy_from_toml((const uint8_t *)POLICY, strlen(POLICY), err, sizeof err, &policy) !=
      PRICEGUARD_RESULT_OK) {
    fprintf(stderr, "policy refused: %s\n", err);
    return 2;
  }
  if (priceguard_ledger_new(policy, &ledger) != PRICEGUARD_RESULT_OK) return 2;
  priceguard_policy_campaign_id(policy, (const uint8_t *)"spring", 6, &spring);
  priceguard_policy_campaign_id(policy, (const uint8_t *)"flash", 5, &flash);

  memset(items, 0, sizeof items);
  for (int i = 0; i < ITEMS; i++) {
    priceguard_item *it = &items[i];
    it->proposed_price = 500 + 37 * i;
    it->unit_cost = 300 + 11 * i;
    it->present = PRICEGUARD_HAS_UNIT_COST;
    if (i % 3 == 0) {
      it->current_price = 600 + 29 * i;
      it->present |= PRICEGUARD_HAS_CURRENT_PRICE;
    }
    if (i % 4 == 1) {
      it->reference_price = it->proposed_price + 200;
      it->expected_units = 1 + i % 5;
      it->campaign = (i % 8 == 1) ? flash : spring;
      it->present |= PRICEGUARD_HAS_REFERENCE_PRICE | PRICEGUARD_HAS_EXPECTED_UNITS | PRICEGUARD_HAS_CAMPAIGN;
    }
    if (priceguard_policy_evaluate(policy, it, &expected[i]) != PRICEGUARD_RESULT_OK) return 2;
  }

  pthread_t threads[THREADS];
  result results[THREADS];
  memset(results, 0, sizeof results);
  pthread_barrier_init(&start, NULL, THREADS);
  for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, &results[t]);
  int64_t committed[2] = {0, 0}, direct = 0;
  int mismatches = 0, errors = 0;
  for (int t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    mismatches += results[t].mismatches;
    errors += results[t].errors;
    committed[0] += results[t].committed[0];
    committed[1] += results[t].committed[1];
    direct += results[t].direct_reserved;
  }
  pthread_barrier_destroy(&start);

  int failures = 0;
  int64_t left_spring = -1, left_flash = -1, held_spring = -1, held_flash = -1;
  priceguard_ledger_remaining(ledger, spring, &left_spring);
  priceguard_ledger_remaining(ledger, flash, &left_flash);
  priceguard_ledger_reserved(ledger, spring, &held_spring);
  priceguard_ledger_reserved(ledger, flash, &held_flash);
  if (mismatches || errors) {
    fprintf(stderr, "FAIL: %d decisions differ from the single-threaded ones, %d call errors\n", mismatches, errors);
    failures++;
  }
  if (committed[0] > 100000 || committed[1] + direct > 1000) {
    fprintf(stderr, "FAIL: overspent: spring %lld of 100000, flash %lld of 1000\n", (long long)committed[0],
            (long long)(committed[1] + direct));
    failures++;
  }
  if (left_spring != 100000 - committed[0] || left_flash != 1000 - committed[1] - direct || held_spring != 0 ||
      held_flash != 0) {
    fprintf(stderr, "FAIL: ledger out of step: spring left %lld (committed %lld), flash left %lld\n",
            (long long)left_spring, (long long)committed[0], (long long)left_flash);
    failures++;
  }
  printf("threads: %d x %d rounds x %d items; spring committed %lld, flash committed %lld + %lld direct\n", THREADS,
         rounds, ITEMS, (long long)committed[0], (long long)committed[1], (long long)direct);
  priceguard_ledger_free(ledger);
  priceguard_policy_free(policy);
  return failures ? 1 : 0;
}
