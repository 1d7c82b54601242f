"""A minimal PNG reader for tests (8-bit, filter 0 only: what the tracking encoder writes)."""

from __future__ import annotations

import struct
import zlib

CHANNELS = {0: 1, 4: 2, 2: 3, 6: 4}


def read_png(data: bytes) -> tuple[int, int, int, list[list[int]]]:
    """(width, height, channels, rows of byte values); checks signature and every chunk CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    assert header is not None
    width, height, depth, color_type = header[:4]
    assert depth == 8
    channels = CHANNELS[color_type]
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    rows = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0, "only filter type 0 is expected"
        rows.append(list(row[1:]))
    return width, height, channels, rows
