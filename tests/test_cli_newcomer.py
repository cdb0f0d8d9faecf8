"""What someone who has just set up sees: a fresh database answers with a sentence that says what to do next,
not an empty table."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import gi, scratch_database

pytestmark = pytest.mark.postgis


def test_a_fresh_database_says_what_to_do(db_url: str, tmp_path: Path) -> None:
    with scratch_database(db_url, "gi_test_fresh") as url:
        plans = gi(url, "plan", "list", out=tmp_path)
        assert plans.returncode == 0, plans.stderr
        assert (
            plans.stdout.strip()
            == "no plans yet: create one with `gi plan create CODE --from DATE --to DATE ...`"
        )
        products = gi(url, "products", "list", out=tmp_path)
        assert products.returncode == 0, products.stderr
        assert products.stdout.startswith(
            "no products yet: load the bundled register with `gi register load`"
        )
