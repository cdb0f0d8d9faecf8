"""Unified social credit codes (统一社会信用代码, GB 32100-2015): structure, check character and the county.

A code has 18 characters (GB 32100-2015, clause 4):

====  ==================================================  =====================================================
pos.  part                                                 content
====  ==================================================  =====================================================
1     登记管理部门代码 registration department              1 机构编制, 5 民政, 9 工商 (market regulation), ...
2     机构类别代码 kind of entity                           under 9: 1 企业, 2 个体工商户, 3 农民专业合作社
3-8   登记管理机关行政区划码 admin code (GB/T 2260)          the registering authority's area: gives the county
9-17  主体标识码 (组织机构代码, GB 11714)                  8 body characters and their GB 11714 check character
18    校验码 check character                                from the first 17 (weights 3^(i-1) mod 31)
====  ==================================================  =====================================================

The 31 characters are the digits and the capital letters without I, O, S, V and Z. The 18th character is what
validates a code: ``C18 = 31 - (Σ Ci·Wi mod 31)``, written ``0`` when the result is 31. Validators in wide use
(python-stdnum ``cn.uscc``, uscc-utils) check exactly that; the GB 11714 check of characters 9-17 is reported
(:attr:`CreditCode.org_code_valid`) but not required, because it is a property of the older organization code
that the registrar copied, not of the credit code.

Characters 3-8 name the registering authority, not the producer's site: a county-level code (not ending in
``00``) is the county of registration; a prefecture- or province-level code (a firm registered at the city or
provincial bureau) gives no county.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from gi.errors import InputError

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z) and the check weights.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: organization code check weights (positions 9..17 of the credit code).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 32100-2015 table 1 (with amendment No. 1): registration departments and the kinds of entity each registers.
REGISTRARS: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}


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


def normalize_uscc(text: str) -> str:
    """A code as typed, without spaces or hyphens, full-width characters made half-width, in capitals."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).replace("-", "").upper()


def uscc_problem(code: str) -> str | None:
    """Why ``code`` (normalized) is not a unified social credit code, or None when it is one."""
    if len(code) != 18:
        return f"{code!r} has {len(code)} characters; a unified social credit code has 18"
    bad = sorted({ch for ch in code if ch not in USCC_CHARS})
    if bad:
        return f"{code!r} contains {', '.join(repr(c) for c in bad)}: not a character of GB 32100 (no I, O, S, V, Z)"
    registrar = REGISTRARS.get(code[0])
    if registrar is None:
        return f"{code!r}: {code[0]!r} is not a registration department code of GB 32100"
    if code[1] not in registrar[1]:
        return f"{code!r}: {code[1]!r} is not a kind of entity registered by {registrar[0]} ({code[0]})"
    if not code[2:8].isdigit():
        return f"{code!r}: characters 3-8 ({code[2:8]}) are not an administrative division code"
    expected = uscc_check(code[:17])
    if code[17] != expected:
        return f"{code!r}: check character is {code[17]!r}, GB 32100-2015 gives {expected!r}"
    return None


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code with a correct GB 32100 check character."""
    return uscc_problem(code) is None


@dataclass(frozen=True)
class CreditCode:
    """A validated unified social credit code and what its characters say."""

    code: str

    @property
    def registrar(self) -> str:
        """The registration department (登记管理部门), e.g. 工商."""
        return REGISTRARS[self.code[0]][0]

    @property
    def entity_kind(self) -> str:
        """The kind of entity (机构类别), e.g. 企业, 农民专业合作社."""
        return REGISTRARS[self.code[0]][1][self.code[1]]

    @property
    def admin_code(self) -> str:
        """Characters 3-8: the registering authority's administrative division code."""
        return self.code[2:8]

    @property
    def county(self) -> str | None:
        """The county of registration when the authority is county-level, else None."""
        return self.admin_code if not self.admin_code.endswith("00") else None

    @property
    def org_code(self) -> str:
        """Characters 9-17: the organization code (GB 11714), written without its hyphen."""
        return self.code[8:17]

    @property
    def org_code_valid(self) -> bool:
        """Whether character 17 is the GB 11714 check character of characters 9-16."""
        return all(ch.isdigit() or "A" <= ch <= "Z" for ch in self.code[8:16]) and (
            org_code_check(self.code[8:16]) == self.code[16]
        )


def parse_uscc(text: str, field: str = "credit_code") -> CreditCode:
    """A credit code as typed, normalized and validated; InputError naming ``field`` says what is wrong."""
    code = normalize_uscc(text)
    if not code:
        raise InputError(field, "missing unified social credit code")
    problem = uscc_problem(code)
    if problem:
        raise InputError(field, problem)
    return CreditCode(code)


def county_from_uscc(code: str | None) -> str | None:
    """The county of registration in a credit code (characters 3-8 when county-level), else None."""
    if not code:
        return None
    code = normalize_uscc(code)
    if len(code) != 18 or not code[2:8].isdigit():
        return None
    return CreditCode(code).county
