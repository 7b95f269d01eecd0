/* Calls every function of priceguard.h, every error path included. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "priceguard.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    checks++;                                                                                                          \
    if (!(cond)) {                                                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                        \
      failures++;                                                                                                      \
    }                                                                                                                  \
  } while (0)

#define CHECK_RESULT(call, want)                                                                                       \
  do {                                                                                                                 \
    priceguard_result got_ = (call);                                                                                   \
    checks++;                                                                                                          \
    if (got_ != (want)) {                                                                                              \
      fprintf(stderr, "%s:%d: %s returned %u, expected %u\n", __FILE__, __LINE__, #call, (unsigned)got_,             \
              (unsigned)(want));                                                                                       \
      failures++;                                                                                                      \
    }                                                                                                                  \
  } while (0)

#define U8(s) ((const uint8_t *)(s))

static const char POLICY_TOML[] = "name = \"demo\"\n"
                                  "version = \"2026-11-27\"\n"
                                  "currency = \"USD\"\n"
                                  "[bounds]\n"
                                  "min_price = \"0.99\"\n"
                                  "max_price = \"5000\"\n"
                                  "[margin]\n"
                                  "min_margin = \"0.15\"\n"
                                  "[promotion]\n"
                                  "max_discount = \"0.50\"\n"
                                  "budgets = { spring = \"100.00\", autumn = \"5.00\" }\n"
                                  "[approval]\n"
                                  "max_auto_change = \"0.50\"\n";

static const char POLICY_JSON[] = "{\"name\":\"yen\",\"currency\":\"JPY\","
                                  "\"bounds\":{\"min_price\":\"100\",\"max_price\":\"100000\"}}";

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const priceguard_policy *load_toml(const char *text) {
  const priceguard_policy *p = NULL;
  char err[256] = "";
  priceguard_result r = priceguard_policy_from_toml(U8(text), strlen(text), err, sizeof err, &p);
  if (r != PRICEGUARD_RESULT_OK) {
    fprintf(stderr, "policy refused: %s\n", err);
    exit(2);
  }
  return p;
}

static void test_version_and_messages(void) {
  const char *v = priceguard_version();
  CHECK(v != NULL && strlen(v) >= 5 && strchr(v, '.') != NULL);

  char buf[128];
  size_t n = 99;
  CHECK_RESULT(priceguard_result_message(PRICEGUARD_RESULT_OK, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "success") && n == 7);
  /* Every code has a message that fits in 128 bytes. */
  const priceguard_result codes[] = priceguard_result_ALL;
  CHECK(sizeof codes / sizeof codes[0] == 21);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    CHECK_RESULT(priceguard_result_message(codes[i], buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
    CHECK(n > 0 && n == strlen(buf));
  }
  /* Published values: never reused. */
  CHECK(PRICEGUARD_RESULT_POLICY_NOT_A_FILE == 102 && PRICEGUARD_RESULT_POLICY_TOO_LARGE == 103);
  CHECK(PRICEGUARD_RESULT_ALREADY_SETTLED == 305 && PRICEGUARD_RESULT_TOO_MANY_RESERVATIONS == 306);
  CHECK(PRICEGUARD_RESULT_MONEY_NOT_FINITE == 203);
  CHECK_RESULT(priceguard_result_message(PRICEGUARD_RESULT_POLICY_INVALID, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "the policy is invalid"));
  /* A too-small message buffer: truncated, NUL-terminated, told so. */
  char small[5];
  CHECK_RESULT(priceguard_result_message(PRICEGUARD_RESULT_POLICY_INVALID, small, sizeof small, &n),
               PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 4 && streq(small, "the "));
  CHECK_RESULT(priceguard_result_message(PRICEGUARD_RESULT_OK, small, 0, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 0);
  CHECK_RESULT(priceguard_result_message(7777, buf, sizeof buf, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK(streq(buf, "unknown result code"));
  CHECK_RESULT(priceguard_result_message(0, NULL, 10, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_result_message(0, buf, sizeof buf, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
}

static void test_names(void) {
  CHECK(streq(priceguard_rule_name(PRICEGUARD_RULE_MARGIN), "margin"));
  CHECK(streq(priceguard_rule_name(PRICEGUARD_RULE_PINNED), "pinned"));
  CHECK(streq(priceguard_rule_name(PRICEGUARD_RULE_MAX_MARKUP), "max_markup"));
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_MAX_MARKUP), "max_markup"));
  CHECK(streq(priceguard_rule_name(PRICEGUARD_RULE_LADDER_GAP), "ladder_gap"));
  CHECK(streq(priceguard_rule_name(PRICEGUARD_RULE_UNIT_PRICE), "unit_price"));
  /* Far from the last code, so later rules do not make this one exist. */
  CHECK(priceguard_rule_name(63) == NULL);
  CHECK(priceguard_rule_name(UINT32_MAX) == NULL);
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_NONE), ""));
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_MARGIN), "margin"));
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_INVALID_INPUT), "invalid_input"));
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_UNBOUNDED), "unbounded"));
  CHECK(streq(priceguard_reason_name(PRICEGUARD_REASON_LADDER), "ladder"));
  CHECK(priceguard_reason_name(63) == NULL && priceguard_reason_name(99) == NULL);
  CHECK(streq(priceguard_outcome_name(PRICEGUARD_OUTCOME_HELD), "held"));
  CHECK(priceguard_outcome_name(4) == NULL);
  CHECK(streq(priceguard_class_name(PRICEGUARD_CLASS_STABILITY), "stability"));
  CHECK(streq(priceguard_class_name(PRICEGUARD_CLASS_GROUP), "group"));
  CHECK(priceguard_class_name(31) == NULL);
  CHECK(streq(priceguard_field_name(PRICEGUARD_FIELD_UNIT_COST), "unit_cost"));
  CHECK(streq(priceguard_field_name(PRICEGUARD_FIELD_SKU), "sku"));
  CHECK(streq(priceguard_field_name(PRICEGUARD_FIELD_RANK), "rank"));
  CHECK(streq(priceguard_field_name(PRICEGUARD_FIELD_PACK_SIZE), "pack_size"));
  CHECK(priceguard_field_name(63) == NULL);
  /* Reason codes for rules are 1 + the rule code. */
  for (uint32_t code = 0; code <= PRICEGUARD_RULE_UNIT_PRICE; code++) CHECK(streq(priceguard_reason_name(code + 1), priceguard_rule_name(code)));
}

static void test_loading_errors(void) {
  const priceguard_policy *p = (const priceguard_policy *)0x1;
  char err[256];

  /* NULL text, NULL output. */
  CHECK_RESULT(priceguard_policy_from_toml(NULL, 3, err, sizeof err, &p), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_from_toml(U8("x"), 1, err, sizeof err, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_from_json(NULL, 0, NULL, 0, &p), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(p == (const priceguard_policy *)0x1); /* outputs untouched on failure */

  /* Empty buffer: not NULL, zero bytes: a policy without a name. */
  strcpy(err, "");
  CHECK_RESULT(priceguard_policy_from_toml(U8(""), 0, err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strlen(err) > 0);
  CHECK_RESULT(priceguard_policy_from_json(U8(""), 0, err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_INVALID);

  /* Invalid UTF-8. */
  const char bad_utf8[] = "name = \"\xff\xfe\"\ncurrency = \"USD\"\n";
  CHECK_RESULT(priceguard_policy_from_toml(U8(bad_utf8), strlen(bad_utf8), err, sizeof err, &p),
               PRICEGUARD_RESULT_INVALID_UTF8);
  CHECK(strstr(err, "utf-8") != NULL && strstr(err, "byte 8") != NULL);
  CHECK_RESULT(priceguard_policy_from_json(U8("{\"\xc3"), 3, err, sizeof err, &p), PRICEGUARD_RESULT_INVALID_UTF8);

  /* Malformed policy: syntax, then a rule that cannot hold, naming field and line. */
  const char broken[] = "name = \"x\"\ncurrency = \"USD\"\n[bounds\n";
  CHECK_RESULT(priceguard_policy_from_toml(U8(broken), strlen(broken), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strlen(err) > 0);
  const char margin[] = "name = \"x\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"9\"\n"
                        "[margin]\nmin_margin = \"1.5\"\n";
  CHECK_RESULT(priceguard_policy_from_toml(U8(margin), strlen(margin), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strstr(err, "margin.min_margin") != NULL && strstr(err, "line 7") != NULL);
  const char json_bad[] = "{\"name\":\"x\",\"currency\":\"USD\",\"bogus\":1}";
  CHECK_RESULT(priceguard_policy_from_json(U8(json_bad), strlen(json_bad), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strstr(err, "bogus") != NULL);

  /* A policy or a table written as a JSON array (fields by position) is refused. */
  const char positional[] = "[\"p\",\"1\",\"USD\",null,null,false,false,{\"min_price\":\"1\",\"max_price\":\"100\"}]";
  CHECK_RESULT(priceguard_policy_from_json(U8(positional), strlen(positional), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(streq(err, "a policy must be a JSON object, not an array (line 1, column 1)"));
  const char positional_bounds[] = "{\"name\":\"p\",\"currency\":\"USD\",\"bounds\":[\"1\",\"100\"]}";
  CHECK_RESULT(priceguard_policy_from_json(U8(positional_bounds), strlen(positional_bounds), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strstr(err, "bounds: must be an object, not an array") == err);
  const char toml_array[] = "name = \"p\"\ncurrency = \"USD\"\nbounds = [\"1\", \"100\"]\n";
  CHECK_RESULT(priceguard_policy_from_toml(U8(toml_array), strlen(toml_array), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strstr(err, "bounds: must be a table, not an array") == err);

  /* Unknown currency. */
  const char xyz[] = "name = \"x\"\ncurrency = \"XYZ\"\n[bounds]\nmin_price = \"1\"\nmax_price = \"9\"\n";
  CHECK_RESULT(priceguard_policy_from_toml(U8(xyz), strlen(xyz), err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strstr(err, "currency") != NULL && strstr(err, "XYZ") != NULL);

  /* A too-small detail buffer truncates; NULL detail is allowed. */
  char tiny[8];
  CHECK_RESULT(priceguard_policy_from_toml(U8(xyz), strlen(xyz), tiny, sizeof tiny, &p),
               PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(strlen(tiny) == 7);
  CHECK_RESULT(priceguard_policy_from_toml(U8(xyz), strlen(xyz), NULL, 0, &p), PRICEGUARD_RESULT_POLICY_INVALID);
  CHECK(p == (const priceguard_policy *)0x1);

  /* Files. */
  CHECK_RESULT(priceguard_policy_from_path(NULL, err, sizeof err, &p), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_from_path("x.toml", err, sizeof err, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_from_path("/nonexistent/policy.toml", err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_IO);
  CHECK(strstr(err, "/nonexistent/policy.toml") != NULL);

  /* Not a regular file: refused before reading, never read until EOF. */
  CHECK_RESULT(priceguard_policy_from_path("/dev/zero", err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_NOT_A_FILE);
  CHECK(streq(err, "`/dev/zero` is not a regular file"));
  CHECK_RESULT(priceguard_policy_from_path("/tmp", err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_NOT_A_FILE);
  CHECK_RESULT(priceguard_policy_from_path_limited("/dev/zero", UINT64_MAX, err, sizeof err, &p),
               PRICEGUARD_RESULT_POLICY_NOT_A_FILE);
  CHECK_RESULT(priceguard_policy_from_path_limited(NULL, 10, err, sizeof err, &p), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_from_path_limited("x.toml", 10, err, sizeof err, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(p == (const priceguard_policy *)0x1);
}

static void test_files(void) {
  char err[256] = "";
  const priceguard_policy *p = NULL;
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char toml_path[512], json_path[512], bad_path[512];
  snprintf(toml_path, sizeof toml_path, "%s/pg_c_test_%ld.toml", dir, (long)rand());
  snprintf(json_path, sizeof json_path, "%s/pg_c_test_%ld.JSON", dir, (long)rand());
  snprintf(bad_path, sizeof bad_path, "%s/pg_c_test_%ld_bad.toml", dir, (long)rand());
  FILE *f = fopen(toml_path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs(POLICY_TOML, f);
  fclose(f);
  f = fopen(json_path, "w");
  if (!f) return;
  fputs(POLICY_JSON, f);
  fclose(f);
  f = fopen(bad_path, "wb");
  if (!f) return;
  fputs("name = \"\xff\"\n", f);
  fclose(f);

  CHECK_RESULT(priceguard_policy_from_path(toml_path, err, sizeof err, &p), PRICEGUARD_RESULT_OK);
  char name[64];
  size_t n = 0;
  CHECK_RESULT(priceguard_policy_name(p, name, sizeof name, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(name, "demo"));
  priceguard_policy_free(p);
  p = NULL;
  CHECK_RESULT(priceguard_policy_from_path(json_path, err, sizeof err, &p), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_name(p, name, sizeof name, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(name, "yen"));
  priceguard_policy_free(p);
  p = NULL;
  CHECK_RESULT(priceguard_policy_from_path(bad_path, err, sizeof err, &p), PRICEGUARD_RESULT_INVALID_UTF8);
  CHECK(p == NULL);
  /* A file over the caller's cap; the same file under a cap it fits. */
  CHECK_RESULT(priceguard_policy_from_path_limited(toml_path, 16, err, sizeof err, &p), PRICEGUARD_RESULT_POLICY_TOO_LARGE);
  CHECK(p == NULL && strstr(err, "16 bytes") != NULL);
  CHECK_RESULT(priceguard_policy_from_path_limited(toml_path, sizeof POLICY_TOML, err, sizeof err, &p),
               PRICEGUARD_RESULT_OK);
  priceguard_policy_free(p);
  p = NULL;
  remove(toml_path);
  remove(json_path);
  remove(bad_path);
}

static void test_identity(const priceguard_policy *p) {
  char buf[64];
  size_t n = 0;
  uint32_t digits = 99;
  CHECK_RESULT(priceguard_policy_name(p, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "demo") && n == 4);
  CHECK_RESULT(priceguard_policy_version(p, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "2026-11-27") && n == 10);
  CHECK_RESULT(priceguard_policy_currency(p, buf, sizeof buf, &n, &digits), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "USD") && n == 3 && digits == 2);

  /* Too small: untouched buffer, needed length in out_n. */
  char small[4] = "zzz";
  n = 0;
  CHECK_RESULT(priceguard_policy_name(p, small, 4, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 4 && streq(small, "zzz"));
  CHECK_RESULT(priceguard_policy_version(p, small, 4, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 10);
  digits = 99;
  CHECK_RESULT(priceguard_policy_currency(p, small, 3, &n, &digits), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 3 && digits == 99);
  CHECK_RESULT(priceguard_policy_currency(p, small, sizeof small, &n, &digits), PRICEGUARD_RESULT_OK);

  /* NULLs. */
  CHECK_RESULT(priceguard_policy_name(NULL, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_name(p, NULL, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_name(p, buf, sizeof buf, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_version(NULL, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_currency(NULL, buf, sizeof buf, &n, &digits), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_currency(p, buf, sizeof buf, &n, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);

  /* Campaigns: ids in name order; an unknown name is the UNKNOWN id. */
  size_t count = 0;
  uint32_t id = 42;
  CHECK_RESULT(priceguard_policy_campaign_count(p, &count), PRICEGUARD_RESULT_OK);
  CHECK(count == 2);
  CHECK_RESULT(priceguard_policy_campaign_count(NULL, &count), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_campaign_count(p, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("autumn"), 6, &id), PRICEGUARD_RESULT_OK);
  CHECK(id == 0);
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("spring-and-more"), 6, &id), PRICEGUARD_RESULT_OK);
  CHECK(id == 1);
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("winter"), 6, &id), PRICEGUARD_RESULT_OK);
  CHECK(id == PRICEGUARD_CAMPAIGN_UNKNOWN);
  id = 42;
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("\xff"), 1, &id), PRICEGUARD_RESULT_INVALID_UTF8);
  CHECK_RESULT(priceguard_policy_campaign_id(p, NULL, 0, &id), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_campaign_id(NULL, U8("a"), 1, &id), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("a"), 1, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(id == 42);
}

static void test_money(const priceguard_policy *usd, const priceguard_policy *jpy) {
  int64_t v = 7;
  CHECK_RESULT(priceguard_money_parse(usd, U8("14.30"), 5, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 1430);
  CHECK_RESULT(priceguard_money_parse(usd, U8(" 14.3xyz"), 5, &v), PRICEGUARD_RESULT_OK); /* length-bounded */
  CHECK(v == 1430);
  CHECK_RESULT(priceguard_money_parse(usd, U8("-0.05"), 5, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == -5);
  CHECK_RESULT(priceguard_money_parse(usd, U8("14.300"), 6, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 1430);
  v = 7;
  CHECK_RESULT(priceguard_money_parse(usd, U8("14.301"), 6, &v), PRICEGUARD_RESULT_MONEY_TOO_PRECISE);
  CHECK_RESULT(priceguard_money_parse(usd, U8("abc"), 3, &v), PRICEGUARD_RESULT_MONEY_SYNTAX);
  CHECK_RESULT(priceguard_money_parse(usd, U8("1e3"), 3, &v), PRICEGUARD_RESULT_MONEY_SYNTAX);
  CHECK_RESULT(priceguard_money_parse(usd, U8(""), 0, &v), PRICEGUARD_RESULT_MONEY_SYNTAX);
  CHECK_RESULT(priceguard_money_parse(usd, U8("99999999999999999999"), 20, &v), PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE);
  CHECK_RESULT(priceguard_money_parse(usd, U8("1\xff"), 2, &v), PRICEGUARD_RESULT_INVALID_UTF8);
  CHECK_RESULT(priceguard_money_parse(usd, NULL, 0, &v), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_money_parse(NULL, U8("1"), 1, &v), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_money_parse(usd, U8("1"), 1, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(v == 7);
  CHECK_RESULT(priceguard_money_parse(jpy, U8("1430"), 4, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 1430);
  CHECK_RESULT(priceguard_money_parse(jpy, U8("1430.5"), 6, &v), PRICEGUARD_RESULT_MONEY_TOO_PRECISE);

  char buf[32];
  size_t n = 0;
  CHECK_RESULT(priceguard_money_format(usd, 1430, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "14.30") && n == 5);
  CHECK_RESULT(priceguard_money_format(usd, -5, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "-0.05"));
  CHECK_RESULT(priceguard_money_format(jpy, 1430, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "1430"));
  CHECK_RESULT(priceguard_money_format(usd, INT64_MIN, buf, 24, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "-92233720368547758.08"));
  CHECK_RESULT(priceguard_money_format(usd, 1430, buf, 5, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 5);
  CHECK_RESULT(priceguard_money_format(NULL, 1, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_money_format(usd, 1, NULL, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_money_format(usd, 1, buf, sizeof buf, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
}

/* Reads `text` as an amount of `field`; fails the check on an error. */
static void amount(const priceguard_policy *p, const char *text, uint32_t field, int64_t *units, uint8_t *scale) {
  CHECK_RESULT(priceguard_amount_parse(p, U8(text), strlen(text), field, units, scale), PRICEGUARD_RESULT_OK);
}

/* Sets `field` of `item` (money in 10^-*scale minor units) from text. */
static void set_text(const priceguard_policy *p, priceguard_item *item, uint8_t *scale, uint32_t field,
                     const char *text) {
  int64_t u = 0;
  uint8_t s = 0;
  amount(p, text, field, &u, &s);
  CHECK_RESULT(priceguard_item_set_amount(item, scale, field, u, s, NULL), PRICEGUARD_RESULT_OK);
}

/* `units` at `scale` formatted into `buf` (32 bytes). */
static const char *fmt(const priceguard_policy *p, int64_t units, uint8_t scale, char *buf) {
  size_t n = 0;
  if (priceguard_amount_format(p, units, scale, buf, 32, &n) != PRICEGUARD_RESULT_OK) return "<format failed>";
  return buf;
}

static void test_amounts(const priceguard_policy *usd, const priceguard_policy *jpy) {
  int64_t u = 7;
  uint8_t s = 9;
  /* Text of any precision, exponents as Python writes them. */
  amount(usd, "19.4373", PRICEGUARD_FIELD_PROPOSED_PRICE, &u, &s);
  CHECK(u == 194373 && s == 2);
  amount(usd, " 14.30 ", PRICEGUARD_FIELD_UNIT_COST, &u, &s);
  CHECK(u == 1430 && s == 0);
  amount(usd, "1e-05", PRICEGUARD_FIELD_UNIT_COST, &u, &s);
  CHECK(u == 1 && s == 3);
  amount(usd, "13.580160000000001", PRICEGUARD_FIELD_UNIT_COST, &u, &s);
  CHECK(u == 1358016 && s == 3);
  /* Past 6 digits beyond the cent: a cost rounds half to even, the
   * proposal keeps an odd last digit so its snap is the full number's. */
  amount(usd, "1.000000005", PRICEGUARD_FIELD_UNIT_COST, &u, &s);
  CHECK(u == 100 && s == 0);
  amount(usd, "1.000000005", PRICEGUARD_FIELD_PROPOSED_PRICE, &u, &s);
  CHECK(u == 100000001 && s == 6);
  amount(jpy, "1249.5", PRICEGUARD_FIELD_PROPOSED_PRICE, &u, &s);
  CHECK(u == 12495 && s == 1);
  u = 7;
  s = 9;
  CHECK_RESULT(priceguard_amount_parse(usd, U8("abc"), 3, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_MONEY_SYNTAX);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1,299.00"), 8, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_MONEY_SYNTAX);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1e20"), 4, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1"), 1, PRICEGUARD_FIELD_NOW, &u, &s),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1"), 1, 99, &u, &s), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1\xff"), 2, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_INVALID_UTF8);
  CHECK_RESULT(priceguard_amount_parse(NULL, U8("1"), 1, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_parse(usd, NULL, 0, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1"), 1, PRICEGUARD_FIELD_UNIT_COST, NULL, &s),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_parse(usd, U8("1"), 1, PRICEGUARD_FIELD_UNIT_COST, &u, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(u == 7 && s == 9);
  /* The minor-unit entry point still refuses extra digits. */
  CHECK_RESULT(priceguard_money_parse(usd, U8("19.4373"), 7, &u), PRICEGUARD_RESULT_MONEY_TOO_PRECISE);

  /* Doubles: their shortest round-trip decimal, read as text is. */
  CHECK_RESULT(priceguard_amount_from_double(usd, 19.4373, PRICEGUARD_FIELD_PROPOSED_PRICE, &u, &s),
               PRICEGUARD_RESULT_OK);
  CHECK(u == 194373 && s == 2);
  CHECK_RESULT(priceguard_amount_from_double(usd, 13.580160000000001, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_OK);
  CHECK(u == 1358016 && s == 3);
  CHECK_RESULT(priceguard_amount_from_double(usd, 0.1, PRICEGUARD_FIELD_UNIT_COST, &u, &s), PRICEGUARD_RESULT_OK);
  CHECK(u == 10 && s == 0);
  CHECK_RESULT(priceguard_amount_from_double(usd, 1e-05, PRICEGUARD_FIELD_UNIT_COST, &u, &s), PRICEGUARD_RESULT_OK);
  CHECK(u == 1 && s == 3);
  u = 7;
  s = 9;
  CHECK_RESULT(priceguard_amount_from_double(usd, NAN, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_MONEY_NOT_FINITE);
  CHECK_RESULT(priceguard_amount_from_double(usd, -INFINITY, PRICEGUARD_FIELD_PROPOSED_PRICE, &u, &s),
               PRICEGUARD_RESULT_MONEY_NOT_FINITE);
  CHECK_RESULT(priceguard_amount_from_double(usd, 1e20, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE);
  CHECK_RESULT(priceguard_amount_from_double(usd, 1.0, PRICEGUARD_FIELD_SEGMENT, &u, &s),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_amount_from_double(NULL, 1.0, PRICEGUARD_FIELD_UNIT_COST, &u, &s),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_from_double(usd, 1.0, PRICEGUARD_FIELD_UNIT_COST, NULL, &s),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_from_double(usd, 1.0, PRICEGUARD_FIELD_UNIT_COST, &u, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(u == 7 && s == 9);

  /* Formatting: the currency's digits and every finer one. */
  char buf[32];
  size_t n = 0;
  CHECK(streq(fmt(usd, 194373, 2, buf), "19.4373"));
  CHECK(streq(fmt(usd, 144000, 2, buf), "14.40"));
  CHECK(streq(fmt(usd, 5, 0, buf), "0.05"));
  CHECK(streq(fmt(jpy, 12495, 1, buf), "1249.5"));
  CHECK(streq(fmt(usd, INT64_MIN, 6, buf), "-92233720368.54775808"));
  CHECK_RESULT(priceguard_amount_format(usd, 194373, 2, buf, 7, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 7);
  CHECK_RESULT(priceguard_amount_format(usd, 1, 7, buf, sizeof buf, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_amount_format(NULL, 1, 0, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_format(usd, 1, 0, NULL, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_amount_format(usd, 1, 0, buf, sizeof buf, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);

  /* Building an item: a finer amount raises the item's scale, exactly. */
  priceguard_item item;
  memset(&item, 0, sizeof item);
  uint8_t scale = 0;
  set_text(usd, &item, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "19.99");
  CHECK(item.proposed_price == 1999 && scale == 0 && item.present == 0);
  set_text(usd, &item, &scale, PRICEGUARD_FIELD_UNIT_COST, "3.9694");
  CHECK(item.proposed_price == 199900 && item.unit_cost == 39694 && scale == 2);
  CHECK(item.present == PRICEGUARD_HAS_UNIT_COST);
  set_text(usd, &item, &scale, PRICEGUARD_FIELD_CURRENT_PRICE, "15");
  CHECK(item.current_price == 150000 && scale == 2);
  CHECK(item.present == (PRICEGUARD_HAS_UNIT_COST | PRICEGUARD_HAS_CURRENT_PRICE));
  /* Errors change nothing. */
  priceguard_item before = item;
  CHECK_RESULT(priceguard_item_set_amount(&item, &scale, PRICEGUARD_FIELD_NOW, 1, 0, NULL),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_item_set_amount(&item, &scale, PRICEGUARD_FIELD_UNIT_COST, 1, 7, NULL),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  uint8_t bad_scale = 7;
  CHECK_RESULT(priceguard_item_set_amount(&item, &bad_scale, PRICEGUARD_FIELD_UNIT_COST, 1, 0, NULL),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_item_set_amount(NULL, &scale, PRICEGUARD_FIELD_UNIT_COST, 1, 0, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_item_set_amount(&item, NULL, PRICEGUARD_FIELD_UNIT_COST, 1, 0, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(memcmp(&item, &before, sizeof item) == 0 && scale == 2 && bad_scale == 7);
  item.present |= 1u << 23;
  CHECK_RESULT(priceguard_item_set_amount(&item, &scale, PRICEGUARD_FIELD_UNIT_COST, 1, 0, NULL),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  /* A value that no longer fits 64 bits at the finer scale. */
  memset(&item, 0, sizeof item);
  item.proposed_price = INT64_MAX / 5;
  scale = 0;
  before = item;
  uint32_t bad = UINT32_MAX;
  CHECK_RESULT(priceguard_item_set_amount(&item, &scale, PRICEGUARD_FIELD_UNIT_COST, 1, 1, &bad),
               PRICEGUARD_RESULT_MONEY_OUT_OF_RANGE);
  CHECK(memcmp(&item, &before, sizeof item) == 0 && scale == 0);
  /* The proposal set before no longer fits, not the cost being set. */
  CHECK(bad == PRICEGUARD_FIELD_PROPOSED_PRICE);
}

static void test_scaled(const priceguard_policy *p) {
  priceguard_item item;
  priceguard_decision d;
  uint8_t scale = 0;
  char buf[1024], m[32];
  size_t n = 0;

  /* A model's 19.4373 snaps to 19.44 on the cent tick. */
  memset(&item, 0, sizeof item);
  set_text(p, &item, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "19.4373");
  set_text(p, &item, &scale, PRICEGUARD_FIELD_UNIT_COST, "5.00");
  CHECK(scale == 2);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, scale, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED && d.reason == PRICEGUARD_REASON_TICK);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_PRICE) && d.price == 194400);
  CHECK(streq(fmt(p, d.price, scale, m), "19.44"));
  CHECK(d.violated == (UINT64_C(1) << PRICEGUARD_RULE_TICK) && d.binding == (UINT64_C(1) << PRICEGUARD_RULE_TICK));
  CHECK_RESULT(priceguard_decision_explain_scaled(p, &item, scale, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "proposed 19.4373 snapped to 19.44 by tick (tick 0.01)") && n == strlen(buf));
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &item, scale, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "\"proposed_price\":\"19.4373\"") != NULL);
  CHECK(strstr(buf, "\"price\":\"19.44\"") != NULL && n == strlen(buf));
  /* A decision that is not whole cents at the scale came from elsewhere. */
  priceguard_decision odd = d;
  odd.price = 194373;
  CHECK_RESULT(priceguard_decision_explain_scaled(p, &item, scale, &odd, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &item, scale, &odd, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);

  /* A landed cost of 3.9694 with min_margin 0.15: 3.9694 / 0.85 = 4.6699, so 4.67. */
  memset(&item, 0, sizeof item);
  scale = 0;
  set_text(p, &item, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "4.50");
  set_text(p, &item, &scale, PRICEGUARD_FIELD_UNIT_COST, "3.9694");
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, scale, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED && d.reason == PRICEGUARD_REASON_MARGIN);
  CHECK(streq(fmt(p, d.price, scale, m), "4.67") && streq(fmt(p, d.lower, scale, m), "4.67"));
  CHECK(streq(fmt(p, d.upper, scale, m), "5000.00"));

  /* An exact promotion spend: (20.4373 - 15.00) x 10 = 54.373. */
  memset(&item, 0, sizeof item);
  scale = 0;
  set_text(p, &item, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "15.00");
  set_text(p, &item, &scale, PRICEGUARD_FIELD_UNIT_COST, "1.00");
  set_text(p, &item, &scale, PRICEGUARD_FIELD_REFERENCE_PRICE, "20.4373");
  uint32_t spring = 0;
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("spring"), 6, &spring), PRICEGUARD_RESULT_OK);
  item.campaign = spring;
  item.expected_units = 10;
  item.present |= PRICEGUARD_HAS_CAMPAIGN | PRICEGUARD_HAS_EXPECTED_UNITS;
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, scale, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && streq(fmt(p, d.price, scale, m), "15.00"));
  CHECK((d.present & PRICEGUARD_DECISION_HAS_PROMO_SPEND) && d.promo_spend == 543730);
  CHECK(streq(fmt(p, d.promo_spend, scale, m), "54.373"));
  CHECK(streq(fmt(p, d.lower, scale, m), "10.44"));
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &item, scale, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "\"promo_spend\":\"54.373\"") != NULL);
  /* Through a ledger: the budget is charged the spend rounded up, 54.38. */
  priceguard_ledger *l = NULL;
  priceguard_reservation r;
  int64_t left = 0;
  CHECK_RESULT(priceguard_ledger_new(p, &l), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_evaluate_reserving_scaled(p, l, &item, scale, &d, &r), PRICEGUARD_RESULT_OK);
  CHECK(d.promo_spend == 543730 && r.campaign == spring && r.amount == 5438);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &left), PRICEGUARD_RESULT_OK);
  CHECK(left == 10000 - 5438);
  CHECK_RESULT(priceguard_ledger_release(l, &r), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_evaluate_reserving_scaled(p, l, &item, 7, &d, &r),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_policy_evaluate_reserving_scaled(NULL, l, &item, scale, &d, &r),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_reserving_scaled(p, l, &item, scale, NULL, &r),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &left), PRICEGUARD_RESULT_OK);
  CHECK(left == 10000);
  priceguard_ledger_free(l);

  /* A hold at a finer current price publishes it rounded half to even. */
  memset(&item, 0, sizeof item);
  scale = 0;
  set_text(p, &item, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "12.00");
  set_text(p, &item, &scale, PRICEGUARD_FIELD_CURRENT_PRICE, "12.345");
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, scale, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.reason == PRICEGUARD_REASON_MISSING_COST);
  CHECK(streq(fmt(p, d.price, scale, m), "12.34"));

  /* Scale 0 is priceguard_policy_evaluate. */
  priceguard_decision plain;
  memset(&item, 0, sizeof item);
  item.proposed_price = 1249;
  item.unit_cost = 1222;
  item.present = PRICEGUARD_HAS_UNIT_COST;
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, 0, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &plain), PRICEGUARD_RESULT_OK);
  CHECK(decision_eq(&d, &plain));
  /* Whole cents given at a finer scale decide the same, in that scale's units. */
  priceguard_item wide = item;
  wide.proposed_price *= 1000;
  wide.unit_cost *= 1000;
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &wide, 3, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.price == plain.price * 1000 && d.lower == plain.lower * 1000 && d.reason == plain.reason);

  /* A scale beyond PRICEGUARD_MAX_SCALE is refused; nothing is written. */
  memset(&d, 0x5a, sizeof d);
  priceguard_decision untouched = d;
  CHECK(PRICEGUARD_MAX_SCALE == 6);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, PRICEGUARD_MAX_SCALE + 1, &d),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, 255, &d), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_decision_explain_scaled(p, &item, 7, &plain, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &item, 7, &plain, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(NULL, &item, 0, &d), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, NULL, 0, &d), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, 0, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  item.present = 1u << 16;
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &item, 2, &d), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK(memcmp(&d, &untouched, sizeof d) == 0);

  /* A batch with a scale per item: each decision in its item's units, as alone. */
  priceguard_item items[3];
  uint8_t scales[3] = {0, 0, 0};
  priceguard_decision out[3];
  priceguard_batch_summary sum;
  memset(items, 0, sizeof items);
  set_text(p, &items[0], &scales[0], PRICEGUARD_FIELD_PROPOSED_PRICE, "19.4373");
  set_text(p, &items[0], &scales[0], PRICEGUARD_FIELD_UNIT_COST, "5");
  set_text(p, &items[1], &scales[1], PRICEGUARD_FIELD_PROPOSED_PRICE, "12.49");
  set_text(p, &items[1], &scales[1], PRICEGUARD_FIELD_UNIT_COST, "12.22");
  set_text(p, &items[2], &scales[2], PRICEGUARD_FIELD_PROPOSED_PRICE, "4.5");
  set_text(p, &items[2], &scales[2], PRICEGUARD_FIELD_UNIT_COST, "3.9694");
  CHECK(scales[0] == 2 && scales[1] == 0 && scales[2] == 2);
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(p, items, scales, 3, out, &sum), PRICEGUARD_RESULT_OK);
  CHECK(sum.items == 3 && sum.adjusted == 3);
  for (int i = 0; i < 3; i++) {
    priceguard_decision one;
    CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &items[i], scales[i], &one), PRICEGUARD_RESULT_OK);
    CHECK(decision_eq(&one, &out[i]));
  }
  CHECK(streq(fmt(p, out[0].price, scales[0], m), "19.44") && streq(fmt(p, out[1].price, scales[1], m), "14.38"));
  CHECK(streq(fmt(p, out[2].price, scales[2], m), "4.67"));
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(p, NULL, NULL, 0, NULL, &sum), PRICEGUARD_RESULT_OK);
  CHECK(sum.items == 0);
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(p, items, NULL, 3, out, &sum),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(NULL, items, scales, 3, out, &sum),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(p, items, scales, 3, out, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  memset(out, 0x11, sizeof out);
  priceguard_decision snapshot[3];
  memcpy(snapshot, out, sizeof out);
  scales[1] = 7;
  CHECK_RESULT(priceguard_policy_evaluate_batch_scaled(p, items, scales, 3, out, &sum),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK(memcmp(out, snapshot, sizeof out) == 0);
}

static void test_evaluate(const priceguard_policy *p) {
  priceguard_item item;
  priceguard_decision d;
  memset(&item, 0, sizeof item);
  item.proposed_price = 1249;
  item.unit_cost = 1222;
  item.present = PRICEGUARD_HAS_UNIT_COST;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED);
  CHECK(d.reason == PRICEGUARD_REASON_MARGIN);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_PRICE) && d.price == 1438);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_LOWER) && d.lower == 1438);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_UPPER) && d.upper == 500000);
  CHECK(!(d.present & PRICEGUARD_DECISION_HAS_PROMO_SPEND) && !(d.present & PRICEGUARD_DECISION_HAS_INVALID_FIELD));
  CHECK(d.violated == (UINT64_C(1) << PRICEGUARD_RULE_MARGIN));
  CHECK(d.binding == (UINT64_C(1) << PRICEGUARD_RULE_MARGIN));
  CHECK(d.unmet == 0 && d.relaxed == 0 && !d.needs_approval);

  char buf[1024];
  size_t n = 0;
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "proposed 12.49 raised to 14.38 by margin") != NULL && n == strlen(buf));
  char small[8] = "keep";
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, small, sizeof small, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == strlen(buf) && streq(small, "keep"));
  CHECK_RESULT(priceguard_decision_explain(NULL, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain(p, NULL, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain(p, &item, NULL, buf, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, NULL, sizeof buf, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  priceguard_decision bogus = d;
  bogus.outcome = 9;
  CHECK_RESULT(priceguard_decision_explain(p, &item, &bogus, buf, sizeof buf, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  bogus = d;
  bogus.reason = 50;
  CHECK_RESULT(priceguard_decision_explain(p, &item, &bogus, buf, sizeof buf, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);

  /* Missing cost under a margin rule: held would need a current price: rejected. */
  item.present = 0;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_REJECTED && d.reason == PRICEGUARD_REASON_MISSING_COST);
  CHECK(!(d.present & PRICEGUARD_DECISION_HAS_PRICE));
  item.present = PRICEGUARD_HAS_CURRENT_PRICE;
  item.current_price = 1300;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.price == 1300);

  /* Bad values are decisions, not call errors. */
  item.present = PRICEGUARD_HAS_UNIT_COST;
  item.unit_cost = -1;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_REJECTED && d.reason == PRICEGUARD_REASON_INVALID_INPUT);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) && d.invalid_field == PRICEGUARD_FIELD_UNIT_COST);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "rejected: unit_cost: `-0.01` must not be negative"));
  /* The explanation gives the specific reason for each kind of bad value. */
  item.present = 0;
  item.proposed_price = 0;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "rejected: proposed_price: `0.00` must be greater than zero"));
  item.proposed_price = 1000;
  item.present = PRICEGUARD_HAS_REFERENCE_PRICE | PRICEGUARD_HAS_EXPECTED_UNITS;
  item.reference_price = 2000;
  item.expected_units = 0;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "rejected: expected_units: `0` must be at least 1"));
  item.present = PRICEGUARD_HAS_NOW;
  item.now = -1;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "rejected: now: `-1` must not be negative"));

  /* Unknown presence bits, NULLs: call errors, output untouched. */
  memset(&d, 0x5a, sizeof d);
  priceguard_decision before = d;
  item.present = 1u << 16;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_decision_explain(p, &item, &before, buf, sizeof buf, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  item.present = 0;
  CHECK_RESULT(priceguard_policy_evaluate(NULL, &item, &d), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate(p, NULL, &d), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK(memcmp(&d, &before, sizeof d) == 0);

  /* needs_approval: a move of more than 50 % from the current price. */
  item.present = PRICEGUARD_HAS_UNIT_COST | PRICEGUARD_HAS_CURRENT_PRICE;
  item.unit_cost = 100;
  item.current_price = 1000;
  item.proposed_price = 2000;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && d.needs_approval);
}

static void test_batch(const priceguard_policy *p) {
  priceguard_item items[3];
  priceguard_decision out[3];
  priceguard_batch_summary s;
  memset(items, 0, sizeof items);
  items[0].proposed_price = 1249;
  items[0].unit_cost = 1222;
  items[0].present = PRICEGUARD_HAS_UNIT_COST;
  items[1].proposed_price = 2000;
  items[1].unit_cost = 1000;
  items[1].present = PRICEGUARD_HAS_UNIT_COST;
  items[2].proposed_price = -1;
  items[2].unit_cost = 1000;
  items[2].present = PRICEGUARD_HAS_UNIT_COST;
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, items, 3, out, &s), PRICEGUARD_RESULT_OK);
  CHECK(s.items == 3 && s.accepted == 1 && s.adjusted == 1 && s.rejected == 1 && s.held == 0);
  CHECK(s.violators == 1 && !s.breaker_tripped && s.relaxed == 0 && s.needs_approval == 0);
  for (int i = 0; i < 3; i++) {
    priceguard_decision one;
    CHECK_RESULT(priceguard_policy_evaluate(p, &items[i], &one), PRICEGUARD_RESULT_OK);
    CHECK(decision_eq(&one, &out[i]));
  }
  /* Empty batches may pass NULL arrays. */
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, NULL, 0, NULL, &s), PRICEGUARD_RESULT_OK);
  CHECK(s.items == 0);
  CHECK_RESULT(priceguard_policy_evaluate_batch(NULL, items, 3, out, &s), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, NULL, 3, out, &s), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, items, 3, NULL, &s), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, items, 3, out, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  /* One bad presence mask fails the call and writes nothing. */
  memset(out, 0x11, sizeof out);
  priceguard_decision snapshot[3];
  memcpy(snapshot, out, sizeof out);
  items[1].present = 0x80000000u;
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, items, 3, out, &s), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK(memcmp(out, snapshot, sizeof out) == 0);
}

static void test_ledger(const priceguard_policy *p, const priceguard_policy *other) {
  priceguard_ledger *l = NULL;
  priceguard_reservation r, r2;
  int64_t v = 0;
  uint32_t spring = 0, autumn = 0;
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("spring"), 6, &spring), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("autumn"), 6, &autumn), PRICEGUARD_RESULT_OK);

  CHECK_RESULT(priceguard_ledger_new(NULL, &l), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_new(p, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_new(p, &l), PRICEGUARD_RESULT_OK);
  CHECK(l != NULL);

  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 10000);
  CHECK_RESULT(priceguard_ledger_remaining(l, 7, &v), PRICEGUARD_RESULT_UNKNOWN_CAMPAIGN);
  CHECK_RESULT(priceguard_ledger_remaining(NULL, spring, &v), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);

  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 2500, &r), PRICEGUARD_RESULT_OK);
  CHECK(r.campaign == spring && r.amount == 2500);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 2500);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 7500);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 7501, &r2), PRICEGUARD_RESULT_INSUFFICIENT_BUDGET);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, -1, &r2), PRICEGUARD_RESULT_NEGATIVE_AMOUNT);
  CHECK_RESULT(priceguard_ledger_reserve(l, PRICEGUARD_CAMPAIGN_UNKNOWN, 1, &r2), PRICEGUARD_RESULT_UNKNOWN_CAMPAIGN);
  CHECK_RESULT(priceguard_ledger_reserve(NULL, spring, 1, &r2), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 1, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_reserved(NULL, spring, &v), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_reserved(l, 9, &v), PRICEGUARD_RESULT_UNKNOWN_CAMPAIGN);

  CHECK(r.token != 0);

  /* Settling a changed copy, a forged one, negative, unknown: refused;
   * the empty reservation is a no-op. */
  priceguard_reservation too_much = r;
  too_much.amount = 2501;
  CHECK_RESULT(priceguard_ledger_commit(l, &too_much), PRICEGUARD_RESULT_NOT_RESERVED);
  priceguard_reservation forged = {spring, 2500, 0};
  CHECK_RESULT(priceguard_ledger_commit(l, &forged), PRICEGUARD_RESULT_NOT_RESERVED);
  priceguard_reservation negative = {spring, -5, r.token};
  CHECK_RESULT(priceguard_ledger_release(l, &negative), PRICEGUARD_RESULT_NEGATIVE_AMOUNT);
  priceguard_reservation unknown = {55, 5, r.token};
  CHECK_RESULT(priceguard_ledger_release(l, &unknown), PRICEGUARD_RESULT_UNKNOWN_CAMPAIGN);
  priceguard_reservation zero = {PRICEGUARD_CAMPAIGN_UNKNOWN, 0, 0};
  CHECK_RESULT(priceguard_ledger_commit(l, &zero), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 2500);
  CHECK_RESULT(priceguard_ledger_commit(NULL, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_commit(l, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_release(NULL, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_release(l, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);

  /* Release returns the budget; commit keeps it taken. */
  CHECK_RESULT(priceguard_ledger_release(l, &r), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 10000);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 1000, &r), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_commit(l, &r), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 9000);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 0);
  /* Settled once: a second commit or release of it is refused. */
  CHECK_RESULT(priceguard_ledger_commit(l, &r), PRICEGUARD_RESULT_ALREADY_SETTLED);
  CHECK_RESULT(priceguard_ledger_release(l, &r), PRICEGUARD_RESULT_ALREADY_SETTLED);

  /* A double release while another reservation is outstanding: with only
   * the campaign's reserved total checked, it returned the other one's
   * budget, and 14.00 could be spent from 10.00 left. */
  priceguard_reservation a, b, c;
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 4000, &a), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 4000, &b), PRICEGUARD_RESULT_OK);
  priceguard_reservation a_copy = a;
  CHECK_RESULT(priceguard_ledger_release(l, &a), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_release(l, &a_copy), PRICEGUARD_RESULT_ALREADY_SETTLED);
  CHECK_RESULT(priceguard_ledger_commit(l, &a_copy), PRICEGUARD_RESULT_ALREADY_SETTLED);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 5000);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 4000);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 5001, &c), PRICEGUARD_RESULT_INSUFFICIENT_BUDGET);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 5000, &c), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_commit(l, &b), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_commit(l, &c), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 0);
  CHECK_RESULT(priceguard_ledger_reserved(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 0);
  /* A reservation belongs to its ledger. */
  priceguard_ledger *l2 = NULL;
  CHECK_RESULT(priceguard_ledger_new(p, &l2), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserve(l2, autumn, 100, &a), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_release(l, &a), PRICEGUARD_RESULT_NOT_RESERVED);
  CHECK_RESULT(priceguard_ledger_remaining(l, autumn, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 500);
  CHECK_RESULT(priceguard_ledger_release(l2, &a), PRICEGUARD_RESULT_OK);
  priceguard_ledger_free(l2);

  /* Evaluate with the ledger: autumn holds 5.00; each item would spend 3.00. */
  priceguard_item item;
  memset(&item, 0, sizeof item);
  item.proposed_price = 900;
  item.unit_cost = 100;
  item.reference_price = 1000;
  item.expected_units = 3;
  item.campaign = autumn;
  item.present = PRICEGUARD_HAS_UNIT_COST | PRICEGUARD_HAS_REFERENCE_PRICE | PRICEGUARD_HAS_EXPECTED_UNITS |
                 PRICEGUARD_HAS_CAMPAIGN;
  priceguard_decision d;
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, &d, &r), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && d.promo_spend == 300 && r.amount == 300 && r.campaign == autumn);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, &d, &r2), PRICEGUARD_RESULT_OK);
  /* 2.00 left: the price is raised so the spend fits. */
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED && d.reason == PRICEGUARD_REASON_PROMO_BUDGET);
  CHECK(d.promo_spend <= 200 && r2.amount == d.promo_spend);
  CHECK_RESULT(priceguard_ledger_commit(l, &r), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_release(l, &r2), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_remaining(l, autumn, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 200);
  /* Nothing to spend: an empty reservation. */
  item.present = PRICEGUARD_HAS_UNIT_COST;
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, &d, &r), PRICEGUARD_RESULT_OK);
  CHECK(r.amount == 0 && r.token == 0 && r.campaign == PRICEGUARD_CAMPAIGN_UNKNOWN);
  CHECK_RESULT(priceguard_ledger_commit(l, &r), PRICEGUARD_RESULT_OK);

  CHECK_RESULT(priceguard_policy_evaluate_reserving(other, l, &item, &d, &r), PRICEGUARD_RESULT_LEDGER_POLICY_MISMATCH);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(NULL, l, &item, &d, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, NULL, &item, &d, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, NULL, &d, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, NULL, &r), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, &d, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  item.present = 1u << 23;
  CHECK_RESULT(priceguard_policy_evaluate_reserving(p, l, &item, &d, &r), PRICEGUARD_RESULT_INVALID_ARGUMENT);

  priceguard_ledger_free(l);
}

static void test_ledger_capacity(const priceguard_policy *p) {
  priceguard_ledger *l = NULL;
  priceguard_reservation r1, r2, r3;
  uint32_t spring = 0;
  CHECK_RESULT(priceguard_policy_campaign_id(p, U8("spring"), 6, &spring), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_new_with_capacity(p, 0, &l), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_ledger_new_with_capacity(p, 16777216, &l), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_ledger_new_with_capacity(NULL, 2, &l), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_new_with_capacity(p, 2, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_ledger_new_with_capacity(p, 2, &l), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 10, &r1), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 20, &r2), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 30, &r3), PRICEGUARD_RESULT_TOO_MANY_RESERVATIONS);
  int64_t v = 0;
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 10000 - 30);
  CHECK_RESULT(priceguard_ledger_commit(l, &r1), PRICEGUARD_RESULT_OK);
  /* The freed slot is reused; the settled token does not settle the new one. */
  CHECK_RESULT(priceguard_ledger_reserve(l, spring, 10, &r3), PRICEGUARD_RESULT_OK);
  CHECK(r3.token != r1.token);
  CHECK_RESULT(priceguard_ledger_release(l, &r1), PRICEGUARD_RESULT_ALREADY_SETTLED);
  CHECK_RESULT(priceguard_ledger_release(l, &r2), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_release(l, &r3), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_ledger_remaining(l, spring, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 10000 - 10);
  priceguard_ledger_free(l);
}

static void test_ledger_outlives_policy(void) {
  const priceguard_policy *p = load_toml(POLICY_TOML);
  priceguard_ledger *l = NULL;
  CHECK_RESULT(priceguard_ledger_new(p, &l), PRICEGUARD_RESULT_OK);
  priceguard_policy_free(p); /* the ledger keeps its own reference */
  int64_t v = 0;
  CHECK_RESULT(priceguard_ledger_remaining(l, 1, &v), PRICEGUARD_RESULT_OK);
  CHECK(v == 10000);
  priceguard_ledger_free(l);
}

/* The same policy as POLICY_TOML in JSON, keys in another order. */
static const char POLICY_TOML_AS_JSON[] =
    "{\"approval\":{\"max_auto_change\":\"0.5\"},\"promotion\":{\"budgets\":{\"autumn\":\"5\",\"spring\":\"100\"},"
    "\"max_discount\":\"0.5\"},\"margin\":{\"min_margin\":\"0.150\"},\"bounds\":{\"max_price\":\"5000.00\","
    "\"min_price\":\"0.99\"},\"currency\":\"USD\",\"version\":\"2026-11-27\",\"name\":\"demo\"}";

static void test_audit(const priceguard_policy *p) {
  uint8_t h1[PRICEGUARD_POLICY_HASH_LEN], h2[PRICEGUARD_POLICY_HASH_LEN], h3[PRICEGUARD_POLICY_HASH_LEN];
  CHECK_RESULT(priceguard_policy_hash(p, h1), PRICEGUARD_RESULT_OK);
  const priceguard_policy *same = NULL, *other = NULL;
  char err[256] = "";
  CHECK_RESULT(priceguard_policy_from_json(U8(POLICY_TOML_AS_JSON), strlen(POLICY_TOML_AS_JSON), err, sizeof err, &same),
               PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_policy_hash(same, h2), PRICEGUARD_RESULT_OK);
  CHECK(memcmp(h1, h2, sizeof h1) == 0);
  other = load_toml("name = \"demo\"\nversion = \"2026-11-27\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\n"
                    "max_price = \"5000\"\n[margin]\nmin_margin = \"0.16\"\n[promotion]\nmax_discount = \"0.50\"\n"
                    "budgets = { spring = \"100.00\", autumn = \"5.00\" }\n[approval]\nmax_auto_change = \"0.50\"\n");
  CHECK_RESULT(priceguard_policy_hash(other, h3), PRICEGUARD_RESULT_OK);
  CHECK(memcmp(h1, h3, sizeof h1) != 0);
  CHECK_RESULT(priceguard_policy_hash(NULL, h1), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_hash(p, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  char hex[65];
  size_t n = 0;
  CHECK_RESULT(priceguard_policy_hash_hex(p, hex, sizeof hex, &n), PRICEGUARD_RESULT_OK);
  CHECK(n == 64 && strlen(hex) == 64);
  char byte[3];
  snprintf(byte, sizeof byte, "%02x", h1[0]);
  CHECK(hex[0] == byte[0] && hex[1] == byte[1]);
  CHECK_RESULT(priceguard_policy_hash_hex(p, hex, 64, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 64);
  priceguard_policy_free(same);
  priceguard_policy_free(other);

  /* One decision as JSON: a 60 % rise needs approval. */
  priceguard_item item;
  memset(&item, 0, sizeof item);
  item.present = PRICEGUARD_HAS_UNIT_COST | PRICEGUARD_HAS_CURRENT_PRICE;
  item.unit_cost = 100;
  item.current_price = 1000;
  item.proposed_price = 1600;
  priceguard_decision d;
  CHECK_RESULT(priceguard_policy_evaluate(p, &item, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && d.needs_approval);
  char json[2048];
  CHECK_RESULT(priceguard_decision_to_json(p, &item, &d, json, sizeof json, &n), PRICEGUARD_RESULT_OK);
  CHECK(n == strlen(json));
  CHECK(strstr(json, "\"needs_approval\":true") != NULL);
  CHECK(strstr(json, "\"current_price\":\"10.00\"") != NULL);
  CHECK(strstr(json, "\"name\":\"demo\",\"version\":\"2026-11-27\"") != NULL);
  CHECK(strstr(json, hex) != NULL);
  size_t need = n;
  CHECK_RESULT(priceguard_decision_to_json(p, &item, &d, json, need, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == need);
  CHECK_RESULT(priceguard_decision_to_json(NULL, &item, &d, json, sizeof json, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_to_json(p, NULL, &d, json, sizeof json, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_to_json(p, &item, NULL, json, sizeof json, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_to_json(p, &item, &d, NULL, sizeof json, &n), PRICEGUARD_RESULT_NULL_PARAMETER);
  priceguard_decision bad = d;
  bad.outcome = 9;
  CHECK_RESULT(priceguard_decision_to_json(p, &item, &bad, json, sizeof json, &n), PRICEGUARD_RESULT_INVALID_ARGUMENT);

  /* Metrics. */
  priceguard_metrics *m = NULL;
  CHECK_RESULT(priceguard_metrics_new(&m), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_metrics_record(m, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_metrics_record(m, &d), PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_metrics_record(m, &bad), PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_metrics_record(NULL, &d), PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_metrics_record(m, NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
  priceguard_batch_summary s;
  memset(&s, 0, sizeof s);
  s.breaker_tripped = true;
  CHECK_RESULT(priceguard_metrics_record_batch(m, &s), PRICEGUARD_RESULT_OK);
  static char text[16384];
  CHECK_RESULT(priceguard_metrics_render(m, text, sizeof text, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(text, "# TYPE priceguard_decisions_total counter\n") != NULL);
  CHECK(strstr(text, "priceguard_decisions_total{outcome=\"accepted\"} 2\n") != NULL);
  CHECK(strstr(text, "priceguard_decisions_total{outcome=\"held\"} 0\n") != NULL);
  CHECK(strstr(text, "priceguard_needs_approval_total 2\n") != NULL);
  CHECK(strstr(text, "priceguard_breaker_trips_total 1\n") != NULL);
  CHECK_RESULT(priceguard_metrics_render(m, text, 10, &n), PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > 1000);
  priceguard_metrics_free(m);
  priceguard_metrics_free(NULL);
  CHECK_RESULT(priceguard_metrics_new(NULL), PRICEGUARD_RESULT_NULL_PARAMETER);
}

/* A price ladder: 5 % to 50 % between neighbouring ranks. */
static const char POLICY_LADDER[] = "name = \"ladder\"\n"
                                    "currency = \"USD\"\n"
                                    "[bounds]\n"
                                    "min_price = \"1.00\"\n"
                                    "max_price = \"1000\"\n"
                                    "[ladder]\n"
                                    "min_gap = \"0.05\"\n"
                                    "max_gap = \"0.50\"\n";

/* Rows: SKU-2 (rank 2, 14.99) and SKU-1 (rank 1, 15.00) of group 7, and
 * an ungrouped row at 14.99. By hand: SKU-2 must cost at least
 * 1.05 x 15.00 = 15.75 and at most 1.5 x 15.00 = 22.50, so 14.99 is raised
 * to 15.75; SKU-1 and the ungrouped row keep their proposals. */
static void ladder_rows(priceguard_item items[3], priceguard_group_row rows[3]) {
  memset(items, 0, 3 * sizeof items[0]);
  memset(rows, 0, 3 * sizeof rows[0]);
  items[0].proposed_price = 1499;
  items[1].proposed_price = 1500;
  items[2].proposed_price = 1499;
  rows[0].present = PRICEGUARD_GROUP_HAS_GROUP | PRICEGUARD_GROUP_HAS_RANK;
  rows[0].group = 7;
  rows[0].rank = 2;
  rows[1].present = PRICEGUARD_GROUP_HAS_GROUP | PRICEGUARD_GROUP_HAS_RANK;
  rows[1].group = 7;
  rows[1].rank = 1;
}

static void test_groups(void) {
  const priceguard_policy *p = load_toml(POLICY_LADDER);
  priceguard_item items[3];
  priceguard_group_row rows[3];
  priceguard_decision out[3];
  priceguard_ladder_note notes[3];
  priceguard_batch_summary s;
  priceguard_group_summary gs;
  ladder_rows(items, rows);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, &gs), PRICEGUARD_RESULT_OK);
  CHECK(out[0].outcome == PRICEGUARD_OUTCOME_ADJUSTED && out[0].price == 1575);
  CHECK(out[0].reason == PRICEGUARD_REASON_LADDER_GAP);
  CHECK(out[0].violated == (UINT64_C(1) << PRICEGUARD_RULE_LADDER_GAP));
  CHECK(out[0].binding == (UINT64_C(1) << PRICEGUARD_RULE_LADDER_GAP));
  CHECK(out[1].outcome == PRICEGUARD_OUTCOME_ACCEPTED && out[1].price == 1500);
  CHECK(out[2].outcome == PRICEGUARD_OUTCOME_ACCEPTED && out[2].price == 1499);
  CHECK(s.items == 3 && s.accepted == 2 && s.adjusted == 1 && s.held == 0 && s.rejected == 0);
  CHECK(gs.groups == 1 && gs.adjusted == 1 && gs.held == 0 && gs.invalid == 0 && gs.moved == 1);
  CHECK(notes[0].present == PRICEGUARD_LADDER_NOTE_MOVED && notes[0].rule == PRICEGUARD_RULE_LADDER_GAP);
  CHECK(notes[0].own == 1499 && notes[0].neighbour == 1 && !notes[0].neighbour_above);
  CHECK(notes[0].neighbour_price == 1500);
  CHECK(notes[1].present == 0 && notes[2].present == 0);

  /* The moved row names its neighbour; an unmoved one reads as alone. */
  char buf[1024], alone[1024];
  size_t n = 0, m = 0;
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)") && n == strlen(buf));
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[1], &out[1], &notes[1], NULL, 0, NULL, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_OK);
  CHECK_RESULT(priceguard_decision_explain(p, &items[1], &out[1], alone, sizeof alone, &m), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, alone) && n == m);
  /* Too small: the needed length, the buffer untouched. */
  char small[8] = "xxxxxxx";
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, &rows[1], small,
                                                  sizeof small, &n),
               PRICEGUARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == strlen("raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)") && small[0] == 'x');
  /* Explain errors: NULLs, a moved note without its neighbour, bad codes. */
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], NULL, U8("SKU-1"), 5, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain_ladder(NULL, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], NULL, 5, &rows[1], buf, sizeof buf,
                                                  &n),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, NULL, buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, &rows[1], NULL,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("\xff"), 1, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_UTF8);
  priceguard_group_row unranked = rows[1];
  unranked.present = PRICEGUARD_GROUP_HAS_GROUP;
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &notes[0], U8("SKU-1"), 5, &unranked, buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  priceguard_ladder_note bad = notes[0];
  bad.rule = 999;
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &bad, U8("SKU-1"), 5, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  bad = notes[0];
  bad.present = 0x80u;
  CHECK_RESULT(priceguard_decision_explain_ladder(p, &items[0], &out[0], &bad, U8("SKU-1"), 5, &rows[1], buf,
                                                  sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);

  /* Notes are optional; the decisions do not change. */
  priceguard_decision again[3];
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, again, NULL, &s, &gs),
               PRICEGUARD_RESULT_OK);
  for (int i = 0; i < 3; i++) CHECK(decision_eq(&again[i], &out[i]));
  /* Empty batches may pass NULL arrays. */
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, NULL, NULL, 0, NULL, NULL, &s, &gs), PRICEGUARD_RESULT_OK);
  CHECK(s.items == 0 && gs.groups == 0);
  /* NULLs. */
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(NULL, items, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, NULL, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, NULL, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, NULL, notes, &s, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, NULL, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, NULL),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  /* An unknown presence bit in a row or an item fails the call and writes nothing. */
  priceguard_decision snapshot[3];
  priceguard_ladder_note note_snapshot[3];
  memset(out, 0x11, sizeof out);
  memset(notes, 0x22, sizeof notes);
  memcpy(snapshot, out, sizeof out);
  memcpy(note_snapshot, notes, sizeof notes);
  rows[2].present = 0x80u;
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  rows[2].present = 0;
  items[2].present = 0x80000000u;
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK(memcmp(out, snapshot, sizeof out) == 0 && memcmp(notes, note_snapshot, sizeof notes) == 0);

  /* Bad values are decisions, not call errors: a repeated rank, a
   * missing rank, a pack size of 0 or above 1000000 refuse the whole
   * group, naming the field. */
  struct {
    uint32_t present1;
    int64_t rank1;
    uint64_t pack1;
    uint32_t field;
  } refusals[] = {
      {PRICEGUARD_GROUP_HAS_GROUP | PRICEGUARD_GROUP_HAS_RANK, 2, 0, PRICEGUARD_FIELD_RANK},
      {PRICEGUARD_GROUP_HAS_GROUP, 0, 0, PRICEGUARD_FIELD_RANK},
      {PRICEGUARD_GROUP_HAS_ALL, 1, 0, PRICEGUARD_FIELD_PACK_SIZE},
      {PRICEGUARD_GROUP_HAS_ALL, 1, 1000001, PRICEGUARD_FIELD_PACK_SIZE},
  };
  for (size_t k = 0; k < sizeof refusals / sizeof refusals[0]; k++) {
    ladder_rows(items, rows);
    rows[1].present = refusals[k].present1;
    rows[1].rank = refusals[k].rank1;
    rows[1].pack_size = refusals[k].pack1;
    CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, &gs),
                 PRICEGUARD_RESULT_OK);
    for (int i = 0; i < 2; i++) {
      CHECK(out[i].outcome == PRICEGUARD_OUTCOME_REJECTED && out[i].reason == PRICEGUARD_REASON_INVALID_INPUT);
      CHECK((out[i].present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) && out[i].invalid_field == refusals[k].field);
    }
    CHECK(out[2].outcome == PRICEGUARD_OUTCOME_ACCEPTED);
    CHECK(gs.groups == 1 && gs.invalid == 1 && gs.adjusted == 0 && s.rejected == 2);
  }
  /* Without PRICEGUARD_GROUP_HAS_GROUP a row is decided alone, its rank unread. */
  ladder_rows(items, rows);
  rows[0].present = PRICEGUARD_GROUP_HAS_RANK;
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped(p, items, rows, 3, out, notes, &s, &gs), PRICEGUARD_RESULT_OK);
  CHECK(out[0].outcome == PRICEGUARD_OUTCOME_ACCEPTED && out[0].price == 1499 && notes[0].present == 0);
  CHECK(gs.groups == 1 && gs.adjusted == 0);

  /* Scaled: 14.99 as 149900 at scale 2; decision and note in those units. */
  uint8_t scales[3] = {2, 2, 0};
  ladder_rows(items, rows);
  items[0].proposed_price = 149900;
  items[1].proposed_price = 150000;
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped_scaled(p, items, scales, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_OK);
  CHECK(out[0].outcome == PRICEGUARD_OUTCOME_ADJUSTED && out[0].price == 157500);
  CHECK(out[1].price == 150000 && out[2].price == 1499);
  CHECK(notes[0].present == PRICEGUARD_LADDER_NOTE_MOVED && notes[0].own == 149900);
  CHECK(notes[0].neighbour_price == 150000 && notes[0].neighbour == 1);
  CHECK_RESULT(priceguard_decision_explain_ladder_scaled(p, &items[0], 2, &out[0], &notes[0], U8("SKU-1"), 5,
                                                         &rows[1], buf, sizeof buf, &n),
               PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "raised 14.99 to 15.75 to stay 5 % above SKU-1 (rank 1, 15.00)"));
  bad = notes[0];
  bad.own += 1; /* not whole minor units at scale 2 */
  CHECK_RESULT(priceguard_decision_explain_ladder_scaled(p, &items[0], 2, &out[0], &bad, U8("SKU-1"), 5, &rows[1],
                                                         buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_decision_explain_ladder_scaled(p, &items[0], PRICEGUARD_MAX_SCALE + 1, &out[0], &notes[0],
                                                         U8("SKU-1"), 5, &rows[1], buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped_scaled(p, items, NULL, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped_scaled(p, NULL, NULL, NULL, 0, NULL, NULL, &s, &gs),
               PRICEGUARD_RESULT_OK);
  scales[2] = PRICEGUARD_MAX_SCALE + 1;
  CHECK_RESULT(priceguard_policy_evaluate_batch_grouped_scaled(p, items, scales, rows, 3, out, notes, &s, &gs),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  priceguard_policy_free(p);
}

/* ---- History summary fields (docs/spec.md §11) and lawful_reference. */

/* The item and the decision only grew at the end: every field a program
 * built before them reads is where it was. */
_Static_assert(offsetof(priceguard_item, pinned_price) == 128, "pinned_price moved");
_Static_assert(offsetof(priceguard_item, prior_low_price) == 136, "history fields follow pinned_price");
_Static_assert(offsetof(priceguard_item, competitor_quotes) == 168, "competitor_quotes is last");
_Static_assert(sizeof(priceguard_item) == 176, "priceguard_item is 176 bytes");
_Static_assert(offsetof(priceguard_decision, lawful_reference) == 80, "lawful_reference follows needs_approval");
_Static_assert(sizeof(priceguard_decision) == 88, "priceguard_decision is 88 bytes");

static const char HISTORY_TOML[] = "name = \"history\"\ncurrency = \"USD\"\n"
                                   "[bounds]\nmin_price = \"1.00\"\nmax_price = \"1000\"\n"
                                   "[disclosure]\nprior_days = 30\n"
                                   "[change]\nmax_reversals = 3\nwindow_secs = 604800\n";

static const char SPELL_TOML[] = "name = \"spell\"\ncurrency = \"USD\"\n"
                                 "[bounds]\nmin_price = \"1.00\"\nmax_price = \"1000\"\n"
                                 "[promotion]\nmax_days = 14\nmin_days_between = 30\n";

/* A promotion showing "was" 29.99 at P 24.99, proposing 19.99, with
 * `reversals_in_window` 0 (the policy counts reversals: without it the item
 * would be held by oscillation, H3). */
static priceguard_item promo_item(void) {
  priceguard_item it;
  memset(&it, 0, sizeof it);
  it.proposed_price = 1999;
  it.current_price = 2499;
  it.reference_price = 2999;
  it.reversals_in_window = 0;
  it.present = PRICEGUARD_HAS_CURRENT_PRICE | PRICEGUARD_HAS_REFERENCE_PRICE | PRICEGUARD_HAS_REVERSALS_IN_WINDOW;
  return it;
}

static void test_history(void) {
  /* Each presence bit is 1 << its field code; 16 (proposed_price) and 17
   * (sku) have none, and 23 up (the group fields) live beside the item. */
  CHECK(PRICEGUARD_HAS_PRIOR_LOW_PRICE == 1u << PRICEGUARD_FIELD_PRIOR_LOW_PRICE);
  CHECK(PRICEGUARD_HAS_PROMO_STARTED_AT == 1u << PRICEGUARD_FIELD_PROMO_STARTED_AT);
  CHECK(PRICEGUARD_HAS_LAST_PROMO_ENDED_AT == 1u << PRICEGUARD_FIELD_LAST_PROMO_ENDED_AT);
  CHECK(PRICEGUARD_HAS_REVERSALS_IN_WINDOW == 1u << PRICEGUARD_FIELD_REVERSALS_IN_WINDOW);
  CHECK(PRICEGUARD_HAS_COMPETITOR_QUOTES == 1u << PRICEGUARD_FIELD_COMPETITOR_QUOTES);
  CHECK(PRICEGUARD_HAS_HISTORY == 0x7C0000u);
  CHECK(PRICEGUARD_HAS_ALL == 0x7CFFFFu);

  const priceguard_policy *p = load_toml(HISTORY_TOML);
  priceguard_decision d;
  char buf[2048];
  size_t n = 0;

  /* R 29.99 > prior low 24.99: held at P 24.99 by prior_price, a
   * whole-item hold (no interval), lawful reference 24.99. */
  priceguard_item unlawful = promo_item();
  unlawful.prior_low_price = 2499;
  unlawful.present |= PRICEGUARD_HAS_PRIOR_LOW_PRICE;
  CHECK_RESULT(priceguard_policy_evaluate(p, &unlawful, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.reason == PRICEGUARD_REASON_PRIOR_PRICE);
  CHECK(d.price == 2499 && (d.present & PRICEGUARD_DECISION_HAS_LOWER) == 0);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE) && d.lawful_reference == 2499);
  CHECK_RESULT(priceguard_decision_explain(p, &unlawful, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(streq(buf, "proposed 19.99 held at 24.99 by prior_price (was 29.99 is above the 30-day low 24.99; "
                   "lawful reference 24.99)"));
  CHECK_RESULT(priceguard_decision_to_json(p, &unlawful, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "\"prior_low_price\":\"24.99\",\"reversals_in_window\":0") != NULL);
  CHECK(strstr(buf, "\"invalid_field\":null,\"lawful_reference\":\"24.99\"}") != NULL);
  /* A JSON record without lawful_reference keeps the bytes it had. */
  priceguard_decision no_ref = d;
  no_ref.present &= ~PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE;
  CHECK_RESULT(priceguard_decision_to_json(p, &unlawful, &no_ref, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "lawful_reference") == NULL && strstr(buf, "\"invalid_field\":null}}") != NULL);

  /* The value counts only with its bit: without prior_low_price nothing
   * proves the "was" price lawful, so the item is held with no reference. */
  priceguard_item unproven = unlawful;
  unproven.present &= ~PRICEGUARD_HAS_PRIOR_LOW_PRICE;
  CHECK_RESULT(priceguard_policy_evaluate(p, &unproven, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.reason == PRICEGUARD_REASON_PRIOR_PRICE && d.price == 2499);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE) == 0 && d.lawful_reference == 0);

  /* R 29.99 <= prior low 29.99: lawful; no promo_started_at, no floor at
   * P: 19.99 is accepted, and there is no lawful reference to show. */
  priceguard_item lawful = unlawful;
  lawful.prior_low_price = 2999;
  CHECK_RESULT(priceguard_policy_evaluate(p, &lawful, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && d.price == 1999);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE) == 0);

  /* 3 reversals >= max_reversals 3: held at P 20.00 by oscillation. */
  priceguard_item wars;
  memset(&wars, 0, sizeof wars);
  wars.proposed_price = 2100;
  wars.current_price = 2000;
  wars.reversals_in_window = 3;
  wars.present = PRICEGUARD_HAS_CURRENT_PRICE | PRICEGUARD_HAS_REVERSALS_IN_WINDOW;
  CHECK_RESULT(priceguard_policy_evaluate(p, &wars, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.reason == PRICEGUARD_REASON_OSCILLATION && d.price == 2000);

  /* Bad values are decisions naming the field, never call errors. */
  struct {
    uint32_t field;
    int64_t value;
  } bad[] = {
      {PRICEGUARD_FIELD_PRIOR_LOW_PRICE, 0},      {PRICEGUARD_FIELD_PRIOR_LOW_PRICE, -1},
      {PRICEGUARD_FIELD_PROMO_STARTED_AT, -1},    {PRICEGUARD_FIELD_LAST_PROMO_ENDED_AT, -1},
      {PRICEGUARD_FIELD_REVERSALS_IN_WINDOW, -1}, {PRICEGUARD_FIELD_COMPETITOR_QUOTES, -1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    priceguard_item it = lawful;
    switch (bad[i].field) {
    case PRICEGUARD_FIELD_PRIOR_LOW_PRICE: it.prior_low_price = bad[i].value; break;
    case PRICEGUARD_FIELD_PROMO_STARTED_AT: it.promo_started_at = bad[i].value; break;
    case PRICEGUARD_FIELD_LAST_PROMO_ENDED_AT: it.last_promo_ended_at = bad[i].value; break;
    case PRICEGUARD_FIELD_REVERSALS_IN_WINDOW: it.reversals_in_window = bad[i].value; break;
    default: it.competitor_quotes = bad[i].value; break;
    }
    it.present |= 1u << bad[i].field;
    CHECK_RESULT(priceguard_policy_evaluate(p, &it, &d), PRICEGUARD_RESULT_OK);
    CHECK(d.outcome == PRICEGUARD_OUTCOME_REJECTED && d.reason == PRICEGUARD_REASON_INVALID_INPUT);
    CHECK((d.present & PRICEGUARD_DECISION_HAS_INVALID_FIELD) && d.invalid_field == bad[i].field);
    if (d.invalid_field != bad[i].field) fprintf(stderr, "  bad value of field %u\n", (unsigned)bad[i].field);
  }
  /* Two bad values: the first in docs/spec.md §3 order is named. */
  priceguard_item two = lawful;
  two.prior_low_price = 0;
  two.competitor_quotes = -1;
  two.present |= PRICEGUARD_HAS_COMPETITOR_QUOTES;
  CHECK_RESULT(priceguard_policy_evaluate(p, &two, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.invalid_field == PRICEGUARD_FIELD_PRIOR_LOW_PRICE);

  /* Bits that name no item field are call errors; nothing is written. */
  const uint32_t stray[] = {1u << 16, 1u << 17, 1u << 23, 1u << 31};
  for (size_t i = 0; i < sizeof stray / sizeof stray[0]; i++) {
    priceguard_item it = lawful;
    it.present |= stray[i];
    memset(&d, 0xAB, sizeof d);
    priceguard_decision before = d;
    CHECK_RESULT(priceguard_policy_evaluate(p, &it, &d), PRICEGUARD_RESULT_INVALID_ARGUMENT);
    CHECK(memcmp(&d, &before, sizeof d) == 0);
  }

  /* A batch decides each item as alone, lawful_reference included. */
  priceguard_item items[5] = {unlawful, unproven, lawful, wars, two};
  priceguard_decision out[5];
  priceguard_batch_summary summary;
  CHECK_RESULT(priceguard_policy_evaluate_batch(p, items, 5, out, &summary), PRICEGUARD_RESULT_OK);
  for (size_t i = 0; i < 5; i++) {
    CHECK_RESULT(priceguard_policy_evaluate(p, &items[i], &d), PRICEGUARD_RESULT_OK);
    CHECK(decision_eq(&out[i], &d));
  }
  CHECK(summary.held == 3 && summary.accepted == 1 && summary.rejected == 1);

  /* prior_low_price is money for the amount calls; the other four are not. */
  priceguard_item fine;
  memset(&fine, 0, sizeof fine);
  uint8_t scale = 0;
  set_text(p, &fine, &scale, PRICEGUARD_FIELD_PROPOSED_PRICE, "19.99");
  set_text(p, &fine, &scale, PRICEGUARD_FIELD_CURRENT_PRICE, "24.99");
  set_text(p, &fine, &scale, PRICEGUARD_FIELD_REFERENCE_PRICE, "29.99");
  set_text(p, &fine, &scale, PRICEGUARD_FIELD_PRIOR_LOW_PRICE, "24.985");
  /* Tenths of a cent: 24.985 is 24985, 19.99 became 19990. */
  CHECK(scale == 1 && fine.prior_low_price == 24985 && fine.proposed_price == 19990);
  CHECK(fine.present & PRICEGUARD_HAS_PRIOR_LOW_PRICE);
  const uint32_t not_money[] = {PRICEGUARD_FIELD_PROMO_STARTED_AT, PRICEGUARD_FIELD_LAST_PROMO_ENDED_AT,
                                PRICEGUARD_FIELD_REVERSALS_IN_WINDOW, PRICEGUARD_FIELD_COMPETITOR_QUOTES,
                                PRICEGUARD_FIELD_SKU};
  for (size_t i = 0; i < sizeof not_money / sizeof not_money[0]; i++) {
    priceguard_item before = fine;
    CHECK_RESULT(priceguard_item_set_amount(&fine, &scale, not_money[i], 1, 0, NULL),
                 PRICEGUARD_RESULT_INVALID_ARGUMENT);
    CHECK(memcmp(&fine, &before, sizeof fine) == 0 && scale == 1);
  }
  int64_t units = 0;
  uint8_t s = 0;
  CHECK_RESULT(priceguard_amount_parse(p, U8("1"), 1, PRICEGUARD_FIELD_REVERSALS_IN_WINDOW, &units, &s),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  fine.reversals_in_window = 0;
  fine.present |= PRICEGUARD_HAS_REVERSALS_IN_WINDOW;
  /* The scaled call: held at 24.99 (24990 tenths of a cent); the lawful
   * reference 24.985 rounded down to 24.98, in the item's units: 24980. */
  CHECK_RESULT(priceguard_policy_evaluate_scaled(p, &fine, scale, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_HELD && d.reason == PRICEGUARD_REASON_PRIOR_PRICE && d.price == 24990);
  CHECK((d.present & PRICEGUARD_DECISION_HAS_LAWFUL_REFERENCE) && d.lawful_reference == 24980);
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &fine, scale, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "\"prior_low_price\":\"24.985\"") && strstr(buf, "\"lawful_reference\":\"24.98\"}"));
  CHECK_RESULT(priceguard_decision_explain_scaled(p, &fine, scale, &d, buf, sizeof buf, &n), PRICEGUARD_RESULT_OK);
  CHECK(strstr(buf, "lawful reference 24.98)") != NULL);
  /* A scaled decision whose reference is not whole minor units did not
   * come from a scaled call. */
  priceguard_decision odd = d;
  odd.lawful_reference = 24985;
  CHECK_RESULT(priceguard_decision_to_json_scaled(p, &fine, scale, &odd, buf, sizeof buf, &n),
               PRICEGUARD_RESULT_INVALID_ARGUMENT);
  priceguard_policy_free(p);

  /* promo_started_at and last_promo_ended_at: max_days 14, min_days_between 30. */
  p = load_toml(SPELL_TOML);
  const int64_t now = 1767225600, day = 86400;
  priceguard_item spell;
  memset(&spell, 0, sizeof spell);
  spell.proposed_price = 1999;
  spell.current_price = 2999;
  spell.reference_price = 2999;
  spell.now = now;
  spell.promo_started_at = now - 10 * day;
  spell.last_promo_ended_at = now - 15 * day; /* 5 days before it began */
  spell.present = PRICEGUARD_HAS_CURRENT_PRICE | PRICEGUARD_HAS_REFERENCE_PRICE | PRICEGUARD_HAS_NOW |
                  PRICEGUARD_HAS_PROMO_STARTED_AT | PRICEGUARD_HAS_LAST_PROMO_ENDED_AT;
  /* 5 days < 30 since the last one: no discount, lo = 29.99. */
  CHECK_RESULT(priceguard_policy_evaluate(p, &spell, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED && d.reason == PRICEGUARD_REASON_PROMO_SPELL && d.price == 2999);
  /* Without its bit there was no earlier promotion: 10 days <= 14, accepted. */
  spell.present &= ~PRICEGUARD_HAS_LAST_PROMO_ENDED_AT;
  CHECK_RESULT(priceguard_policy_evaluate(p, &spell, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ACCEPTED && d.price == 1999);
  /* Begun 15 days ago: 1296000 s > 14 x 86400 s, no discount. */
  spell.promo_started_at = now - 15 * day;
  CHECK_RESULT(priceguard_policy_evaluate(p, &spell, &d), PRICEGUARD_RESULT_OK);
  CHECK(d.outcome == PRICEGUARD_OUTCOME_ADJUSTED && d.reason == PRICEGUARD_REASON_PROMO_SPELL && d.price == 2999);
  priceguard_policy_free(p);
}

int main(void) {
  test_version_and_messages();
  test_names();
  test_loading_errors();
  test_files();
  const priceguard_policy *usd = load_toml(POLICY_TOML);
  const priceguard_policy *jpy = NULL;
  char err[256] = "";
  CHECK_RESULT(priceguard_policy_from_json(U8(POLICY_JSON), strlen(POLICY_JSON), err, sizeof err, &jpy),
               PRICEGUARD_RESULT_OK);
  test_identity(usd);
  test_money(usd, jpy);
  test_amounts(usd, jpy);
  test_evaluate(usd);
  test_scaled(usd);
  test_batch(usd);
  test_groups();
  test_history();
  test_ledger(usd, jpy);
  test_ledger_capacity(usd);
  test_ledger_outlives_policy();
  test_audit(usd);
  priceguard_policy_free(usd);
  priceguard_policy_free(jpy);
  /* _free(NULL) does nothing. */
  priceguard_policy_free(NULL);
  priceguard_ledger_free(NULL);
  printf("api: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
