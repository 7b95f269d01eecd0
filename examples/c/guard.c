/* guard: loads a policy and guards a CSV of proposed prices.
 *
 *   guard POLICY.toml PRICES.csv
 *
 * PRICES.csv has a header row naming at least sku and proposed_price, and
 * optionally current_price, unit_cost, reference_price (the "was" price of a
 * promotion) and prior_low_price (its column from `priceguard history
 * summarize`, joined on sku) (plain comma-separated values, no quoting).
 * Writes one CSV row per input row: the price to publish, why, and the
 * lawful "was" price when the one shown is not.
 * A value that cannot be read is a rejected / invalid_input row, never a
 * guess. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <priceguard.h>

enum { COL_SKU, COL_PROPOSED, COL_CURRENT, COL_COST, COL_REFERENCE, COL_PRIOR_LOW, N_COLS };
static const char *const COLUMNS[N_COLS] = {"sku",       "proposed_price",  "current_price",
                                            "unit_cost", "reference_price", "prior_low_price"};
static const uint32_t FIELDS[N_COLS] = {PRICEGUARD_FIELD_SKU,           PRICEGUARD_FIELD_PROPOSED_PRICE,
                                        PRICEGUARD_FIELD_CURRENT_PRICE, PRICEGUARD_FIELD_UNIT_COST,
                                        PRICEGUARD_FIELD_REFERENCE_PRICE, PRICEGUARD_FIELD_PRIOR_LOW_PRICE};

/* Splits `line` in place at commas; returns the number of cells. */
static size_t split(char *line, char **cells, size_t max) {
  size_t n = 0;
  line[strcspn(line, "\r\n")] = 0;
  for (char *p = line; n < max;) {
    cells[n++] = p;
    char *comma = strchr(p, ',');
    if (!comma) break;
    *comma = 0;
    p = comma + 1;
  }
  return n;
}

/* Reads a money cell: 1 present, 0 empty, -1 unreadable (`*why` says why). */
static int money(const priceguard_policy *p, const char *cell, int64_t *out, const char **why) {
  if (cell == NULL || cell[0] == 0) return 0;
  switch (priceguard_money_parse(p, (const uint8_t *)cell, strlen(cell), out)) {
  case PRICEGUARD_RESULT_OK:
    return 1;
  case PRICEGUARD_RESULT_MONEY_TOO_PRECISE:
    *why = "has more decimal places than the policy currency";
    return -1;
  case PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE:
    *why = "is beyond the supported range";
    return -1;
  default:
    *why = "is not a decimal number";
    return -1;
  }
}

static void print_money(const priceguard_policy *p, const priceguard_decision *d, uint32_t bit, int64_t v) {
  char buf[32];
  size_t n = 0;
  if ((d->present & bit) && priceguard_money_format(p, v, buf, sizeof buf, &n) == PRICEGUARD_RESULT_OK)
    fputs(buf, stdout);
}

static void print_rules(uint64_t mask) {
  int first = 1;
  for (uint32_t code = 0; code < 64; code++) {
    if (!(mask & (UINT64_C(1) << code))) continue;
    printf("%s%s", first ? "" : ";", priceguard_rule_name(code));
    first = 0;
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s POLICY PRICES.csv\n", argv[0]);
    return 2;
  }
  char err[512] = "";
  const priceguard_policy *policy = NULL;
  priceguard_result r = priceguard_policy_from_path(argv[1], err, sizeof err, &policy);
  if (r != PRICEGUARD_RESULT_OK) {
    char msg[128];
    size_t n = 0;
    priceguard_result_message(r, msg, sizeof msg, &n);
    fprintf(stderr, "guard: %s: %s: %s\n", argv[1], msg, err);
    return 1;
  }
  FILE *in = fopen(argv[2], "r");
  if (!in) {
    perror(argv[2]);
    priceguard_policy_free(policy);
    return 1;
  }

  char line[4096];
  char *cells[64];
  int col[N_COLS] = {-1, -1, -1, -1, -1, -1};
  if (!fgets(line, sizeof line, in)) {
    fprintf(stderr, "guard: %s: empty file\n", argv[2]);
    fclose(in);
    priceguard_policy_free(policy);
    return 1;
  }
  size_t ncells = split(line, cells, 64);
  for (size_t i = 0; i < ncells; i++)
    for (int c = 0; c < N_COLS; c++)
      if (strcmp(cells[i], COLUMNS[c]) == 0) col[c] = (int)i;
  if (col[COL_SKU] < 0 || col[COL_PROPOSED] < 0) {
    fprintf(stderr, "guard: %s: the header needs `sku` and `proposed_price`\n", argv[2]);
    fclose(in);
    priceguard_policy_free(policy);
    return 1;
  }

  puts("sku,outcome,price,reason,violated,binding,explanation,lawful_reference");
  while (fgets(line, sizeof line, in)) {
    ncells = split(line, cells, 64);
    const char *v[N_COLS];
    for (int c = 0; c < N_COLS; c++) v[c] = (col[c] >= 0 && (size_t)col[c] < ncells) ? cells[col[c]] : NULL;

    priceguard_item item;
    memset(&item, 0, sizeof item);
    int64_t *slots[N_COLS] = {NULL,           &item.proposed_price,  &item.current_price,
                              &item.unit_cost, &item.reference_price, &item.prior_low_price};
    /* An empty cell leaves the bit clear: a value that does not exist. */
    uint32_t bits[N_COLS] = {0, 0, PRICEGUARD_HAS_CURRENT_PRICE, PRICEGUARD_HAS_UNIT_COST, PRICEGUARD_HAS_REFERENCE_PRICE,
                             PRICEGUARD_HAS_PRIOR_LOW_PRICE};
    int bad = -1;
    const char *bad_why = "is required";
    for (int c = COL_PROPOSED; c < N_COLS && bad < 0; c++) {
      int got = money(policy, v[c], slots[c], &bad_why);
      if (got < 0 || (got == 0 && c == COL_PROPOSED)) bad = c;
      if (got > 0) item.present |= bits[c];
    }

    priceguard_decision d;
    char why[1024] = "";
    size_t n = 0;
    if (bad >= 0) {
      /* The shape of the library's own explanation: field: `value` reason. */
      printf("%s,rejected,,invalid_input,,,\"rejected: %s: `%s` %s\",\n", v[COL_SKU], priceguard_field_name(FIELDS[bad]),
             v[bad] ? v[bad] : "", bad_why);
      continue;
    }
    if (priceguard_policy_evaluate(policy, &item, &d) != PRICEGUARD_RESULT_OK) {
      fprintf(stderr, "guard: cannot evaluate %s\n", v[COL_SKU]);
      continue;
    }
    r = priceguard_decision_explain(policy, &item, &d, why, sizeof why, &n);
    if (r == PRICEGUARD_RESULT_BUFFER_TOO_SMALL) snprintf(why, sizeof why, "(explanation of %zu bytes omitted)", n);
    printf("%s,%s,", v[COL_SKU], priceguard_outcome_name(d.outcome));
    print_money(policy, &d, PRICEGUARD_DECISION_HAS_PRICE, d.price);
    printf(",%s,", priceguard_reason_name(d.reason));
    print_rules(d.violated);
    putchar(',');
    print_rules(d.binding);
    printf(",\"%s\",", why);
    print_money(policy, &d, PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE, d.lawful_reference);
    putchar('\n');
  }
  fclose(in);
  priceguard_policy_free(policy);
  return 0;
}
