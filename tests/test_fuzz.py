"""The API fuzzed from its OpenAPI document (tests/fuzzing.py): no 5xx and no partial write,
on SQLite and PostgreSQL. bench/fuzz.py runs the same with 100,000 and more inputs."""

from __future__ import annotations

import pytest

from dashboard.clock import utcnow
from dashboard.models import Alert
from tests.fuzzing import fuzz, fuzz_importer


@pytest.mark.slow
def test_the_api_answers_generated_input_without_5xx_or_partial_writes(client, rt, city, bearer):
    now = utcnow()
    with rt.sessions() as session, session.begin():
        session.add(Alert(rule="t", level=2, title="预警", created_at=now, updated_at=now))
    stats = fuzz(client, rt, bearer, examples=15)
    assert stats.requests >= 300
    assert stats.server_errors == [], stats.server_errors[:5]
    assert stats.partial_writes == [], stats.partial_writes[:5]


@pytest.mark.slow
def test_the_importer_answers_generated_files_with_a_report_or_a_refusal(rt, city, tmp_path):
    stats = fuzz_importer(rt, tmp_path, examples=60)
    assert stats.requests == 60
    assert stats.server_errors == [], stats.server_errors[:5]
    assert stats.partial_writes == [], stats.partial_writes[:5]
