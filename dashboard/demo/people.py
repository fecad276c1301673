"""Fictional names, phone numbers and ID numbers for the demo city's residents and staff."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from dashboard import privacy
from dashboard.demo.catalogue import load
from dashboard.roster import check_digit


def names(rng, n: int) -> np.ndarray:
    c = load()
    s = rng.choice(c.surnames, n)
    g1 = rng.choice(c.given, n)
    g2 = np.where(rng.random(n) < 0.6, rng.choice(c.given, n), "")
    return np.char.add(np.char.add(s.astype(str), g1.astype(str)), g2.astype(str))


def phones(rng, n: int) -> np.ndarray:
    prefix = rng.choice(["138", "139", "135", "137", "150", "151", "158", "186", "187", "189"], n)
    body = rng.integers(0, 10**8, n)
    return np.array([f"{p}{b:08d}" for p, b in zip(prefix, body, strict=True)], dtype=object)


def id_number(rng, hired: date) -> str:
    """A well-formed but fictional 18-digit resident ID number (GB 11643 check digit)."""
    born = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 35)))
    body = f"339{int(rng.integers(0, 1000)):03d}{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    return body + check_digit(body)


def sealed(values):
    """Reporter data as it is stored: sealed when PII_KEY is set (dashboard.privacy)."""
    if not privacy.sealing():
        return values
    return np.array([privacy.seal(v) if v is not None else None for v in values], dtype=object)
