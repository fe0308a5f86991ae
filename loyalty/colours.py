"""Colours that meet text: WCAG 2.1 contrast, and a readable text colour on a brand colour.

A merchant may pick any card colour and text colour; the branding page warns about a pair that
reads badly, and everywhere customers see them (their pages, the card face, the poster, emails,
wallet passes) the text takes ``readable_on(background, preferred)``: the merchant's colour when
it reaches 4.5:1, else black or white, whichever contrasts more. A part of the interface drawn
in the card colour on the page (a filled stamp) needs 3:1: ``readable_on(page, brand, minimum=3)``.
"""
import re

#: WCAG 2.1 AA for normal text (1.4.3); large text and parts of the interface need 3:1.
READABLE_CONTRAST = 4.5
BLACK = "#000000"
WHITE = "#ffffff"
HEX = re.compile(r"^#[0-9a-fA-F]{6}\Z")


def luminance(color):
    """The WCAG relative luminance of a "#rrggbb" colour (0 for black, 1 for white)."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(background, text):
    """The WCAG contrast ratio of two "#rrggbb" colours, from 1 (none) to 21, unrounded:
    4.499 does not reach 4.5."""
    light, dark = sorted((luminance(background), luminance(text)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(background, preferred=WHITE, *, minimum=READABLE_CONTRAST):
    """``preferred`` when it reaches ``minimum`` on ``background``, else black or white,
    whichever contrasts more (one of them always reaches 4.5:1). A colour that is not
    "#rrggbb" counts as absent: white text is the preferred one then."""
    if not HEX.match(background or ""):
        return preferred if HEX.match(preferred or "") else WHITE
    if HEX.match(preferred or "") and contrast_ratio(background, preferred) >= minimum:
        return preferred
    return max((BLACK, WHITE), key=lambda text: contrast_ratio(background, text))


def install(app):
    """Templates write ``background|readable_on(preferred)`` wherever text meets a brand colour."""
    app.jinja_env.filters["readable_on"] = readable_on
