/* Compiles and evaluates every macro of priceguard.h (the list is generated
 * from the header by gen_macros.py), so a macro that expands to undeclared
 * names fails the build. Also checks priceguard_result_ALL against the
 * result codes. */
#include <stdio.h>
#include <string.h>

#include "priceguard.h"

static int failures = 0;
static int macros = 0;

#define FAIL(...)                                                                                                      \
  do {                                                                                                                 \
    fprintf(stderr, __VA_ARGS__);                                                                                      \
    failures++;                                                                                                        \
  } while (0)

/* A value macro must be an integer constant expression. */
#define PG_VALUE(name)                                                                                                 \
  {                                                                                                                    \
    enum { value_of_##name = (int)((name) != 0) };                                                                     \
    (void)value_of_##name;                                                                                             \
    macros++;                                                                                                          \
  }
/* A brace initializer must initialise an array of its elements. */
#define PG_INIT(name)                                                                                                  \
  {                                                                                                                    \
    static const long long init_##name[] = name;                                                                       \
    if (sizeof init_##name == 0) FAIL("%s is empty\n", #name);                                                         \
    macros++;                                                                                                          \
  }

int main(void) {
#include "macros_table.h"

  /* priceguard_result_ALL: every code once, each with a message. */
  const priceguard_result all[] = priceguard_result_ALL;
  const size_t count = sizeof all / sizeof all[0];
  for (size_t i = 0; i < count; i++) {
    char buf[128];
    size_t n = 0;
    if (priceguard_result_message(all[i], buf, sizeof buf, &n) != PRICEGUARD_RESULT_OK || n == 0)
      FAIL("code %u has no message\n", (unsigned)all[i]);
    for (size_t j = 0; j < i; j++)
      if (all[j] == all[i]) FAIL("code %u listed twice\n", (unsigned)all[i]);
  }
  if (all[0] != PRICEGUARD_RESULT_OK) FAIL("priceguard_result_ALL does not start with OK\n");
  /* Codes outside the list are unknown to the library. */
  char buf[128];
  size_t n = 0;
  unsigned unknown = 0;
  for (unsigned code = 0; code < 1000; code++) {
    if (priceguard_result_message(code, buf, sizeof buf, &n) == PRICEGUARD_RESULT_OK) unknown++;
  }
  if (unknown != count) FAIL("%u codes have a message, priceguard_result_ALL lists %zu\n", unknown, count);

  printf("macros: %d macros compiled, %zu result codes, %d failures\n", macros, count, failures);
  return failures ? 1 : 0;
}
