"""OpenRosa answers: their headers, the ``OpenRosaResponse`` document, and error messages in Chinese.

ODK Collect shows the server's ``<message>`` to the inspector in the field, and the service answers OpenRosa in
Chinese (``Content-Language: zh``), so an error's message is Chinese: a sentence of its own for the errors an inspector meets (a role that may not
submit, a changed re-submission, a body or photo over its limit), else a Chinese lead before the English detail
that names the field. The English text is what the service logs. Shared by the OpenRosa routes and
the size-limit middleware, which refuses an over-limit body before any route runs.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from api.problems import PAGE_TITLES
from gi.settings import get_settings

OPENROSA_XML = "text/xml; charset=utf-8"
RESPONSE_NS = "http://openrosa.org/http/response"
OPENROSA_PREFIX = "/odk/"

# The lead of an error message by status: the pages' error titles (api/problems.py PAGE_TITLES), worded for a
# form being submitted where they differ.
_LEADS: dict[int, str] = {**PAGE_TITLES, 403: "无权操作", 503: "服务暂不可用，请稍后重试"}

_ROLES_ZH = {"inspector": "抽样人员", "supervisor": "监管人员", "admin": "管理员"}


def openrosa_headers() -> dict[str, str]:
    """The headers of every OpenRosa answer (the accepted length is the service's request limit)."""
    return {
        "X-OpenRosa-Version": "1.0",
        "X-OpenRosa-Accept-Content-Length": str(get_settings().api_max_request_bytes),
        "Content-Language": "zh",
    }


def openrosa_message(message: str, nature: str = "") -> str:
    """An ``OpenRosaResponse`` document with one message."""
    kind = f' nature="{escape(nature)}"' if nature else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OpenRosaResponse xmlns="{RESPONSE_NS}" items="0"><message{kind}>{escape(message)}</message>'
        "</OpenRosaResponse>\n"
    )


def is_openrosa(path: str) -> bool:
    """True for a path of the OpenRosa routes (``/odk/...``)."""
    return path.startswith(OPENROSA_PREFIX)


def body_too_large_zh(limit: int) -> str:
    """The message of a POST above the accepted length (Collect splits uploads at that length)."""
    return f"内容过大：本次上传超过服务器接受的 {limit} 字节。请在 ODK Collect 中降低照片分辨率后重新发送。"


def error_zh(status: int, detail: str, field: str | None = None, role: str | None = None) -> str:
    """The Chinese message of an OpenRosa error: a sentence for the errors an inspector meets, else the status's
    lead in Chinese followed by the English detail (which names the field). The caller logs the English."""
    if status == 403 and role is not None:
        who = _ROLES_ZH.get(role, role)
        return f"无权操作：{who}账号不能提交样品，样品须由抽样人员用本人账号提交。"
    if status == 409 and field == "instanceID":
        return (
            "与已有记录冲突：这份表单（同一 instanceID）已提交过，但内容不同。已接收的样品不能修改，"
            "如需更正请另填一份新表单。"
        )
    if status == 413:
        if field and field != "body":
            limit = get_settings().max_photo_bytes
            return f"内容过大：照片 {field} 超过 {limit} 字节的上限，请降低照片分辨率后重新发送。"
        return body_too_large_zh(get_settings().api_max_request_bytes)
    return f"{_LEADS.get(status, '提交失败')}：{detail}"
