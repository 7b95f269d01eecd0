#!/usr/bin/env python3
"""Turns vector files (format: tests/vectors/*.json) into a C table.

    gen_vectors.py OUT.h FILE.json...

The C runner (test_vectors.c) includes OUT.h, so the C side needs no JSON
library. Money stays text: the runner reads it with priceguard_amount_parse
(and, for cases whose money is all whole minor units, also with
priceguard_money_parse), exactly as the Rust runner reads it with
Policy::set_field_text. Fields are listed in Field::ALL order so the first
unreadable one is reported. The history summary fields (codes 18-22) are
item fields like any other; `lawful_reference` is compared in every case
(absent from `expect`: the decision has none).

Float form (tests/vectors/README.md): each money text t is also written as
a C double literal, repr(float(t)), which the compiler reads back to the
same double; the runner hands it to priceguard_amount_from_double. A case
has a float form when every money text satisfies
Decimal(repr(float(t))) == Decimal(t) and it does not say
"forms": ["text"]; a batch file runs in float form only when every case has
one (leaving a case out would change the batch).

Group files (tests/vectors/groups/*.json, whose cases hold `items`, one
batch each) go into a second table, `group_files`: one row per item with
its group text, rank and pack size beside its values, and the expectations
keyed by sku turned into one per row (NULL: that key is not checked). A
group case has a float form when every row's money does.
"""
import json
import math
import sys
from decimal import Decimal, InvalidOperation

# Field::ALL order (core/src/item.rs) of the fields priceguard_item
# carries: without sku (17) and the group fields (23-25), which are not in
# the item; so the codes are given, not counted.
FIELD_CODE = {
    "current_price": 0, "unit_cost": 1, "min_price": 2, "max_price": 3,
    "map_price": 4, "reference_price": 5, "expected_units": 6, "campaign": 7,
    "now": 8, "last_change_at": 9, "changes_in_window": 10,
    "window_anchor_price": 11, "baseline_price": 12, "competitor_price": 13,
    "segment": 14, "pinned_price": 15, "proposed_price": 16,
    # The history summary (docs/spec.md §11).
    "prior_low_price": 18, "promo_started_at": 19, "last_promo_ended_at": 20,
    "reversals_in_window": 21, "competitor_quotes": 22,
}
FIELDS = sorted(FIELD_CODE, key=FIELD_CODE.get)
MONEY = {
    "current_price", "unit_cost", "min_price", "max_price", "map_price",
    "reference_price", "window_anchor_price", "baseline_price",
    "competitor_price", "pinned_price", "proposed_price", "prior_low_price",
}
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class FloatText(str):
    """A JSON number with a fraction or exponent, kept as written."""


def c_str(s):
    """A C string literal (octal escapes for anything but plain ASCII)."""
    if s is None:
        return "NULL"
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\?':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def c_bytes(name, s):
    data = s.encode("utf-8")
    rows = [", ".join(str(b) for b in data[i:i + 24]) for i in range(0, len(data), 24)]
    return "static const unsigned char %s[%d] = {\n  %s\n};\n" % (name, max(len(data), 1), ",\n  ".join(rows) or "0")


def as_text(v):
    """The text the Rust runner hands to set_field_text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, FloatText, str)):
        return str(v)
    return json.dumps(v)


def parse_whole(t):
    """core policy/input.rs parse_whole: i64, or a decimal with no fraction."""
    try:
        if t.lstrip("+-").isdigit():
            v = int(t)
            return v if I64_MIN <= v <= I64_MAX else None
    except ValueError:
        pass
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    if not d.is_finite() or d != d.to_integral_value() or "e" in t.lower() or t.strip() != t:
        return None
    v = int(d)
    return v if I64_MIN <= v <= I64_MAX else None


# kinds, in step with test_vectors.c
K_MONEY, K_INT, K_CAMPAIGN, K_INVALID = 0, 1, 2, 3


def float_literal(text):
    """The C literal of the double nearest to money text `text` when that
    double is exactly the text's number, else None (no float form)."""
    try:
        f = float(text)
        exact = math.isfinite(f) and Decimal(repr(f)) == Decimal(text)
    except (ValueError, InvalidOperation):
        return None
    return repr(f) if exact else None


def has_float_form(case, where):
    forms = case.get("forms")
    if forms is not None:
        if not isinstance(forms, list) or not set(forms) <= {"text", "float"}:
            sys.exit("%s: `forms` must be a list of \"text\" and \"float\"" % where)
        if "float" not in forms:
            return False
    for name, v in case["item"].items():
        if name in MONEY and v is not None and float_literal(as_text(v).strip()) is None:
            return False
    return True


def values_of(item, where):
    for key in item:
        if key != "sku" and key not in FIELD_CODE:
            sys.exit("%s: unknown item field `%s`" % (where, key))
    vals = []
    for name in FIELDS:
        if name not in item or item[name] is None:
            continue
        text = as_text(item[name]).strip()
        code = FIELD_CODE[name]
        if text == "":
            if name == "proposed_price":
                vals.append((code, K_INVALID, None, 0, None))
            continue
        if name == "campaign":
            vals.append((code, K_CAMPAIGN, text, 0, None))
        elif name in MONEY:
            vals.append((code, K_MONEY, text, 0, float_literal(text)))
        else:
            v = parse_whole(text)
            if v is None or (name == "segment" and not 0 <= v <= 2**32 - 1):
                vals.append((code, K_INVALID, None, 0, None))
            else:
                vals.append((code, K_INT, None, v, None))
    return vals


def names(v, where):
    if v is None:
        return ""
    if not isinstance(v, list):
        sys.exit("%s: expected a list of names" % where)
    return ";".join(v)


GROUP_KEYS = ("group", "rank", "pack_size")


def whole(v, name, where):
    """A group row's integer (rank, pack_size), as the Rust runner reads it."""
    if isinstance(v, bool) or not isinstance(v, int):
        sys.exit("%s: `%s` must be an integer" % (where, name))
    return v


def group_file(fi, short, doc, plain, parts):
    """The C rows of one group file; returns its `vec_gfile` initialiser."""
    policy = json.dumps(plain["policy"], separators=(",", ":"), ensure_ascii=False)
    parts.append(c_bytes("gpolicy_%d" % fi, policy))
    case_rows = []
    for ci, case in enumerate(doc["cases"]):
        where = "%s: case `%s`" % (short, case.get("name"))
        expect = case["expect"]
        rows = []
        floats = True
        forms = case.get("forms")
        if forms is not None and "float" not in forms:
            floats = False
        if len(expect) != len(case["items"]):
            sys.exit("%s: one expectation per item" % where)
        for ri, item in enumerate(case["items"]):
            sku = str(item["sku"])
            plain_item = {k: v for k, v in item.items() if k not in GROUP_KEYS}
            if not has_float_form({"item": plain_item}, where):
                floats = False
            vals = values_of(plain_item, where)
            vname = "gvalues_%d_%d_%d" % (fi, ci, ri)
            parts.append("static const vec_value %s[%d] = {\n%s\n};\n" % (
                vname, max(len(vals), 1),
                ",\n".join("  {%d, %d, %s, INT64_C(%d), %s}" % (c, k, c_str(t), v, d or "0.0")
                            for c, k, t, v, d in vals)
                or "  {0, 0, NULL, 0, 0.0}"))
            if sku not in expect:
                sys.exit("%s: no expectation for %s" % (where, sku))
            e = expect[sku]
            for key in ("outcome", "price", "reason"):
                if key not in e:
                    sys.exit("%s / %s: expect lacks `%s`" % (where, sku, key))
            group = item.get("group")
            has_rank = "rank" in item
            has_pack = "pack_size" in item
            opt = lambda key: c_str(names(e[key], where)) if key in e else "NULL"
            rows.append(
                "  {%s, %s, %d, %s, %d, INT64_C(%d), %d, UINT64_C(%d), %s, %d, %s, %s, %s, %s, %s, %s, %s, %s}" % (
                    c_str(sku), vname, len(vals),
                    c_str(None if group is None else as_text(group)),
                    1 if has_rank else 0, whole(item["rank"], "rank", where) if has_rank else 0,
                    1 if has_pack else 0, whole(item["pack_size"], "pack_size", where) if has_pack else 0,
                    c_str(e["outcome"]), 1 if e["price"] is None else 0,
                    c_str(e["price"]), c_str(e["reason"]),
                    opt("violated"), opt("binding"), opt("unmet"),
                    c_str(e.get("invalid_field")),
                    c_str(e["promo_spend"]) if e.get("promo_spend") is not None else "NULL",
                    c_str(e.get("explain"))))
        rname = "grows_%d_%d" % (fi, ci)
        parts.append("static const vec_grow %s[%d] = {\n%s\n};\n" % (rname, len(rows), ",\n".join(rows)))
        g = case.get("groups")
        counts = [g[k] for k in ("groups", "adjusted", "held", "invalid")] if g is not None else [0, 0, 0, 0]
        case_rows.append("  {%s, %s, %d, %d, %d, {%s}}" % (
            c_str(case["name"]), rname, len(rows), 1 if floats else 0, 1 if g is not None else 0,
            ", ".join("UINT64_C(%d)" % v for v in counts)))
    parts.append("static const vec_gcase gcases_%d[%d] = {\n%s\n};\n" % (
        fi, len(case_rows), ",\n".join(case_rows)))
    return "  {%s, gpolicy_%d, sizeof gpolicy_%d, gcases_%d, %d}" % (
        c_str(short), fi, fi, fi, len(case_rows))


def main():
    out_path, files = sys.argv[1], sys.argv[2:]
    if not files:
        sys.exit("gen_vectors.py: no vector files")
    parts = ["/* Generated by tests/c/gen_vectors.py: do not edit. */\n"]
    file_rows = []
    gfile_rows = []
    for fi, path in enumerate(sorted(files)):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f, parse_float=FloatText)
        if doc["cases"] and "items" in doc["cases"][0]:
            with open(path, encoding="utf-8") as f:
                plain = json.load(f)
            gfile_rows.append(group_file(fi, "groups/" + path.split("/")[-1], doc, plain, parts))
            continue
        short = path.split("/")[-1]
        if "/history/" in path:
            short = "history/" + short
        with open(path, encoding="utf-8") as f:
            plain = json.load(f)  # numbers as the Rust runner re-serialises them
        policy = json.dumps(plain["policy"], separators=(",", ":"), ensure_ascii=False)
        parts.append(c_bytes("policy_%d" % fi, policy))
        case_rows = []
        floats = [has_float_form(case, "%s: case `%s`" % (short, case.get("name"))) for case in doc["cases"]]
        if doc.get("batch", False) and not all(floats):
            floats = [False] * len(floats)
        for ci, case in enumerate(doc["cases"]):
            where = "%s: case `%s`" % (short, case.get("name"))
            vals = values_of(case["item"], where)
            vname = "values_%d_%d" % (fi, ci)
            parts.append("static const vec_value %s[%d] = {\n%s\n};\n" % (
                vname, max(len(vals), 1),
                ",\n".join("  {%d, %d, %s, INT64_C(%d), %s}" % (c, k, c_str(t), v, d or "0.0")
                            for c, k, t, v, d in vals)
                or "  {0, 0, NULL, 0, 0.0}"))
            e = case["expect"]
            for key in ("outcome", "price", "lower", "upper", "promo_spend", "violated",
                        "binding", "relaxed", "reason"):
                if key not in e:
                    sys.exit("%s: expect lacks `%s`" % (where, key))
            case_rows.append(
                "  {%s, %s, %d, %d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %d, %s, %s, %s}" % (
                    c_str(case["name"]), vname, len(vals), 1 if floats[ci] else 0,
                    c_str(e["outcome"]), c_str(e["price"]), c_str(e["lower"]),
                    c_str(e["upper"]), c_str(e["promo_spend"]),
                    c_str(names(e["violated"], where)), c_str(names(e["binding"], where)),
                    c_str(names(e.get("unmet", []), where)), c_str(names(e["relaxed"], where)),
                    c_str(e["reason"]), 1 if e.get("needs_approval", False) else 0,
                    c_str(e.get("invalid_field")), c_str(e.get("explain")),
                    # Absent means none, as in the Rust runner.
                    c_str(e.get("lawful_reference"))))
        parts.append("static const vec_case cases_%d[%d] = {\n%s\n};\n" % (
            fi, len(case_rows), ",\n".join(case_rows)))
        tripped = bool(doc.get("summary", {}).get("breaker_tripped", False))
        file_rows.append("  {%s, policy_%d, sizeof policy_%d, %d, %d, cases_%d, %d}" % (
            c_str(short), fi, fi, 1 if doc.get("batch", False) else 0, 1 if tripped else 0,
            fi, len(case_rows)))
    parts.append("static const vec_file vec_files[%d] = {\n%s\n};\n" % (
        len(file_rows), ",\n".join(file_rows)))
    # C has no empty arrays: an unused first entry when there are no group files.
    parts.append("static const size_t n_group_files = %d;\n" % len(gfile_rows))
    parts.append("static const vec_gfile group_files[%d] = {\n%s\n};\n" % (
        max(len(gfile_rows), 1), ",\n".join(gfile_rows) or "  {NULL, NULL, 0, NULL, 0}"))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
