"""The pages' static files, compressed and cached as a browser wants them: scripts and styles gzip-compressed
once per file version (MapLibre GL JS is 1 MB, 280 kB compressed) and kept in memory, and the vendored libraries,
whose folders carry their version (``maplibre-gl-5.24.1/``), marked immutable so a returning browser neither
downloads nor revalidates them and reuses the code it compiled."""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".html", ".txt", ".md")
MIN_COMPRESS_BYTES = 1024  # smaller files gain less than the header costs
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = (
    "no-cache"  # the pages' own files change with a deployment under the same name: always revalidated
)


class AssetFiles(StaticFiles):
    """StaticFiles that answers gzip to a browser that accepts it (compressed once per file version) and sets
    ``Cache-Control``: immutable for versioned folders (``immutable=True``), revalidated otherwise."""

    def __init__(self, *args: Any, immutable: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_control = IMMUTABLE if immutable else REVALIDATE
        self._compressed: MutableMapping[tuple[str, int, int], bytes] = {}
        self._lock = threading.Lock()

    def _gzip(self, path: str, stat_result: os.stat_result) -> bytes:
        """The file's gzip body, compressed on first use of this version of it (path, size, modification time)."""
        key = (path, stat_result.st_size, stat_result.st_mtime_ns)
        with self._lock:
            body = self._compressed.get(key)
        if body is None:
            with open(path, "rb") as f:
                # mtime=0: the same bytes on every start (a stable ETag and body for caches on the way)
                body = gzip.compress(f.read(), compresslevel=9, mtime=0)
            with self._lock:
                for old in [k for k in self._compressed if k[0] == path]:
                    del self._compressed[old]
                self._compressed[key] = body
        return body

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file (gzip-compressed when accepted and worth it) with its ETag and caching headers; ``304`` when
        the browser's copy of that representation is current."""
        request_headers = Headers(scope=scope)
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        response.headers["cache-control"] = self.cache_control
        path = os.fspath(full_path)
        compressible = (
            status_code == 200 and path.endswith(COMPRESSIBLE) and stat_result.st_size >= MIN_COMPRESS_BYTES
        )
        gzipped = compressible and "gzip" in request_headers.get("accept-encoding", "")
        if compressible:
            response.headers["vary"] = "Accept-Encoding"
        if gzipped:
            # another representation, another validator (a cache must not mix the two)
            response.headers["etag"] = response.headers["etag"].removesuffix('"') + '-gz"'
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        if not gzipped:
            return response
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "accept-ranges")
        }
        headers["content-encoding"] = "gzip"
        return Response(self._gzip(path, stat_result), status_code=200, headers=headers)
