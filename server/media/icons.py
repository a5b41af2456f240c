"""Generated avatars: a symmetric 5x5 identicon PNG per CoP, no image library needed."""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib

SIZE = 120
CELLS = 5
BACKGROUND = (246, 248, 247)


@functools.lru_cache(maxsize=512)
def identicon_png(seed: str) -> bytes:
    """A calm, deterministic identicon for `seed` as PNG bytes."""
    digest = hashlib.sha256(seed.encode()).digest()
    # Muted teal/blue/green hues read as calm, fitting for health and social care.
    palette = [(47, 111, 115), (58, 96, 140), (76, 123, 88), (120, 92, 140), (150, 96, 70)]
    colour = palette[digest[0] % len(palette)]
    filled = [[False] * CELLS for _ in range(CELLS)]
    bits = int.from_bytes(digest[1:5], "big")
    for row in range(CELLS):
        for col in range((CELLS + 1) // 2):
            on = bool(bits & 1)
            bits >>= 1
            filled[row][col] = filled[row][CELLS - 1 - col] = on
    margin = SIZE // 10
    cell = (SIZE - 2 * margin) // CELLS
    rows = []
    for y in range(SIZE):
        line = bytearray([0])  # filter type "None" for each scanline
        for x in range(SIZE):
            cx, cy = (x - margin) // cell, (y - margin) // cell
            inside = 0 <= cx < CELLS and 0 <= cy < CELLS and x >= margin and y >= margin
            line.extend(colour if inside and filled[cy][cx] else BACKGROUND)
        rows.append(bytes(line))
    return _png(SIZE, SIZE, b"".join(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
