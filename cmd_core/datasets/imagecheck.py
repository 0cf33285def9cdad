"""Verifying image and video files: existence, completeness, decodability, size.

Three levels (the `verify` option of the ingest):
- "decode": read the bytes, check the end marker (JPEG must end with EOI FF D9, PNG with the IEND
  chunk: OpenCV decodes a truncated JPEG with only a warning), and decode. JPEGs are decoded with
  IMREAD_REDUCED_GRAYSCALE_8: libjpeg still entropy-decodes every block (so corrupt data is
  still found) but skips most of the IDCT and colour work, about 2x faster than a full decode
  (measured 46 vs 104 us for 160x128); their size comes from the frame header.
- "header": read only the header for the size (JPEG SOF, PNG IHDR, BMP); fast for huge datasets,
  finds missing and empty files but not truncation.
- "none": no file access; sizes are unknown (null).
Results are (width, height) tuples or a string saying what is wrong.
"""

from __future__ import annotations

import contextlib
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import cv2
import numpy as np

VERIFY_MODES = ("decode", "header", "none")
Result = "tuple[int, int] | str"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's SOF segment, or None if no frame header is in `data`."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        m = data[i + 1]
        if m == 0xFF:  # fill byte
            i += 1
            continue
        if m in (0x01, *range(0xD0, 0xD8)):
            i += 2
            continue
        if m in (0xD9, 0xDA):  # end / start of scan before a frame header
            return None
        seg = struct.unpack(">H", data[i + 2:i + 4])[0]
        if m in _SOF:
            if i + 9 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + seg
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the start of a JPEG, PNG or BMP file, None if unknown/too short."""
    if data[:2] == b"\xff\xd8":
        return jpeg_size(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return w, abs(h)
    return None


def _check_decode(path: str) -> tuple[int, int] | str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return "missing file"
    except OSError as exc:
        return f"unreadable file ({exc.strerror or exc})"
    if not data:
        return "empty file"
    buf = np.frombuffer(data, np.uint8)
    if data[:2] == b"\xff\xd8":
        if not data[-64:].rstrip(b"\x00\r\n\t ").endswith(b"\xff\xd9"):
            return "truncated JPEG (no end-of-image marker FF D9)"
        size = jpeg_size(data)
        if size is None:
            return "corrupt JPEG (no frame header)"
        if cv2.imdecode(buf, cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
            return "corrupt JPEG (decode failed)"
        return size
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-12:]:
        return "truncated PNG (no IEND chunk)"
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        return "cannot decode image"
    return img.shape[1], img.shape[0]


def _check_header(path: str) -> tuple[int, int] | str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
            size = header_size(head)
            if size is None and head[:2] == b"\xff\xd8":  # large EXIF/ICC segments before the SOF
                size = header_size(head + fh.read())
    except FileNotFoundError:
        return "missing file"
    except OSError as exc:
        return f"unreadable file ({exc.strerror or exc})"
    if not head:
        return "empty file"
    if size is None:  # a format we do not parse: decode it
        return _check_decode(path)
    return size


def check_image(path: str, verify: str = "decode") -> tuple[int, int] | str | None:
    """Size of one image, an error string, or None with verify="none"."""
    if verify == "decode":
        return _check_decode(path)
    if verify == "header":
        return _check_header(path)
    if verify == "none":
        return None
    raise ValueError(f"verify must be one of {VERIFY_MODES}, got {verify!r}")


def check_video(path: str, verify: str = "decode") -> tuple[int, int, int] | str | None:
    """(width, height, frame count) of a video, an error string, or None with verify="none".

    "decode" reads every frame (the container's frame count is not trusted); "header" uses it.
    """
    if verify == "none":
        return None
    if not os.path.isfile(path):
        return "missing file"
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            return "cannot open video"
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if verify == "header":
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        else:
            n = 0
            while cap.grab():
                n += 1
        if n <= 0 or w <= 0 or h <= 0:
            return "video has no decodable frames"
        return w, h, n
    finally:
        cap.release()


@contextlib.contextmanager
def single_threaded_opencv(threads: int) -> Iterator[None]:
    """Stop OpenCV's own thread pool from competing with our `threads` workers (restored after)."""
    prev = cv2.getNumThreads()
    if threads > 1:
        cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(prev)


def check_images(paths: list[str], verify: str = "decode", threads: int = 1,
                 progress: Callable[[int], None] | None = None, chunk: int = 128) -> list:
    """check_image over `paths` with `threads` workers, in order; `progress(n)` after each chunk."""
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, got {verify!r}")
    if verify == "none":
        if progress:
            progress(len(paths))
        return [None] * len(paths)
    fn = _check_decode if verify == "decode" else _check_header

    def work(batch: list[str]) -> list:
        return [fn(p) for p in batch]

    batches = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    out: list = []
    with single_threaded_opencv(threads):
        if threads <= 1:
            results = map(work, batches)
            for r in results:
                out.extend(r)
                if progress:
                    progress(len(r))
        else:
            with ThreadPoolExecutor(max_workers=threads) as ex:
                for r in ex.map(work, batches):
                    out.extend(r)
                    if progress:
                        progress(len(r))
    return out
