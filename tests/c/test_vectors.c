/* Runs the shared vectors (the JSON files of tests/vectors, and this
 * folder's vectors) through the C ABI. The table comes from
 * gen_vectors.py at build time. Exits non-zero naming every failing
 * file, case and form.
 *
 * Every case runs in each form of tests/vectors/README.md:
 * - text form: money read with priceguard_amount_parse, put into the item
 *   with priceguard_item_set_amount, decided with
 *   priceguard_policy_evaluate_scaled (a batch file with
 *   priceguard_policy_evaluate_batch_scaled) at the item's scale;
 * - float form, for cases that have one: the same with each money text's
 *   nearest double through priceguard_amount_from_double;
 * - minor units, for cases whose money texts all read as whole minor units
 *   with priceguard_money_parse (or are unreadable either way): the
 *   minor-unit calls, priceguard_policy_evaluate and
 *   priceguard_policy_evaluate_batch, as before money could be finer.
 * Money in the decisions is compared with priceguard_amount_format at the
 * item's scale: prices with the currency's digits, promo_spend exactly.
 *
 * Group files (tests/vectors/groups) run each case as one grouped batch in
 * the same forms, with rows in four orders; see run_group_case. The
 * history files (tests/vectors/history) also run as one batch per form,
 * each decision equal to its single call. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "priceguard.h"

enum { K_MONEY = 0, K_INT = 1, K_CAMPAIGN = 2, K_INVALID = 3 };

typedef struct vec_value {
  uint32_t field; /* priceguard_field */
  int kind;
  const char *text;
  int64_t value;
  double number; /* money: the double nearest to `text` (float form only) */
} vec_value;

typedef struct vec_case {
  const char *name;
  const vec_value *values;
  size_t n_values;
  int float_form; /* 1: also run with money as doubles */
  const char *outcome, *price, *lower, *upper, *promo_spend;
  const char *violated, *binding, *unmet, *relaxed, *reason;
  int needs_approval;
  const char *invalid_field; /* NULL: not checked */
  const char *explain;       /* NULL: not checked (any sentence will do) */
  const char *lawful_reference; /* NULL: the decision has none */
} vec_case;

typedef struct vec_file {
  const char *name;
  const unsigned char *policy_json;
  size_t policy_len;
  int batch;
  int breaker_tripped;
  const vec_case *cases;
  size_t n_cases;
} vec_file;

/* One row of a group case (tests/vectors/groups): its values, its group
 * info and its expectation (a NULL string: that key is not checked). */
typedef struct vec_grow {
  const char *sku;
  const vec_value *values;
  size_t n_values;
  const char *group; /* NULL: not grouped */
  int has_rank;
  int64_t rank;
  int has_pack_size;
  uint64_t pack_size;
  const char *outcome;
  int price_null;
  const char *price, *reason, *violated, *binding, *unmet, *invalid_field;
  const char *promo_spend; /* whole minor units, rounded up as a budget is charged */
  const char *explain;
} vec_grow;

typedef struct vec_gcase {
  const char *name;
  const vec_grow *rows;
  size_t n_rows;
  int float_form;
  int has_groups;
  uint64_t groups[4]; /* groups, adjusted, held, invalid */
} vec_gcase;

typedef struct vec_gfile {
  const char *name;
  const unsigned char *policy_json;
  size_t policy_len;
  const vec_gcase *cases;
  size_t n_cases;
} vec_gfile;

#include "vectors_table.h"

/* How a run hands money to the library. */
typedef enum form { FORM_TEXT = 0, FORM_FLOAT = 1, FORM_MINOR = 2 } form;
static const char *const FORM_NAMES[] = {"text form", "float form", "minor units"};

static int failures = 0;

/* Every decision is also counted here; main checks the totals against
 * the expected outcomes. */
static priceguard_metrics *metrics = NULL;
static uint64_t expected_outcomes[4] = {0, 0, 0, 0};
static uint64_t expected_approvals = 0;

static void fail(const vec_file *f, const vec_case *c, form m, const char *what, const char *want, const char *got) {
  fprintf(stderr, "FAIL %s: case `%s` (%s): %s: expected `%s`, got `%s`\n", f->name, c ? c->name : "-",
          FORM_NAMES[m], what, want ? want : "null", got ? got : "null");
  failures++;
}

static void count(const vec_file *f, const vec_case *c, form m, const priceguard_policy *p, const priceguard_item *it,
                  uint8_t scale, const priceguard_decision *d) {
  if (priceguard_metrics_record(metrics, d) != PRICEGUARD_RESULT_OK) fail(f, c, m, "metrics_record", "ok", "error");
  for (uint32_t o = 0; o < 4; o++)
    if (strcmp(c->outcome, priceguard_outcome_name(o)) == 0) expected_outcomes[o]++;
  if (c->needs_approval) expected_approvals++;
  if (!it) return;
  /* The decision as JSON names the policy and carries the approval flag. */
  char json[4096];
  size_t n = 0;
  priceguard_result r = m == FORM_MINOR ? priceguard_decision_to_json(p, it, d, json, sizeof json, &n)
                                        : priceguard_decision_to_json_scaled(p, it, scale, d, json, sizeof json, &n);
  if (r != PRICEGUARD_RESULT_OK || n != strlen(json)) {
    fail(f, c, m, "decision_to_json", "ok", "error");
    return;
  }
  const char *flag = d->needs_approval ? "\"needs_approval\":true" : "\"needs_approval\":false";
  if (!strstr(json, flag) || strncmp(json, "{\"policy\":{\"name\":", 18) != 0) fail(f, c, m, "decision_to_json", flag, json);
  /* ... and the lawful "was" price exactly when the decision has one. */
  char lawful[96];
  if (c->lawful_reference) {
    snprintf(lawful, sizeof lawful, "\"lawful_reference\":\"%s\"", c->lawful_reference);
    if (!strstr(json, lawful)) fail(f, c, m, "decision_to_json", lawful, json);
  } else if (strstr(json, "\"lawful_reference\"")) {
    fail(f, c, m, "decision_to_json", "no lawful_reference", json);
  }
}

/* Sets item field `field` to `v`; 0 when the value does not fit. */
static int set_field(priceguard_item *it, uint32_t field, int64_t v) {
  switch (field) {
  case PRICEGUARD_FIELD_CURRENT_PRICE: it->current_price = v; break;
  case PRICEGUARD_FIELD_UNIT_COST: it->unit_cost = v; break;
  case PRICEGUARD_FIELD_MIN_PRICE: it->min_price = v; break;
  case PRICEGUARD_FIELD_MAX_PRICE: it->max_price = v; break;
  case PRICEGUARD_FIELD_MAP_PRICE: it->map_price = v; break;
  case PRICEGUARD_FIELD_REFERENCE_PRICE: it->reference_price = v; break;
  case PRICEGUARD_FIELD_EXPECTED_UNITS: it->expected_units = v; break;
  case PRICEGUARD_FIELD_CAMPAIGN:
    if (v < 0 || v > (int64_t)UINT32_MAX) return 0;
    it->campaign = (uint32_t)v;
    break;
  case PRICEGUARD_FIELD_NOW: it->now = v; break;
  case PRICEGUARD_FIELD_LAST_CHANGE_AT: it->last_change_at = v; break;
  case PRICEGUARD_FIELD_CHANGES_IN_WINDOW: it->changes_in_window = v; break;
  case PRICEGUARD_FIELD_WINDOW_ANCHOR_PRICE: it->window_anchor_price = v; break;
  case PRICEGUARD_FIELD_BASELINE_PRICE: it->baseline_price = v; break;
  case PRICEGUARD_FIELD_COMPETITOR_PRICE: it->competitor_price = v; break;
  case PRICEGUARD_FIELD_SEGMENT:
    if (v < 0 || v > (int64_t)UINT32_MAX) return 0;
    it->segment = (uint32_t)v;
    break;
  case PRICEGUARD_FIELD_PINNED_PRICE: it->pinned_price = v; break;
  case PRICEGUARD_FIELD_PRIOR_LOW_PRICE: it->prior_low_price = v; break;
  case PRICEGUARD_FIELD_PROMO_STARTED_AT: it->promo_started_at = v; break;
  case PRICEGUARD_FIELD_LAST_PROMO_ENDED_AT: it->last_promo_ended_at = v; break;
  case PRICEGUARD_FIELD_REVERSALS_IN_WINDOW: it->reversals_in_window = v; break;
  case PRICEGUARD_FIELD_COMPETITOR_QUOTES: it->competitor_quotes = v; break;
  case PRICEGUARD_FIELD_PROPOSED_PRICE: it->proposed_price = v; return 1;
  default: return 0;
  }
  it->present |= 1u << field;
  return 1;
}

/* Whether the case's money can take the minor-unit calls: every text reads
 * as whole minor units with priceguard_money_parse, or is unreadable with
 * priceguard_amount_parse too (it names the same field either way). */
static int minor_units_only(const priceguard_policy *p, const vec_case *c) {
  for (size_t i = 0; i < c->n_values; i++) {
    const vec_value *v = &c->values[i];
    if (v->kind != K_MONEY) continue;
    int64_t minor = 0, units = 0;
    uint8_t scale = 0;
    int whole = priceguard_money_parse(p, (const uint8_t *)v->text, strlen(v->text), &minor) == PRICEGUARD_RESULT_OK;
    int any = priceguard_amount_parse(p, (const uint8_t *)v->text, strlen(v->text), v->field, &units, &scale) ==
              PRICEGUARD_RESULT_OK;
    if (whole != any) return 0;
  }
  return 1;
}

/* Builds the item (its money in 10^-*scale minor units; 0 in minor-unit
 * form); returns -1 on success, else the first unreadable field. */
static int64_t build_item(const priceguard_policy *p, const vec_case *c, form m, priceguard_item *it, uint8_t *scale) {
  memset(it, 0, sizeof *it);
  *scale = 0;
  for (size_t i = 0; i < c->n_values; i++) {
    const vec_value *v = &c->values[i];
    int64_t x = v->value;
    if (v->kind == K_INVALID) return v->field;
    if (v->kind == K_MONEY && m != FORM_MINOR) {
      int64_t units = 0;
      uint8_t s = 0;
      priceguard_result r = m == FORM_FLOAT
                                ? priceguard_amount_from_double(p, v->number, v->field, &units, &s)
                                : priceguard_amount_parse(p, (const uint8_t *)v->text, strlen(v->text), v->field,
                                                          &units, &s);
      if (r != PRICEGUARD_RESULT_OK) return v->field;
      /* A finer value can make one set before too large: that one is named. */
      uint32_t bad = v->field;
      if (priceguard_item_set_amount(it, scale, v->field, units, s, &bad) != PRICEGUARD_RESULT_OK) return bad;
      continue;
    }
    if (v->kind == K_MONEY) {
      if (priceguard_money_parse(p, (const uint8_t *)v->text, strlen(v->text), &x) != PRICEGUARD_RESULT_OK)
        return v->field;
    } else if (v->kind == K_CAMPAIGN) {
      uint32_t id = 0;
      if (priceguard_policy_campaign_id(p, (const uint8_t *)v->text, strlen(v->text), &id) != PRICEGUARD_RESULT_OK)
        return v->field;
      x = id;
    }
    if (!set_field(it, v->field, x)) return v->field;
  }
  return -1;
}

/* The decision an unreadable item gets, as Decision::invalid(field). */
static priceguard_decision invalid_decision(uint32_t field) {
  priceguard_decision d;
  memset(&d, 0, sizeof d);
  d.outcome = PRICEGUARD_OUTCOME_REJECTED;
  d.reason = PRICEGUARD_REASON_INVALID_INPUT;
  d.present = PRICEGUARD_DECISION_HAS_INVALID_FIELD;
  d.invalid_field = field;
  return d;
}

/* Money of a decision at `scale`, exactly; NULL (in *null) when absent. */
static void money(const priceguard_policy *p, const priceguard_decision *d, uint32_t bit, int64_t v, uint8_t scale,
                  char *out, size_t len, int *null) {
  size_t n = 0;
  *null = !(d->present & bit);
  if (*null) return;
  if (priceguard_amount_format(p, v, scale, out, len, &n) != PRICEGUARD_RESULT_OK) snprintf(out, len, "<format failed>");
}

static void rule_list(uint64_t mask, char *out, size_t len) {
  out[0] = 0;
  for (uint32_t code = 0; code < 64; code++) {
    if (!(mask & (UINT64_C(1) << code))) continue;
    const char *n = priceguard_rule_name(code);
    if (out[0]) strncat(out, ";", len - strlen(out) - 1);
    strncat(out, n ? n : "<unknown rule>", len - strlen(out) - 1);
  }
}

static void class_list(uint32_t mask, char *out, size_t len) {
  out[0] = 0;
  for (uint32_t code = 0; code < 8; code++) {
    if (!(mask & (1u << code))) continue;
    const char *n = priceguard_class_name(code);
    if (out[0]) strncat(out, ";", len - strlen(out) - 1);
    strncat(out, n ? n : "<unknown class>", len - strlen(out) - 1);
  }
}

static void check_str(const vec_file *f, const vec_case *c, form m, const char *what, const char *want,
                      const char *got) {
  if (want == NULL && got == NULL) return;
  if (want == NULL || got == NULL || strcmp(want, got) != 0) fail(f, c, m, what, want, got);
}

static void compare(const vec_file *f, const vec_case *c, form m, const priceguard_policy *p,
                    const priceguard_decision *d, uint8_t scale) {
  char buf[512];
  int null = 0;
  check_str(f, c, m, "outcome", c->outcome, priceguard_outcome_name(d->outcome));
  money(p, d, PRICEGUARD_DECISION_HAS_PRICE, d->price, scale, buf, sizeof buf, &null);
  check_str(f, c, m, "price", c->price, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_LOWER, d->lower, scale, buf, sizeof buf, &null);
  check_str(f, c, m, "lower", c->lower, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_UPPER, d->upper, scale, buf, sizeof buf, &null);
  check_str(f, c, m, "upper", c->upper, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_PROMO_SPEND, d->promo_spend, scale, buf, sizeof buf, &null);
  check_str(f, c, m, "promo_spend", c->promo_spend, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE, d->lawful_reference, scale, buf, sizeof buf, &null);
  check_str(f, c, m, "lawful_reference", c->lawful_reference, null ? NULL : buf);
  rule_list(d->violated, buf, sizeof buf);
  check_str(f, c, m, "violated", c->violated, buf);
  rule_list(d->binding, buf, sizeof buf);
  check_str(f, c, m, "binding", c->binding, buf);
  rule_list(d->unmet, buf, sizeof buf);
  check_str(f, c, m, "unmet", c->unmet, buf);
  class_list(d->relaxed, buf, sizeof buf);
  check_str(f, c, m, "relaxed", c->relaxed, buf);
  check_str(f, c, m, "reason", c->reason, priceguard_reason_name(d->reason));
  check_str(f, c, m, "needs_approval", c->needs_approval ? "true" : "false", d->needs_approval ? "true" : "false");
  if (c->invalid_field) {
    const char *got = (d->present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) ? priceguard_field_name(d->invalid_field)
                                                                           : NULL;
    check_str(f, c, m, "invalid_field", c->invalid_field, got);
  }
}

/* Whether case `i` of `f` runs in form `m`. */
static int runs_in(const priceguard_policy *p, const vec_file *f, size_t i, form m) {
  if (m == FORM_FLOAT) return f->cases[i].float_form;
  if (m == FORM_MINOR) {
    /* A batch runs whole or not at all. */
    if (f->batch) {
      for (size_t j = 0; j < f->n_cases; j++)
        if (!minor_units_only(p, &f->cases[j])) return 0;
      return 1;
    }
    return minor_units_only(p, &f->cases[i]);
  }
  return 1;
}

/* Runs the cases of `f` that have form `m`; counts them in *total. */
static void run_file(const vec_file *f, const priceguard_policy *p, form m, size_t *total) {
  priceguard_item *items = calloc(f->n_cases + 1, sizeof *items);
  uint8_t *scales = calloc(f->n_cases + 1, sizeof *scales);
  int64_t *bad = calloc(f->n_cases + 1, sizeof *bad);
  priceguard_decision *out = calloc(f->n_cases + 1, sizeof *out);
  int *runs = calloc(f->n_cases + 1, sizeof *runs);
  if (!items || !scales || !bad || !out || !runs) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  size_t readable = 0;
  for (size_t i = 0; i < f->n_cases; i++) {
    runs[i] = runs_in(p, f, i, m);
    if (!runs[i]) continue;
    bad[i] = build_item(p, &f->cases[i], m, &items[readable], &scales[readable]);
    if (bad[i] < 0) readable++;
  }
  priceguard_result r;
  if (f->batch) {
    int any = 0;
    for (size_t i = 0; i < f->n_cases; i++) any |= runs[i];
    /* Unreadable rows are invalid in place and never reach the engine, as in
     * the Rust runner; the readable ones run as one batch in input order. */
    priceguard_batch_summary s;
    r = m == FORM_MINOR ? priceguard_policy_evaluate_batch(p, items, readable, out, &s)
                        : priceguard_policy_evaluate_batch_scaled(p, items, scales, readable, out, &s);
    if (!any) {
      /* This form does not apply to the file. */
    } else if (r != PRICEGUARD_RESULT_OK) {
      fprintf(stderr, "FAIL %s (%s): batch failed (%u)\n", f->name, FORM_NAMES[m], (unsigned)r);
      failures++;
    } else {
      priceguard_metrics_record_batch(metrics, &s);
      size_t next = 0;
      for (size_t i = 0; i < f->n_cases; i++) {
        const priceguard_item *it = bad[i] >= 0 ? NULL : &items[next];
        uint8_t scale = bad[i] >= 0 ? 0 : scales[next];
        priceguard_decision d = bad[i] >= 0 ? invalid_decision((uint32_t)bad[i]) : out[next++];
        compare(f, &f->cases[i], m, p, &d, scale);
        count(f, &f->cases[i], m, p, it, scale, &d);
        (*total)++;
      }
      if ((s.breaker_tripped ? 1 : 0) != f->breaker_tripped)
        fail(f, NULL, m, "summary.breaker_tripped", f->breaker_tripped ? "true" : "false",
             s.breaker_tripped ? "true" : "false");
      if (s.items != readable) fail(f, NULL, m, "summary.items", "readable rows", "another count");
    }
  } else {
    size_t next = 0;
    for (size_t i = 0; i < f->n_cases; i++) {
      if (!runs[i]) continue;
      const vec_case *c = &f->cases[i];
      priceguard_decision d;
      priceguard_item *it = bad[i] >= 0 ? NULL : &items[next];
      uint8_t scale = bad[i] >= 0 ? 0 : scales[next];
      if (bad[i] >= 0) {
        d = invalid_decision((uint32_t)bad[i]);
      } else {
        next++;
        r = m == FORM_MINOR ? priceguard_policy_evaluate(p, it, &d) : priceguard_policy_evaluate_scaled(p, it, scale, &d);
        if (r != PRICEGUARD_RESULT_OK) {
          fprintf(stderr, "FAIL %s: case `%s` (%s): evaluate failed (%u)\n", f->name, c->name, FORM_NAMES[m],
                  (unsigned)r);
          failures++;
          continue;
        }
        out[next - 1] = d;
      }
      compare(f, c, m, p, &d, scale);
      count(f, c, m, p, it, scale, &d);
      (*total)++;
      /* Every decision explains itself. */
      char sentence[1024];
      size_t n = 0;
      if (it) {
        r = m == FORM_MINOR ? priceguard_decision_explain(p, it, &d, sentence, sizeof sentence, &n)
                            : priceguard_decision_explain_scaled(p, it, scale, &d, sentence, sizeof sentence, &n);
      }
      if (it && r != PRICEGUARD_RESULT_OK) {
        fail(f, c, m, "explain", "a sentence", "an error");
      } else if (c->explain) {
        if (!it)
          fail(f, c, m, "explain", "an item whose values are all readable", "an unreadable one");
        else
          check_str(f, c, m, "explain", c->explain, sentence);
      }
    }
  }
  /* History items (no budgets, no breaker in those policies) decide the
   * same in one batch as alone: the batch's fast paths hand every item
   * carrying a summary field to the general engine. */
  if (!f->batch && strncmp(f->name, "history/", 8) == 0 && readable > 0) {
    priceguard_decision *together = calloc(readable, sizeof *together);
    priceguard_batch_summary s;
    if (!together) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
    priceguard_result rb = m == FORM_MINOR
                               ? priceguard_policy_evaluate_batch(p, items, readable, together, &s)
                               : priceguard_policy_evaluate_batch_scaled(p, items, scales, readable, together, &s);
    if (rb != PRICEGUARD_RESULT_OK) {
      fail(f, NULL, m, "batch of the file's items", "ok", "an error");
    } else {
      for (size_t i = 0; i < readable; i++)
        if (!decision_eq(&together[i], &out[i])) fail(f, NULL, m, "batch decision", "the single call's", "another");
    }
    free(together);
  }
  free(items);
  free(scales);
  free(bad);
  free(out);
  free(runs);
}

/* ---- Group cases (tests/vectors/groups): one batch each, through
 * priceguard_policy_evaluate_batch_grouped{,_scaled}, every row explained
 * with priceguard_decision_explain_ladder{,_scaled}. Each case runs with
 * its rows as given, reversed, rotated by one and in the Rust runner's
 * fixed shuffle: a group's decisions never depend on row order. */

static const char *const ORDER_NAMES[] = {"as given", "reversed", "rotated", "shuffled"};
static size_t group_runs = 0;

static void gfail(const vec_gfile *f, const vec_gcase *c, form m, int order, const char *sku, const char *what,
                  const char *want, const char *got) {
  fprintf(stderr, "FAIL %s: case `%s` (%s, %s) / %s: %s: expected `%s`, got `%s`\n", f->name, c->name,
          FORM_NAMES[m], ORDER_NAMES[order], sku ? sku : "-", what, want ? want : "null", got ? got : "null");
  failures++;
}

/* Row order `k` of `n` rows into `ord`, as core/tests/ladder_vectors.rs. */
static void order_of(size_t n, int k, size_t *ord) {
  for (size_t i = 0; i < n; i++) ord[i] = i;
  if (k == 1) {
    for (size_t i = 0; i < n; i++) ord[i] = n - 1 - i;
  } else if (k == 2) {
    for (size_t i = 0; i < n; i++) ord[i] = (i + 1) % n;
  } else if (k == 3) {
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
    for (size_t i = n; i-- > 1;) {
      s = s * UINT64_C(6364136223846793005) + 1;
      size_t j = (size_t)((s >> 33) % (uint64_t)(i + 1));
      size_t t = ord[i];
      ord[i] = ord[j];
      ord[j] = t;
    }
  }
}

/* A temporary single-item case over a row's values, for build_item. */
static vec_case row_case(const vec_grow *r) {
  vec_case c;
  memset(&c, 0, sizeof c);
  c.name = r->sku;
  c.values = r->values;
  c.n_values = r->n_values;
  return c;
}

static void gcheck(const vec_gfile *f, const vec_gcase *c, form m, int order, const char *sku, const char *what,
                   const char *want, const char *got) {
  if (want == NULL && got == NULL) return;
  if (want == NULL || got == NULL || strcmp(want, got) != 0) gfail(f, c, m, order, sku, what, want, got);
}

static void gcompare(const vec_gfile *f, const vec_gcase *c, form m, int order, const priceguard_policy *p,
                     const vec_grow *r, const priceguard_decision *d, uint8_t scale) {
  char buf[512];
  int null = 0;
  gcheck(f, c, m, order, r->sku, "outcome", r->outcome, priceguard_outcome_name(d->outcome));
  money(p, d, PRICEGUARD_DECISION_HAS_PRICE, d->price, scale, buf, sizeof buf, &null);
  gcheck(f, c, m, order, r->sku, "price", r->price_null ? NULL : r->price, null ? NULL : buf);
  gcheck(f, c, m, order, r->sku, "reason", r->reason, priceguard_reason_name(d->reason));
  if (r->violated) {
    rule_list(d->violated, buf, sizeof buf);
    gcheck(f, c, m, order, r->sku, "violated", r->violated, buf);
  }
  if (r->binding) {
    rule_list(d->binding, buf, sizeof buf);
    gcheck(f, c, m, order, r->sku, "binding", r->binding, buf);
  }
  if (r->unmet) {
    rule_list(d->unmet, buf, sizeof buf);
    gcheck(f, c, m, order, r->sku, "unmet", r->unmet, buf);
  }
  if (r->invalid_field) {
    const char *got = (d->present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) ? priceguard_field_name(d->invalid_field)
                                                                           : NULL;
    gcheck(f, c, m, order, r->sku, "invalid_field", r->invalid_field, got);
  }
  if (r->promo_spend) {
    /* The spend a budget is charged: rounded up to the minor unit. */
    const char *got = NULL;
    if (d->present & PRICEGUARD_DECISION_HAS_PROMO_SPEND) {
      int64_t k = 1;
      for (uint8_t i = 0; i < scale; i++) k *= 10;
      int64_t minor = d->promo_spend / k + (d->promo_spend % k > 0 ? 1 : 0);
      size_t n = 0;
      if (priceguard_amount_format(p, minor, 0, buf, sizeof buf, &n) != PRICEGUARD_RESULT_OK)
        snprintf(buf, sizeof buf, "<format failed>");
      got = buf;
    }
    gcheck(f, c, m, order, r->sku, "promo_spend", r->promo_spend, got);
  }
}

/* Runs case `c` in form `m`, its rows in order `order`. */
static void run_group_case(const vec_gfile *f, const vec_gcase *c, const priceguard_policy *p, form m, int order) {
  size_t n = c->n_rows;
  size_t *ord = calloc(n + 1, sizeof *ord);
  priceguard_item *items = calloc(n + 1, sizeof *items);
  uint8_t *scales = calloc(n + 1, sizeof *scales);
  int64_t *bad = calloc(n + 1, sizeof *bad);
  priceguard_group_row *rows = calloc(n + 1, sizeof *rows);
  const char **names = calloc(n + 1, sizeof *names);
  priceguard_decision *out = calloc(n + 1, sizeof *out);
  priceguard_ladder_note *notes = calloc(n + 1, sizeof *notes);
  if (!ord || !items || !scales || !bad || !rows || !names || !out || !notes) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  order_of(n, order, ord);
  uint32_t n_names = 0;
  for (size_t i = 0; i < n; i++) {
    const vec_grow *r = &c->rows[ord[i]];
    vec_case one = row_case(r);
    bad[i] = build_item(p, &one, m, &items[i], &scales[i]);
    if (bad[i] >= 0) {
      /* Refused alone (proposal 0): it leaves its group's chain, as an
       * unreadable row does in every door; its decision is replaced below. */
      memset(&items[i], 0, sizeof items[i]);
      scales[i] = 0;
    }
    if (r->group) {
      /* The caller interns group texts: equal texts, one id. */
      uint32_t id = 0;
      while (id < n_names && strcmp(names[id], r->group) != 0) id++;
      if (id == n_names) names[n_names++] = r->group;
      rows[i].present = PRICEGUARD_GROUP_HAS_GROUP;
      rows[i].group = id;
    }
    if (r->has_rank) {
      rows[i].present |= PRICEGUARD_GROUP_HAS_RANK;
      rows[i].rank = r->rank;
    }
    if (r->has_pack_size) {
      rows[i].present |= PRICEGUARD_GROUP_HAS_PACK_SIZE;
      rows[i].pack_size = r->pack_size;
    }
  }
  priceguard_batch_summary s;
  priceguard_group_summary gs;
  priceguard_result res =
      m == FORM_MINOR ? priceguard_policy_evaluate_batch_grouped(p, items, rows, n, out, notes, &s, &gs)
                      : priceguard_policy_evaluate_batch_grouped_scaled(p, items, scales, rows, n, out, notes, &s, &gs);
  if (res != PRICEGUARD_RESULT_OK) {
    char got[32];
    snprintf(got, sizeof got, "%u", (unsigned)res);
    gfail(f, c, m, order, NULL, "grouped batch", "ok", got);
  } else {
    group_runs++;
    for (size_t i = 0; i < n; i++) {
      const vec_grow *r = &c->rows[ord[i]];
      priceguard_decision d = bad[i] >= 0 ? invalid_decision((uint32_t)bad[i]) : out[i];
      gcompare(f, c, m, order, p, r, &d, scales[i]);
      if (bad[i] >= 0) {
        if (r->explain) gfail(f, c, m, order, r->sku, "explain", "an item whose values are all readable", "none");
        continue;
      }
      /* Every row explains itself; a moved one names its neighbour. */
      const priceguard_ladder_note *note = &notes[i];
      const char *nb_sku = NULL;
      const priceguard_group_row *nb_row = NULL;
      if (note->present & PRICEGUARD_LADDER_NOTE_MOVED) {
        if (note->neighbour >= n) {
          gfail(f, c, m, order, r->sku, "note.neighbour", "a row of the batch", "out of range");
          continue;
        }
        nb_sku = c->rows[ord[note->neighbour]].sku;
        nb_row = &rows[note->neighbour];
      }
      char sentence[1024];
      size_t len = 0;
      size_t sku_len = nb_sku ? strlen(nb_sku) : 0;
      res = m == FORM_MINOR
                ? priceguard_decision_explain_ladder(p, &items[i], &out[i], note, (const uint8_t *)nb_sku, sku_len,
                                                     nb_row, sentence, sizeof sentence, &len)
                : priceguard_decision_explain_ladder_scaled(p, &items[i], scales[i], &out[i], note,
                                                            (const uint8_t *)nb_sku, sku_len, nb_row, sentence,
                                                            sizeof sentence, &len);
      if (res != PRICEGUARD_RESULT_OK) {
        gfail(f, c, m, order, r->sku, "explain", "a sentence", "an error");
      } else if (r->explain) {
        if (!(note->present & PRICEGUARD_LADDER_NOTE_MOVED))
          gfail(f, c, m, order, r->sku, "explain", r->explain, "(no ladder note)");
        else
          gcheck(f, c, m, order, r->sku, "explain", r->explain, sentence);
      }
    }
    if (c->has_groups) {
      const uint64_t got[4] = {gs.groups, gs.adjusted, gs.held, gs.invalid};
      static const char *const what[4] = {"groups.groups", "groups.adjusted", "groups.held", "groups.invalid"};
      for (int k = 0; k < 4; k++) {
        if (got[k] == c->groups[k]) continue;
        char want_s[32], got_s[32];
        snprintf(want_s, sizeof want_s, "%" PRIu64, c->groups[k]);
        snprintf(got_s, sizeof got_s, "%" PRIu64, got[k]);
        gfail(f, c, m, order, NULL, what[k], want_s, got_s);
      }
    }
    if (s.items != n) gfail(f, c, m, order, NULL, "summary.items", "every row", "another count");
  }
  free(ord);
  free(items);
  free(scales);
  free(bad);
  free(rows);
  free(names);
  free(out);
  free(notes);
}

/* Every case of every group file, in each form it has and each order. */
static size_t run_group_files(void) {
  size_t cases = 0;
  for (size_t fi = 0; fi < n_group_files; fi++) {
    const vec_gfile *f = &group_files[fi];
    const priceguard_policy *p = NULL;
    char err[512] = "";
    if (priceguard_policy_from_json(f->policy_json, f->policy_len, err, sizeof err, &p) != PRICEGUARD_RESULT_OK) {
      fprintf(stderr, "FAIL %s: policy refused: %s\n", f->name, err);
      failures++;
      continue;
    }
    for (size_t ci = 0; ci < f->n_cases; ci++) {
      const vec_gcase *c = &f->cases[ci];
      int minor = 1;
      for (size_t i = 0; i < c->n_rows; i++) {
        vec_case one = row_case(&c->rows[i]);
        minor &= minor_units_only(p, &one);
      }
      cases++;
      for (int m = FORM_TEXT; m <= FORM_MINOR; m++) {
        if ((m == FORM_FLOAT && !c->float_form) || (m == FORM_MINOR && !minor)) continue;
        for (int order = 0; order < 4; order++) run_group_case(f, c, p, (form)m, order);
      }
    }
    priceguard_policy_free(p);
  }
  return cases;
}

int main(void) {
  size_t n_files = sizeof vec_files / sizeof vec_files[0];
  size_t total = 0, per_form[3] = {0, 0, 0};
  if (priceguard_metrics_new(&metrics) != PRICEGUARD_RESULT_OK) return 2;
  for (size_t i = 0; i < n_files; i++) {
    const vec_file *f = &vec_files[i];
    const priceguard_policy *p = NULL;
    char err[512] = "";
    priceguard_result r = priceguard_policy_from_json(f->policy_json, f->policy_len, err, sizeof err, &p);
    if (r != PRICEGUARD_RESULT_OK) {
      fprintf(stderr, "FAIL %s: policy refused (%u): %s\n", f->name, (unsigned)r, err);
      failures++;
      continue;
    }
    for (int m = FORM_TEXT; m <= FORM_MINOR; m++) {
      size_t before = total;
      run_file(f, p, (form)m, &total);
      per_form[m] += total - before;
    }
    priceguard_policy_free(p);
  }
  /* Metrics totals equal the expected decision counts. */
  static char text[16384];
  size_t n = 0;
  if (priceguard_metrics_render(metrics, text, sizeof text, &n) != PRICEGUARD_RESULT_OK) {
    fprintf(stderr, "FAIL metrics: render failed\n");
    failures++;
  }
  uint64_t sum = 0;
  for (uint32_t o = 0; o < 4; o++) {
    char line[128];
    snprintf(line, sizeof line, "priceguard_decisions_total{outcome=\"%s\"} %" PRIu64 "\n", priceguard_outcome_name(o),
             expected_outcomes[o]);
    if (!strstr(text, line)) {
      fprintf(stderr, "FAIL metrics: missing `%s`\n", line);
      failures++;
    }
    sum += expected_outcomes[o];
  }
  char line[128];
  snprintf(line, sizeof line, "priceguard_needs_approval_total %" PRIu64 "\n", expected_approvals);
  if (sum != total || !strstr(text, line)) {
    fprintf(stderr, "FAIL metrics: %" PRIu64 " decisions counted of %zu, or missing `%s`\n", sum, total, line);
    failures++;
  }
  /* Nearly every case has a float form and takes the minor-unit calls:
   * a runner that skipped them all would test nothing. */
  if (per_form[FORM_FLOAT] * 10 < per_form[FORM_TEXT] * 8 || per_form[FORM_MINOR] * 10 < per_form[FORM_TEXT] * 5) {
    fprintf(stderr, "FAIL forms: %zu text, %zu float, %zu minor-unit runs\n", per_form[FORM_TEXT],
            per_form[FORM_FLOAT], per_form[FORM_MINOR]);
    failures++;
  }
  priceguard_metrics_free(metrics);
  size_t group_cases = run_group_files();
  printf("vectors: %zu files, %zu runs (%zu text form, %zu float form, %zu minor units), %d failures\n", n_files,
         total, per_form[FORM_TEXT], per_form[FORM_FLOAT], per_form[FORM_MINOR], failures);
  printf("group vectors: %zu files, %zu cases, %zu batches (forms x 4 row orders)\n", n_group_files, group_cases,
         group_runs);
  return failures ? 1 : 0;
}
