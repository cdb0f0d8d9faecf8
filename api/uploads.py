"""Uploaded files saved for the domain's file readers: the name checked against the suffixes a route reads, the
size against the service's limit, the bytes copied in chunks to a temporary directory removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from gi.errors import InputError, TooLargeError
from gi.settings import Settings

TABLE_SUFFIXES = frozenset({".csv", ".xlsx"})


@contextmanager
def saved_upload(
    file: UploadFile,
    settings: Settings,
    suffixes: frozenset[str] = TABLE_SUFFIXES,
    default: str = "upload.csv",
) -> Iterator[Path]:
    """The upload as a file under its own (base) name, for as long as the ``with`` block runs."""
    name = Path(file.filename or default).name
    if Path(name).suffix.lower() not in suffixes:
        raise InputError("file", f"{name}: send a {' or '.join(sorted(suffixes))} file")
    if file.size is not None and file.size > settings.api_max_request_bytes:
        raise TooLargeError("file", f"larger than {settings.api_max_request_bytes} bytes")
    with tempfile.TemporaryDirectory(prefix="gi-upload-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        yield path
