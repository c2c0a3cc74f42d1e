"""Where shard files and manifests live: a local directory, or any pyarrow.fs URI.

Shard files are always opened from local disk (``Index.load`` and mmap need a real file), so
a remote file is copied to a local temporary file first; its checksum is computed while
copying. Local files are hashed in place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from typing import Tuple

_CHUNK = 1 << 20


def is_uri(location: str) -> bool:
    return "://" in location


def _filesystem(location: str):
    try:
        from pyarrow import fs
    except ImportError:
        raise ImportError(f"{location!r} is a URI; reading and writing URIs needs pyarrow "
                          f"(pip install 'vecindex[distributed]')") from None
    return fs.FileSystem.from_uri(location)


def join(location: str, name: str) -> str:
    return location.rstrip("/") + "/" + name if is_uri(location) else os.path.join(location, name)


def make_dir(location: str) -> None:
    if is_uri(location):
        filesystem, path = _filesystem(location)
        filesystem.create_dir(path, recursive=True)
    else:
        os.makedirs(location, exist_ok=True)


def sha256_of_file(path: str) -> Tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def upload(local_path: str, location: str) -> None:
    filesystem, path = _filesystem(location)
    with open(local_path, "rb") as source, filesystem.open_output_stream(path) as target:
        shutil.copyfileobj(source, target, _CHUNK)


def local_copy(location: str, scratch: str) -> Tuple[str, str, int]:
    """Downloads URI ``location`` into directory ``scratch``: the local path, its sha256 and size."""
    filesystem, path = _filesystem(location)
    target = os.path.join(scratch, os.path.basename(path))
    digest, size = hashlib.sha256(), 0
    with filesystem.open_input_stream(path) as source, open(target, "wb") as sink:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            sink.write(chunk)
    return target, digest.hexdigest(), size


def write_text_atomically(location: str, text: str) -> None:
    """Local: temp file, fsync, rename. URI: one output stream (object stores publish on close)."""
    data = text.encode()
    if is_uri(location):
        filesystem, path = _filesystem(location)
        with filesystem.open_output_stream(path) as target:
            target.write(data)
        return
    directory = os.path.dirname(os.path.abspath(location))
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".manifest-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, location)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def read_text(location: str) -> str:
    """The file's text; a missing file raises FileNotFoundError (an OSError) as a local open does."""
    if not is_uri(location):
        with open(location, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    filesystem, path = _filesystem(location)
    from pyarrow import fs
    if filesystem.get_file_info(path).type == fs.FileType.NotFound:
        raise FileNotFoundError(f"no such file: {location}")
    with filesystem.open_input_stream(path) as source:
        return source.read().decode("utf-8", errors="replace")


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory:
    """A temporary directory for one transfer, removed with its files when the block exits.
    Cleanup errors are ignored: Windows cannot remove a file that is still mapped."""
    return tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True)


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


