/* Runs the shared vectors (the JSON files of tests/vectors, and this
 * folder's vectors) through the C ABI. The table comes from
 * gen_vectors.py at build time. Exits non-zero naming every failing
 * file and case. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priceguard.h"

enum { K_MONEY = 0, K_INT = 1, K_CAMPAIGN = 2, K_INVALID = 3 };

typedef struct vec_value {
  uint32_t field; /* priceguard_field */
  int kind;
  const char *text;
  int64_t value;
} vec_value;

typedef struct vec_case {
  const char *name;
  const vec_value *values;
  size_t n_values;
  const char *outcome, *price, *lower, *upper, *promo_spend;
  const char *violated, *binding, *unmet, *relaxed, *reason;
  int needs_approval;
  const char *invalid_field; /* NULL: not checked */
  const char *explain;       /* NULL: not checked (any sentence will do) */
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

#include "vectors_table.h"

static int failures = 0;

/* Every decision is also counted here; main checks the totals against
 * the expected outcomes. */
static priceguard_metrics *metrics = NULL;
static uint64_t expected_outcomes[4] = {0, 0, 0, 0};
static uint64_t expected_approvals = 0;

static void fail(const vec_file *f, const vec_case *c, const char *what, const char *want, const char *got);

static void count(const vec_file *f, const vec_case *c, const priceguard_policy *p, const priceguard_item *it,
                  const priceguard_decision *d) {
  if (priceguard_metrics_record(metrics, d) != PRICEGUARD_RESULT_OK) fail(f, c, "metrics_record", "ok", "error");
  for (uint32_t o = 0; o < 4; o++)
    if (strcmp(c->outcome, priceguard_outcome_name(o)) == 0) expected_outcomes[o]++;
  if (c->needs_approval) expected_approvals++;
  if (!it) return;
  /* The decision as JSON names the policy and carries the approval flag. */
  char json[4096];
  size_t n = 0;
  if (priceguard_decision_to_json(p, it, d, json, sizeof json, &n) != PRICEGUARD_RESULT_OK || n != strlen(json)) {
    fail(f, c, "decision_to_json", "ok", "error");
    return;
  }
  const char *flag = d->needs_approval ? "\"needs_approval\":true" : "\"needs_approval\":false";
  if (!strstr(json, flag) || strncmp(json, "{\"policy\":{\"name\":", 18) != 0)
    fail(f, c, "decision_to_json", flag, json);
}

static void fail(const vec_file *f, const vec_case *c, const char *what, const char *want, const char *got) {
  fprintf(stderr, "FAIL %s: case `%s`: %s: expected `%s`, got `%s`\n", f->name, c ? c->name : "-", what,
          want ? want : "null", got ? got : "null");
  failures++;
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
  case PRICEGUARD_FIELD_PROPOSED_PRICE: it->proposed_price = v; return 1;
  default: return 0;
  }
  it->present |= 1u << field;
  return 1;
}

/* Builds the item; returns -1 on success, else the first unreadable field. */
static int64_t build_item(const priceguard_policy *p, const vec_case *c, priceguard_item *it) {
  memset(it, 0, sizeof *it);
  for (size_t i = 0; i < c->n_values; i++) {
    const vec_value *v = &c->values[i];
    int64_t x = v->value;
    if (v->kind == K_INVALID) return v->field;
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

static void money(const priceguard_policy *p, const priceguard_decision *d, uint32_t bit, int64_t v, char *out,
                  size_t len, int *null) {
  size_t n = 0;
  *null = !(d->present & bit);
  if (*null) return;
  if (priceguard_money_format(p, v, out, len, &n) != PRICEGUARD_RESULT_OK) snprintf(out, len, "<format failed>");
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

static void check_str(const vec_file *f, const vec_case *c, const char *what, const char *want, const char *got) {
  if (want == NULL && got == NULL) return;
  if (want == NULL || got == NULL || strcmp(want, got) != 0) fail(f, c, what, want, got);
}

static void compare(const vec_file *f, const vec_case *c, const priceguard_policy *p, const priceguard_decision *d) {
  char buf[512];
  int null = 0;
  check_str(f, c, "outcome", c->outcome, priceguard_outcome_name(d->outcome));
  money(p, d, PRICEGUARD_DECISION_HAS_PRICE, d->price, buf, sizeof buf, &null);
  check_str(f, c, "price", c->price, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_LOWER, d->lower, buf, sizeof buf, &null);
  check_str(f, c, "lower", c->lower, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_UPPER, d->upper, buf, sizeof buf, &null);
  check_str(f, c, "upper", c->upper, null ? NULL : buf);
  money(p, d, PRICEGUARD_DECISION_HAS_PROMO_SPEND, d->promo_spend, buf, sizeof buf, &null);
  check_str(f, c, "promo_spend", c->promo_spend, null ? NULL : buf);
  rule_list(d->violated, buf, sizeof buf);
  check_str(f, c, "violated", c->violated, buf);
  rule_list(d->binding, buf, sizeof buf);
  check_str(f, c, "binding", c->binding, buf);
  rule_list(d->unmet, buf, sizeof buf);
  check_str(f, c, "unmet", c->unmet, buf);
  class_list(d->relaxed, buf, sizeof buf);
  check_str(f, c, "relaxed", c->relaxed, buf);
  check_str(f, c, "reason", c->reason, priceguard_reason_name(d->reason));
  check_str(f, c, "needs_approval", c->needs_approval ? "true" : "false", d->needs_approval ? "true" : "false");
  if (c->invalid_field) {
    const char *got = (d->present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) ? priceguard_field_name(d->invalid_field)
                                                                           : NULL;
    check_str(f, c, "invalid_field", c->invalid_field, got);
  }
}

static void run_file(const vec_file *f, size_t *total) {
  const priceguard_policy *p = NULL;
  char err[512] = "";
  priceguard_result r = priceguard_policy_from_json(f->policy_json, f->policy_len, err, sizeof err, &p);
  if (r != PRICEGUARD_RESULT_OK) {
    fprintf(stderr, "FAIL %s: policy refused (%u): %s\n", f->name, (unsigned)r, err);
    failures++;
    return;
  }
  priceguard_item *items = calloc(f->n_cases + 1, sizeof *items);
  int64_t *bad = calloc(f->n_cases + 1, sizeof *bad);
  priceguard_decision *out = calloc(f->n_cases + 1, sizeof *out);
  if (!items || !bad || !out) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  size_t readable = 0;
  for (size_t i = 0; i < f->n_cases; i++) {
    bad[i] = build_item(p, &f->cases[i], &items[readable]);
    if (bad[i] < 0) readable++;
  }
  if (f->batch) {
    /* Unreadable rows are invalid in place and never reach the engine, as in
     * the Rust runner; the readable ones run as one batch in input order. */
    priceguard_batch_summary s;
    r = priceguard_policy_evaluate_batch(p, items, readable, out, &s);
    if (r == PRICEGUARD_RESULT_OK) priceguard_metrics_record_batch(metrics, &s);
    if (r != PRICEGUARD_RESULT_OK) {
      fprintf(stderr, "FAIL %s: batch failed (%u)\n", f->name, (unsigned)r);
      failures++;
    } else {
      size_t next = 0;
      for (size_t i = 0; i < f->n_cases; i++) {
        const priceguard_item *it = bad[i] >= 0 ? NULL : &items[next];
        priceguard_decision d = bad[i] >= 0 ? invalid_decision((uint32_t)bad[i]) : out[next++];
        compare(f, &f->cases[i], p, &d);
        count(f, &f->cases[i], p, it, &d);
      }
      if ((s.breaker_tripped ? 1 : 0) != f->breaker_tripped)
        fail(f, NULL, "summary.breaker_tripped", f->breaker_tripped ? "true" : "false",
             s.breaker_tripped ? "true" : "false");
      if (s.items != readable) fail(f, NULL, "summary.items", "readable rows", "another count");
    }
  } else {
    size_t next = 0;
    for (size_t i = 0; i < f->n_cases; i++) {
      priceguard_decision d;
      if (bad[i] >= 0) {
        d = invalid_decision((uint32_t)bad[i]);
      } else {
        r = priceguard_policy_evaluate(p, &items[next++], &d);
        if (r != PRICEGUARD_RESULT_OK) {
          fprintf(stderr, "FAIL %s: case `%s`: evaluate failed (%u)\n", f->name, f->cases[i].name, (unsigned)r);
          failures++;
          continue;
        }
      }
      compare(f, &f->cases[i], p, &d);
      count(f, &f->cases[i], p, bad[i] >= 0 ? NULL : &items[next - 1], &d);
      /* Every decision explains itself. */
      char sentence[1024];
      size_t n = 0;
      if (bad[i] < 0 &&
          priceguard_decision_explain(p, &items[next - 1], &d, sentence, sizeof sentence, &n) != PRICEGUARD_RESULT_OK) {
        fail(f, &f->cases[i], "explain", "a sentence", "an error");
      } else if (f->cases[i].explain) {
        if (bad[i] >= 0)
          fail(f, &f->cases[i], "explain", "an item whose values are all readable", "an unreadable one");
        else
          check_str(f, &f->cases[i], "explain", f->cases[i].explain, sentence);
      }
    }
  }
  *total += f->n_cases;
  free(items);
  free(bad);
  free(out);
  priceguard_policy_free(p);
}

int main(void) {
  size_t n_files = sizeof vec_files / sizeof vec_files[0];
  size_t total = 0;
  if (priceguard_metrics_new(&metrics) != PRICEGUARD_RESULT_OK) return 2;
  for (size_t i = 0; i < n_files; i++) run_file(&vec_files[i], &total);
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
  priceguard_metrics_free(metrics);
  printf("vectors: %zu files, %zu cases, %d failures\n", n_files, total, failures);
  return failures ? 1 : 0;
}
