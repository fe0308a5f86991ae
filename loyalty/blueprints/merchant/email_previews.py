"""An email as the customer's mail client shows it, for the owner's settings pages (birthday
bonus, win-back): the HTML served in a sandboxed frame, in each of the site's languages."""
from flask import abort, current_app

from loyalty.services.merchant import programs
from loyalty.tenancy import current_merchant

#: The preview is the email as sent, in a sandboxed frame: its inline styles apply, nothing in
#: it runs. Only this site's pages may frame it (``X-Frame-Options``: CSP's ``frame-ancestors
#: 'self'`` would never match the sandbox's opaque origin).
PREVIEW_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def previews(preview, program):
    """``{language: preview(merchant, program, language)}`` for every language of the site."""
    return {code: preview(current_merchant, program, code)
            for code in current_app.config["LANGUAGES"]}


def preview_response(preview, lang):
    """The HTML of ``preview(merchant, program, lang)["html"]`` as a framed page; 404 without a
    program or for a language the site does not speak."""
    program = programs.live_program(current_merchant.id)
    if program is None or lang not in current_app.config["LANGUAGES"]:
        abort(404)
    html = preview(current_merchant, program, lang)["html"]
    return html, 200, {"Content-Type": "text/html; charset=utf-8",
                       "Content-Security-Policy": PREVIEW_POLICY, "X-Frame-Options": "SAMEORIGIN"}
