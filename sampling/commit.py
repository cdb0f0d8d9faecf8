"""The commitment (一公开 before the draw), the announced public value, the reveal and the seed.

Before the draw the plan publishes the frame snapshot, the parameters and a commitment naming their SHA-256,
the SHA-256 of a secret, and — as RFC 3797 asks — the future public random value that will be used: its
source and the draw (date or date-time, and issue number) that will produce it. After that draw, the secret
is revealed and the seed is

    seed = SHA-256("gi-plan-seed/2\\n" || commitment_sha256 || "\\n" || secret || "\\n" || public_value)

(strings as UTF-8, the commitment hash as 64 lowercase hex characters). Neither party alone can steer the
seed: the secret is fixed by its hash before the public value exists, and the public value comes from a draw
announced in advance that the supervisor does not control.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gi.errors import InputError

COMMITMENT_SCHEME = "gi-plan-commitment/2"
REVEAL_SCHEME = "gi-plan-reveal/2"
SEED_DOMAIN = "gi-plan-seed/2"
_ASCII_SPACE = " \t\n\v\f\r"


def canonical_json(obj: Any) -> bytes:
    """The one byte form of a published document: UTF-8 JSON, sorted keys, no spaces or floats, final \\n."""
    _refuse_floats(obj)
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def _refuse_floats(obj: Any) -> None:
    # Floats print differently across languages; every published number is an integer.
    if isinstance(obj, float):
        raise TypeError("published documents hold no floating-point numbers")
    if isinstance(obj, dict):
        for v in obj.values():
            _refuse_floats(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _refuse_floats(v)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def new_secret() -> str:
    """A fresh secret seed part: 32 random bytes as 64 hex characters, from the operating system's CSPRNG."""
    return secrets.token_hex(32)


def check_secret(secret: str) -> str:
    """A secret is 32 to 128 printable ASCII characters without spaces."""
    if not 32 <= len(secret) <= 128 or not all(33 <= ord(ch) <= 126 for ch in secret):
        raise InputError("secret", "must be 32-128 printable ASCII characters without spaces")
    return secret


def _text(value: str, field: str, limit: int, empty_ok: bool = False) -> str:
    """Trim ASCII white space; refuse control characters, an over-long or (unless allowed) empty value."""
    value = value.strip(_ASCII_SPACE)
    if not value and not empty_ok:
        raise InputError(field, "is empty")
    if len(value) > limit:
        raise InputError(field, f"is longer than {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(field, "contains a control character")
    return value


def check_public_value(value: str) -> str:
    """The public value, trimmed of ASCII white space; 1-200 characters without control characters."""
    if not value.strip(_ASCII_SPACE):
        raise InputError("public_value", "is empty; give the lottery number or the second party's value")
    return _text(value, "public_value", 200)


@dataclass(frozen=True)
class Moment:
    """The announced time of the draw that produces the public value: a calendar date, or an instant."""

    text: str
    day: date | None = None
    instant: datetime | None = None

    @classmethod
    def parse(cls, text: str, field: str = "draw_at") -> Moment:
        """``YYYY-MM-DD`` or an ISO 8601 date-time with a UTC offset (``2026-11-25T21:15:00+08:00``)."""
        text = text.strip(_ASCII_SPACE)
        if len(text) == 10:
            try:
                return cls(text, day=date.fromisoformat(text))
            except ValueError:
                pass
        else:
            try:
                instant = datetime.fromisoformat(text)
            except ValueError:
                instant = None
            if instant is not None and instant.tzinfo is not None:
                return cls(instant.isoformat(), instant=instant)
        raise InputError(field, f"{text!r} is neither YYYY-MM-DD nor a date-time with its UTC offset")

    def after(self, moment: datetime) -> bool:
        """Strictly after ``moment``: a date must be a later calendar day than the moment's own date."""
        if self.day is not None:
            return self.day > moment.date()
        assert self.instant is not None
        return self.instant > moment

    def reached(self, now: datetime) -> bool:
        """Whether the announced draw can have taken place by ``now``."""
        if self.day is not None:
            return now.date() >= self.day
        assert self.instant is not None
        return now >= self.instant


@dataclass(frozen=True)
class Announcement:
    """The public value announced in the commitment: whose draw, which issue, when (RFC 3797 § 3)."""

    source: str
    draw: str
    draw_at: str

    @classmethod
    def make(cls, source: str, draw_at: str, draw: str = "") -> Announcement:
        """A checked announcement (trimmed texts; the time normalized)."""
        return cls(
            _text(source, "public_value_source", 200),
            _text(draw, "public_value_draw", 100, empty_ok=True),
            Moment.parse(draw_at, "public_value_draw_at").text,
        )

    @property
    def moment(self) -> Moment:
        """The announced time, parsed."""
        return Moment.parse(self.draw_at)

    def to_dict(self) -> dict[str, str]:
        """Published form (inside commitment.json)."""
        return {"source": self.source, "draw": self.draw, "draw_at": self.draw_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Announcement:
        """Inverse of ``to_dict``."""
        return cls(str(d["source"]), str(d["draw"]), str(d["draw_at"]))

    def text(self) -> str:
        """One line for people: source, issue, time."""
        return "，".join(x for x in (self.source, self.draw and f"第 {self.draw} 期", self.draw_at) if x)


def check_announced_in_advance(announcement: Announcement, committed_at: datetime) -> None:
    """Refuse an announced draw that is not strictly after the commitment (its value might be known)."""
    if not announcement.moment.after(committed_at):
        raise InputError(
            "public_value_draw_at",
            f"{announcement.draw_at} is not after the commitment ({committed_at.isoformat()}): announce a "
            "future draw, whose value nobody can know yet",
        )


def check_claim(
    announcement: Announcement,
    committed_at: datetime,
    source: str,
    draw_at: str,
    draw: str,
    now: datetime,
) -> None:
    """Refuse a public value whose stated source, issue or date differs from the announcement, that predates
    the commitment, or whose announced draw has not taken place yet."""
    claimed = Moment.parse(draw_at, "date")
    if not claimed.after(committed_at):
        raise InputError(
            "date",
            f"{claimed.text} predates the commitment ({committed_at.isoformat()}): a value drawn before the "
            "commitment could have been chosen knowing the frame",
        )
    if source.strip(_ASCII_SPACE) != announcement.source:
        raise InputError("source", f"{source.strip()!r} is not the announced source {announcement.source!r}")
    if claimed.text != announcement.moment.text:
        raise InputError("date", f"{claimed.text} is not the announced draw time {announcement.draw_at}")
    if draw.strip(_ASCII_SPACE) != announcement.draw:
        raise InputError("issue", f"{draw.strip()!r} is not the announced draw {announcement.draw!r}")
    if not announcement.moment.reached(now):
        raise InputError(
            "date", f"the announced draw ({announcement.draw_at}) has not taken place yet ({now.isoformat()})"
        )


@dataclass(frozen=True)
class Predecessor:
    """The failed plan a new plan re-draws (named in its commitment; the public notice lists both)."""

    plan: str
    commitment_sha256: str
    failure_sha256: str
    public_value: str

    def to_dict(self) -> dict[str, str]:
        """Published form (inside commitment.json)."""
        return {
            "plan": self.plan,
            "commitment_sha256": self.commitment_sha256,
            "failure_sha256": self.failure_sha256,
            "public_value": self.public_value,
        }


@dataclass(frozen=True)
class CommitmentDoc:
    """The published commitment and its hash."""

    document: dict[str, Any]
    data: bytes
    sha256: str


def make_commitment(
    plan: str,
    frame_bytes: bytes,
    parameters_bytes: bytes,
    secret: str,
    committed_at: str,
    announcement: Announcement,
    supersedes: Predecessor | None = None,
) -> CommitmentDoc:
    """The commitment document over the frame and parameters bytes, the secret's hash and the announced
    public value (and the failed plan it re-draws, if any)."""
    document = {
        "scheme": COMMITMENT_SCHEME,
        "plan": plan,
        "frame_sha256": sha256_hex(frame_bytes),
        "parameters_sha256": sha256_hex(parameters_bytes),
        "secret_sha256": sha256_hex(check_secret(secret).encode("ascii")),
        "committed_at": committed_at,
        "public_value": announcement.to_dict(),
        "supersedes": supersedes.to_dict() if supersedes else None,
    }
    data = canonical_json(document)
    return CommitmentDoc(document, data, sha256_hex(data))


def derive_seed(commitment_sha256: str, secret: str, public_value: str) -> bytes:
    """The 32-byte draw seed from the commitment hash, the revealed secret and the public value."""
    message = "\n".join(
        [SEED_DOMAIN, commitment_sha256, check_secret(secret), check_public_value(public_value)]
    )
    return hashlib.sha256(message.encode("utf-8")).digest()


def make_reveal(
    plan: str,
    commitment_sha256: str,
    secret: str,
    public_value: str,
    announcement: Announcement,
    revealed_at: str,
) -> dict[str, Any]:
    """The reveal document published with the draw (or with a failed draw)."""
    return {
        "scheme": REVEAL_SCHEME,
        "plan": plan,
        "commitment_sha256": commitment_sha256,
        "secret": secret,
        "public_value": check_public_value(public_value),
        "public_value_source": announcement.source,
        "public_value_draw": announcement.draw,
        "public_value_draw_at": announcement.draw_at,
        "seed": derive_seed(commitment_sha256, secret, public_value).hex(),
        "revealed_at": revealed_at,
    }
