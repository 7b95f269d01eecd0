// The header compiles as C++17 (g++ -Wall -Wextra -Werror) and its types
// and enums are usable from C++.
#include <cstring>

#include "priceguard.h"

static_assert(sizeof(priceguard_result) == 4, "result codes are 32-bit");
static_assert(PRICEGUARD_RESULT_OK == 0, "ok is zero");
static_assert(PRICEGUARD_REASON_MARGIN == PRICEGUARD_RULE_MARGIN + 1, "reason = 1 + rule");

int main() {
  priceguard_item item{};
  item.proposed_price = 1249;
  item.unit_cost = 1222;
  item.present = PRICEGUARD_HAS_UNIT_COST;
  const char toml[] = "name = \"cpp\"\ncurrency = \"USD\"\n[bounds]\nmin_price = \"0.99\"\nmax_price = \"5000\"\n"
                      "[margin]\nmin_margin = \"0.15\"\n";
  const priceguard_policy *policy = nullptr;
  if (priceguard_policy_from_toml(reinterpret_cast<const uint8_t *>(toml), std::strlen(toml), nullptr, 0, &policy) !=
      PRICEGUARD_RESULT_OK) {
    return 1;
  }
  priceguard_decision d{};
  priceguard_result r = priceguard_policy_evaluate(policy, &item, &d);
  priceguard_policy_free(policy);
  return (r == PRICEGUARD_RESULT_OK && d.price == 1438 && d.outcome == PRICEGUARD_OUTCOME_ADJUSTED) ? 0 : 1;
}
