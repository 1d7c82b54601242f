"""Images to PNG bytes: numpy arrays without PIL (zlib + struct), PIL images through PIL."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"GIF8": "gif", b"RIFF": "webp"}


def image_bytes(data: Any, dataformats: str | None = None) -> tuple[bytes, str]:
    """(encoded bytes, file extension) for a path, encoded bytes, a numpy array or a PIL image."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        return path.read_bytes(), (path.suffix.lstrip(".").lower() or "png")
    if isinstance(data, (bytes, bytearray)):
        for magic, extension in _MAGIC.items():
            if bytes(data[: len(magic)]) == magic:
                return bytes(data), extension
        raise ValueError("bytes given to log_image are not a PNG, JPEG, GIF or WebP image")
    if hasattr(data, "save") and hasattr(data, "mode"):  # a PIL image
        import io

        buffer = io.BytesIO()
        data.save(buffer, format="PNG")
        return buffer.getvalue(), "png"
    if hasattr(data, "__array__") or isinstance(data, list):
        return array_to_png(data, dataformats), "png"
    raise TypeError(
        f"log_image takes a path, image bytes, a numpy array or a PIL image, not {type(data).__name__}"
    )


def array_to_png(data: Any, dataformats: str | None = None) -> bytes:
    """HW, HWC or CHW (1, 2, 3 or 4 channels); floats are taken in [0, 1], integers in [0, 255]."""
    import numpy as np

    array = np.asarray(data.detach().cpu() if hasattr(data, "detach") else data)
    if array.ndim == 3 and (dataformats or "").upper() == "CHW":
        array = array.transpose(1, 2, 0)
    elif (
        array.ndim == 3
        and dataformats is None
        and array.shape[0] in (1, 3, 4)
        and array.shape[2] not in (1, 2, 3, 4)
    ):
        array = array.transpose(1, 2, 0)  # looks like CHW
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in _COLOR_TYPES:
        raise ValueError(f"an image array must be HW, HWC or CHW with 1-4 channels, not shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        array = np.nan_to_num(array) * 255.0 if array.size and float(np.nanmax(array)) <= 1.0 else array
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    else:
        array = np.clip(array, 0, 255).astype(np.uint8)
    height, width, channels = array.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), array.reshape(height, width * channels)], axis=1)
    return encode_png(rows.tobytes(), width, height, channels)


def encode_png(filtered_rows: bytes, width: int, height: int, channels: int) -> bytes:
    """A PNG file from 8-bit rows that each start with filter byte 0."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(filtered_rows, 6))
        + chunk(b"IEND", b"")
    )
