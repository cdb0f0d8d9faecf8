"""The commitment (一公开 before the draw) and the seed.

Before the draw the plan publishes the frame snapshot, the parameters and a commitment naming their SHA-256
and the SHA-256 of a secret; after a public value becomes known (a later lottery draw, a value typed in by a
second party), the secret is revealed and the seed is

    seed = SHA-256("gi-plan-seed/1\\n" || commitment_sha256 || "\\n" || secret || "\\n" || public_value)

(strings as UTF-8, the commitment hash as 64 lowercase hex characters). Neither party alone can steer the
seed: the secret is fixed by its hash before the public value exists, and the public value is outside the
supervisor's control.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from gi.errors import InputError

COMMITMENT_SCHEME = "gi-plan-commitment/1"
REVEAL_SCHEME = "gi-plan-reveal/1"
SEED_DOMAIN = "gi-plan-seed/1"


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


def check_public_value(value: str) -> str:
    """The public value, trimmed; it must not be empty."""
    value = value.strip()
    if not value:
        raise InputError("public_value", "is empty; give the lottery number or the second party's value")
    return value


@dataclass(frozen=True)
class CommitmentDoc:
    """The published commitment and its hash."""

    document: dict[str, Any]
    data: bytes
    sha256: str


def make_commitment(
    plan: str, frame_bytes: bytes, parameters_bytes: bytes, secret: str, committed_at: str
) -> CommitmentDoc:
    """The commitment document over the frame and parameters bytes and the secret's hash."""
    document = {
        "scheme": COMMITMENT_SCHEME,
        "plan": plan,
        "frame_sha256": sha256_hex(frame_bytes),
        "parameters_sha256": sha256_hex(parameters_bytes),
        "secret_sha256": sha256_hex(check_secret(secret).encode("ascii")),
        "committed_at": committed_at,
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
    public_value_source: str,
    revealed_at: str,
) -> dict[str, Any]:
    """The reveal document published with the draw."""
    return {
        "scheme": REVEAL_SCHEME,
        "plan": plan,
        "commitment_sha256": commitment_sha256,
        "secret": secret,
        "public_value": check_public_value(public_value),
        "public_value_source": public_value_source,
        "seed": derive_seed(commitment_sha256, secret, public_value).hex(),
        "revealed_at": revealed_at,
    }
