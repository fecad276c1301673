"""Numbers as the wall shows them (dashboard.fmt)."""

from __future__ import annotations


def test_formats():
    from dashboard import fmt

    assert fmt.count(9999) == "9,999" and fmt.count(123456) == "12.35万"
    assert fmt.count(123456, "en") == "123.5k" and fmt.count(None) == "—"
    assert fmt.rate(None) == "—" and fmt.rate(0.98345) == "98.3%"
    assert fmt.rate(1.0) == "100%" and fmt.rate(0.99951) == "100%" and fmt.rate(0.9994) == "99.9%"
    assert fmt.delta(0.95, 0.9, is_rate=True) == ("+5.0pp", "up")
    assert fmt.delta(10, 12) == ("-2", "down") and fmt.delta(3, None) == ("—", "none")
