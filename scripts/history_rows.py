#!/usr/bin/env python3
"""Price rows for the `history summarize` benchmark (BENCHMARKS.md).

Writes `sku,price,at,reference_price` rows: SKUS SKUs repriced once a
week, interleaved (every SKU's week-w row before any week-w+1 row, as a
weekly export gives them), 15 % of rows on promotion. Deterministic.

    scripts/history_rows.py ROWS SKUS > rows.csv
"""
import random
import sys


def main() -> None:
    rows, skus = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(1)
    out = sys.stdout
    out.write("sku,price,at,reference_price\n")
    for i in range(rows):
        s, w = i % skus, i // skus
        p = 1000 + rng.randint(-200, 200)
        ref = "12.99" if rng.random() < 0.15 else ""
        at = 1700000000 + w * 604800 + rng.randint(0, 3600)
        out.write(f"SKU-{s:07d},{p // 100}.{p % 100:02d},{at},{ref}\n")


if __name__ == "__main__":
    main()
