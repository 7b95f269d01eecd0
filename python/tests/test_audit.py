"""Policy content hashes, audit logs, metrics and approval flags from Python."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import priceguard
from conftest import VECTORS

POLICY = """
name = "approvals"
version = "3"
currency = "USD"
[bounds]
min_price = "0.99"
max_price = "5000"
[margin]
min_margin = "0.15"
[approval]
max_auto_change = "0.15"
"""

SAME_AS_JSON = json.dumps(
    {
        "approval": {"max_auto_change": "0.150"},
        "margin": {"min_margin": "0.15"},
        "bounds": {"max_price": "5000.00", "min_price": "0.99"},
        "currency": "USD",
        "version": "3",
        "name": "approvals",
    }
)


@pytest.fixture
def policy() -> priceguard.Policy:
    return priceguard.Policy.from_toml(POLICY)


def test_content_hash_is_the_same_for_toml_and_reordered_json(policy: priceguard.Policy) -> None:
    h = policy.content_hash
    assert len(h) == 64 and int(h, 16) >= 0
    assert priceguard.Policy.from_json(SAME_AS_JSON).content_hash == h
    changed = priceguard.Policy.from_toml(POLICY.replace('min_margin = "0.15"', 'min_margin = "0.16"'))
    assert changed.content_hash != h


def test_decisions_carry_the_policy_and_approval(policy: priceguard.Policy) -> None:
    cases = [
        ("11.50", False),  # exactly 15 %: not more than the threshold
        ("11.51", True),
        ("8.49", True),
        ("10.00", False),
    ]
    for proposed, flagged in cases:
        d = policy.evaluate({"sku": "A", "proposed_price": proposed, "current_price": "10.00", "unit_cost": "1"})
        assert d.outcome == "accepted"
        assert d.needs_approval is flagged, proposed
        assert (d.policy_name, d.policy_version, d.policy_hash) == ("approvals", "3", policy.content_hash)
    new_listing = policy.evaluate({"proposed_price": "900", "unit_cost": "1"})
    assert new_listing.needs_approval is False
    record = json.loads(
        policy.evaluate({"sku": 'S"1', "proposed_price": "11.51", "current_price": "10", "unit_cost": "1"}).to_json()
    )
    assert record["policy"] == {"name": "approvals", "version": "3", "hash": policy.content_hash}
    assert record["item"] == {"sku": 'S"1', "proposed_price": "11.51", "current_price": "10.00", "unit_cost": "1.00"}
    assert record["decision"]["needs_approval"] is True


def test_batch_approval_flags_and_policy(policy: priceguard.Policy) -> None:
    r = policy.evaluate_batch(
        proposed_price=np.array([11.50, 11.51, 8.49, 10.00, 900.0]),
        current_price=np.array([10.0, 10.0, 10.0, 10.0, np.nan]),
        unit_cost=1.0,
    )
    assert r.needs_approval.tolist() == [False, True, True, False, False]
    assert (r.policy_name, r.policy_version, r.policy_hash) == ("approvals", "3", policy.content_hash)


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


@pytest.mark.parametrize("money", ["major", "minor"])
def test_write_audit_records_every_item_and_verifies(policy: priceguard.Policy, tmp_path: Path, money: str) -> None:
    log = tmp_path / "audit.jsonl"
    if money == "major":
        prices: Any = np.array([11.51, 12.0, 9.0, 1.0])
        current: Any = np.array([10.0, 10.0, np.nan, 10.0])
    else:
        prices = np.array([1151, 1200, 900, 100])
        current = np.ma.masked_array([1000, 1000, 0, 1000], mask=[False, False, True, False])
    r = policy.evaluate_batch(proposed_price=prices, current_price=current, unit_cost=Decimal("1"), money=money)
    head = r.write_audit(log, skus=["A", "B", "C", "D"])
    assert priceguard.verify_audit(str(log)) == (4, head)
    assert priceguard.verify_audit(str(log), head=head) == (4, head)
    recs = [json.loads(line) for line in lines_of(log)]
    assert [x["item"]["sku"] for x in recs] == ["A", "B", "C", "D"]
    assert recs[0]["item"] == {"sku": "A", "proposed_price": "11.51", "current_price": "10.00", "unit_cost": "1.00"}
    assert "current_price" not in recs[2]["item"]
    assert recs[0]["decision"]["needs_approval"] is True
    assert recs[0]["policy"]["hash"] == policy.content_hash
    for rec, i in zip(recs, range(4)):
        assert rec["seq"] == i + 1
        assert rec["decision"] == {**rec["decision"], **{"outcome": priceguard.OUTCOMES[int(r.outcome[i])]}}
    # A second batch continues the chain.
    r.write_audit(log)
    assert priceguard.verify_audit(str(log))[0] == 8


def test_single_decisions_are_audited_too(policy: priceguard.Policy, tmp_path: Path) -> None:
    log = tmp_path / "single.jsonl"
    ds = [policy.evaluate({"sku": f"S{i}", "proposed_price": p}) for i, p in enumerate(["5", "abc", "7"])]
    head = priceguard.write_audit(log, ds)
    assert priceguard.verify_audit(str(log)) == (3, head)
    bad = json.loads(lines_of(log)[1])
    assert bad["item"] == {"sku": "S1"}
    assert bad["decision"]["invalid_field"] == "proposed_price"


def test_tampering_is_named(policy: priceguard.Policy, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    r = policy.evaluate_batch(proposed_price=np.array([5.0, 6.0, 7.0, 8.0, 9.0]), current_price=6.0)
    head = r.write_audit(log)
    original = lines_of(log)

    def fails(lines: list[str], line: int, words: str, anchor: Any = None) -> None:
        bad = tmp_path / "bad.jsonl"
        write_lines(bad, lines)
        with pytest.raises(ValueError, match=f"line {line}: .*{words}"):
            priceguard.verify_audit(str(bad), head=anchor)

    edited = list(original)
    edited[2] = edited[2].replace('"seq":3', '"seq":3 ', 1)
    fails(edited, 3, "edited")
    dropped = original[:1] + original[2:]
    fails(dropped, 2, "removed")
    swapped = [original[0], original[2], original[1], *original[3:]]
    fails(swapped, 2, "reordered")
    fails([*original, original[0]], 6, "")
    fails(original[:4], 4, "cut", anchor=head)
    with pytest.raises(ValueError, match="tampered"):
        write_lines(log, swapped)
        r.write_audit(log)
    with pytest.raises(OSError):
        priceguard.verify_audit(str(tmp_path / "missing.jsonl"))


def test_metrics_totals_equal_the_vector_decision_counts() -> None:
    m = priceguard.Metrics()
    want = {o: 0 for o in priceguard.OUTCOMES}
    approvals = 0
    for path in sorted(VECTORS.glob("*.json")):
        v = json.loads(path.read_text())
        if v.get("batch"):
            continue  # single items; batches are counted below
        policy = priceguard.Policy.from_json(json.dumps(v["policy"]))
        for case in v["cases"]:
            m.record(policy.evaluate(case["item"]))
            want[case["expect"]["outcome"]] += 1
            approvals += bool(case["expect"].get("needs_approval", False))
    assert m.total == sum(want.values()) > 0
    assert dict(m.outcomes()) == want
    assert m.needs_approval == approvals
    text = m.render()
    for o, n in want.items():
        assert f'priceguard_decisions_total{{outcome="{o}"}} {n}\n' in text
    assert "# TYPE priceguard_decisions_total counter" in text


def test_metrics_count_batches(policy: priceguard.Policy) -> None:
    m = priceguard.Metrics()
    r = policy.evaluate_batch(proposed_price=np.array([11.51, 12.0, -1.0]), current_price=10.0, unit_cost=1.0)
    m.record_batch(r)
    assert m.total == 3
    assert dict(m.outcomes())["rejected"] == 1
    assert m.needs_approval == int(r.needs_approval.sum())
    assert "priceguard_batches_total 1\n" in m.render()
    assert repr(m).startswith("Metrics(total=3")


@pytest.mark.parametrize("money", ["major", "minor"])
def test_batch_audit_records_carry_the_lawful_reference(tmp_path: Path, money: str) -> None:
    """A `prior_price` hold's lawful "was" price reaches the batch's audit
    records exactly as a single decision's JSON writes it; every other
    record has no such member (docs/audit.md)."""
    policy = priceguard.Policy.from_toml(
        'name = "omnibus"\ncurrency = "USD"\n[bounds]\nmin_price = "0.99"\nmax_price = "5000"\n'
        "[disclosure]\nprior_days = 30\n"
    )
    scale = 1 if money == "major" else 100
    ref = np.ma.masked_array(np.array([29.99, 0.0]) * scale, mask=[False, True])
    low = np.ma.masked_array(np.array([24.99, 0.0]) * scale, mask=[False, True])
    cols: dict[str, Any] = dict(
        proposed_price=np.array([19.99, 12.0]) * scale,
        current_price=np.array([24.99, 11.0]) * scale,
        reference_price=ref,
        prior_low_price=low,
    )
    if money == "minor":
        cols = {k: v.astype(np.int64) for k, v in cols.items()}
    r = policy.evaluate_batch(**cols, money=money)
    log = tmp_path / "audit.jsonl"
    r.write_audit(log, skus=["HELD", "PLAIN"])
    recs = [json.loads(line) for line in lines_of(log)]
    assert recs[0]["decision"]["reason"] == "prior_price"
    assert recs[0]["decision"]["lawful_reference"] == "24.99"
    assert "lawful_reference" not in recs[1]["decision"]
    single = policy.evaluate(
        {"proposed_price": "19.99", "current_price": "24.99", "reference_price": "29.99", "prior_low_price": "24.99"}
    )
    assert json.loads(single.to_json())["decision"] == recs[0]["decision"]
