"""Unified social credit codes (统一社会信用代码, GB 32100-2015): characters, check characters and validation."""

from __future__ import annotations

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z) and the check weights.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: organization code check weights (positions 9..17 of the credit code).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check(body: str) -> str:
    """Check character of an 8-character organization code body (GB 11714)."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(body, ORG_WEIGHTS, strict=True)
    )
    c = 11 - total % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def uscc_check(first17: str) -> str:
    """Check character (18th) of a unified social credit code (GB 32100-2015)."""
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Whether an 18-character code has valid characters and both check characters (GB 11714, GB 32100)."""
    if len(code) != 18 or any(ch not in USCC_CHARS for ch in code):
        return False
    return uscc_check(code[:17]) == code[17] and org_code_check(code[8:16]) == code[16]
