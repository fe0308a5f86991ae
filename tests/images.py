"""Image files for upload tests: real ones, and the bad ones people (or attackers) send."""
import io
import struct
import zlib

from PIL import Image


def encoded(width=40, height=30, fmt="PNG", color=(200, 40, 40), **options):
    """A real image of that size and format (PNG, JPEG, WEBP)."""
    buffer = io.BytesIO()
    mode = "RGB" if fmt == "JPEG" else "RGBA"
    Image.new(mode, (width, height), color).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def bomb_png(width=12000, height=12000, *, whole=False):
    """A small PNG declaring ``width`` x ``height`` black-and-white pixels. ``whole``: with
    every row in its (highly compressed) data, a file of ~17 KB that decodes to 144 million
    pixels; otherwise a few rows only (the header is what must be refused)."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    rows = height if whole else 4
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def truncated_png():
    """A real PNG cut off in the middle of its pixel data."""
    image = Image.effect_noise((300, 200), 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    whole = buffer.getvalue()
    return whole[:len(whole) // 2]


#: Files whose bytes are not the image their name and type say, as (bytes, filename, type).
MISMATCHED = {
    "JPEG bytes named .png": (encoded(fmt="JPEG"), "logo.png", "image/png"),
    "PNG bytes sent as image/jpeg": (encoded(), "logo", "image/jpeg"),
    "SVG bytes named .png": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                             "logo.png", "image/png"),
    "HTML bytes named .jpg": (b"<!doctype html><script>alert(1)</script>", "logo.jpg",
                              "image/jpeg"),
    "PNG bytes named .svg": (encoded(), "logo.svg", "image/svg+xml"),
}
