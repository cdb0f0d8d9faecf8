"""Stored passwords: argon2id at the configured cost; a hash made at another cost still signs in and is stored
again at the configured one (pwdlib's verify_and_update), a wrong password changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_fixtures import service_database
from sqlalchemy import select

from gi import db as gi_db
from gi.accounts.tokens import authenticate
from gi.accounts.users import add_user
from gi.models import User
from gi.settings import get_settings

pytestmark = pytest.mark.postgis

PASSWORD = "a passphrase of ten"


@pytest.fixture(scope="module")
def url(db_url: str) -> Iterator[str]:
    with service_database(db_url, prefix="gi_pwd") as found:
        yield found


def _stored(url: str) -> str:
    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        return str(session.scalar(select(User.password_hash).where(User.username == "keeper")))


def test_a_changed_cost_rehashes_at_the_next_login_and_old_hashes_still_sign_in(url: str) -> None:
    default = get_settings()
    cheaper = default.model_copy(update={"password_memory_kib": 8192, "password_time_cost": 3})
    with gi_db.session_scope(gi_db.get_engine(url)) as session:
        add_user(session, "keeper", "admin", PASSWORD, settings=cheaper)
    first = _stored(url)
    assert first.startswith("$argon2id$v=19$m=8192,t=3,p=1$")

    with gi_db.session_scope(gi_db.get_engine(url)) as session:  # a wrong password: nothing rewritten
        assert authenticate(session, "keeper", "not the passphrase", "test", default) is None
    assert _stored(url) == first

    with gi_db.session_scope(gi_db.get_engine(url)) as session:  # the default cost: signed in, rehashed
        assert authenticate(session, "keeper", PASSWORD, "test", default) is not None
    second = _stored(url)
    assert second.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and second != first

    with gi_db.session_scope(gi_db.get_engine(url)) as session:  # current: signs in, kept as it is
        assert authenticate(session, "keeper", PASSWORD, "test", default) is not None
    assert _stored(url) == second
