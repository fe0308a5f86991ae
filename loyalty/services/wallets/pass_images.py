"""The images of a wallet pass, at @1x, @2x and @3x: the shop's logo (resized into the
logo's box) and, when it uploaded none, a drawn default: the brand colour with the shop's
initial; the strip is the hero image cropped, or a band of the brand colour.

A stored image that cannot be used safely (damaged, or over the pixel limit: uploaded before
uploads were checked) counts as none: the pass gets the drawn default, never an error.
"""
import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from loyalty.services.merchant.branding import MEDIA_NAME, stored_media
from loyalty.services.merchant.images import stored_image

#: (name, points width, points height) of Apple's storeCard images.
SIZES = {"icon": (29, 29), "logo": (160, 50), "strip": (375, 123)}
SCALES = (1, 2, 3)


def _hex_rgb(color):
    color = (color or "#1d5c4d").lstrip("#")
    try:
        return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return (29, 92, 77)


def _uploaded(url, box):
    """The uploaded image behind a ``/media/<hash>.<ext>`` URL (decoded no larger than needed
    to cover ``box``), or None when there is none or it cannot be used safely."""
    name = (url or "").rsplit("/", 1)[-1]
    match = MEDIA_NAME.match(name)
    if not url or not match:
        return None
    stored = stored_media(name)
    return stored_image(stored[0] if stored else None, match.group(1), box, name=name)


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@lru_cache(maxsize=16)
def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _initial_square(side, background, foreground, letter):
    image = Image.new("RGBA", (side, side), (*background, 255))
    draw = ImageDraw.Draw(image)
    draw.text((side / 2, side / 2), letter, fill=(*foreground, 255), font=_font(int(side * 0.6)),
              anchor="mm")
    return image


def _fitted(source, width, height):
    """``source`` scaled to fit the box, transparent around it (aspect kept)."""
    image = source.copy()
    image.thumbnail((width, height), Image.LANCZOS)
    box = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    box.paste(image, (0, (height - image.height) // 2), image)
    return box


def _cropped(source, width, height):
    """``source`` scaled to cover the box and cropped to it."""
    scale = max(width / source.width, height / source.height)
    image = source.resize((max(width, round(source.width * scale)),
                           max(height, round(source.height * scale))), Image.LANCZOS)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


@lru_cache(maxsize=64)
def pass_images(*, shop, primary_color, secondary_color, logo_url=None, hero_image_url=None):
    """{file name: PNG bytes} for icon, logo and strip at every scale (kept per branding: a
    changed image has a new URL)."""
    background, foreground = _hex_rgb(primary_color), _hex_rgb(secondary_color)
    letter = (shop or "?").strip()[:1].upper() or "?"
    largest = SCALES[-1]
    logo = _uploaded(logo_url, tuple(side * largest for side in SIZES["logo"]))
    hero = _uploaded(hero_image_url, tuple(side * largest for side in SIZES["strip"]))
    files = {}
    for scale in SCALES:
        suffix = "" if scale == 1 else f"@{scale}x"
        side = SIZES["icon"][0] * scale
        icon = _fitted(logo, side, side) if logo else _initial_square(side, background,
                                                                      foreground, letter)
        files[f"icon{suffix}.png"] = _png(icon)
        width, height = (value * scale for value in SIZES["logo"])
        files[f"logo{suffix}.png"] = _png(
            _fitted(logo, width, height) if logo
            else _fitted(_initial_square(height, background, foreground, letter), width, height))
        width, height = (value * scale for value in SIZES["strip"])
        files[f"strip{suffix}.png"] = _png(
            _cropped(hero, width, height) if hero
            else Image.new("RGBA", (width, height), (*background, 255)))
    return files
