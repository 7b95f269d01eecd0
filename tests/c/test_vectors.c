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
 * item's scale: prices with the currency's digits, promo_spend exactly. */
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
  free(items);
  free(scales);
  free(bad);
  free(out);
  free(runs);
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
  printf("vectors: %zu files, %zu runs (%zu text form, %zu float form, %zu minor units), %d failures\n", n_files,
         total, per_form[FORM_TEXT], per_form[FORM_FLOAT], per_form[FORM_MINOR], failures);
  return failures ? 1 : 0;
}
