"""Where the photos of ODK submissions go: the content-addressed media store (SHA-256 names, one copy each).

A photo must be an image Pillow reads (JPEG, PNG, WebP or TIFF: :func:`gi.origin.photos.sniff_photo`, told by its
bytes, not its name) and no larger than ``max_photo_bytes``; it is written atomically under
``media_dir/ab/abcdef...`` and never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from gi.errors import InputError, TooLargeError
from gi.origin.photos import sniff_photo
from gi.settings import Settings


def media_path(settings: Settings, sha256: str) -> Path:
    """Where the bytes with this SHA-256 are kept."""
    return Path(settings.media_dir) / sha256[:2] / sha256


def store_attachment(settings: Settings, content: bytes, name: str, content_type: str | None = None) -> str:
    """Keep a photo in the media store and return its SHA-256; a non-image or too large a file is refused."""
    limit = settings.max_photo_bytes
    if len(content) > limit:
        raise TooLargeError(name, f"the photo is {len(content)} bytes, more than the {limit} allowed")
    try:
        sniff_photo(content)
    except InputError as exc:
        raise InputError(name, f"{exc.problem} (declared {content_type or 'no type'})") from None
    digest = hashlib.sha256(content).hexdigest()
    target = media_path(settings, digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{digest[:8]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest
