"""Branding: the card's name, colours, images and terms, with a live preview."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty import colours
from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import BrandingForm
from loyalty.links import external_url
from loyalty.request_guard import accepts_upload
from loyalty.services.customers.card_page import qr_svg
from loyalty.services.errors import DomainError
from loyalty.services.merchant import branding, programs
from loyalty.tenancy import current_merchant, roles_required

TEXT_FIELDS = ("card_name", "primary_color", "secondary_color", "terms_text", "privacy_url")
#: The preview's card shows a made-up number and, as its code, the shop's page.
SAMPLE_NUMBER = "1234-5678-9012"


def _uploads(form):
    """Check the images that came with the form; a refused one is said next to its field."""
    checked = {}
    for field, column in ((form.logo, "logo_url"), (form.hero_image, "hero_image_url")):
        upload = field.data
        if upload and getattr(upload, "filename", None):
            try:
                checked[column] = branding.checked_image(
                    upload.stream, column, filename=upload.filename,
                    content_type=upload.content_type)
            except DomainError as refusal:
                field.errors = [*field.errors, str(refusal.message)]
    return checked


@bp.route("/branding", methods=["GET", "POST"])
@roles_required(*OWNER)
@accepts_upload
def branding_page():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
        return redirect(url_for("merchant.program"))
    form = BrandingForm(obj=program) if request.method == "GET" else BrandingForm()
    status = 200
    if form.validate_on_submit():
        uploads = _uploads(form)
        if not (form.logo.errors or form.hero_image.errors):
            values = {name: (form[name].data or "").strip() or None for name in TEXT_FIELDS}
            branding.update_branding(program, actor=actor(), uploads=uploads, **values)
            flash(_("Branding saved."), "success")
            return redirect(url_for("merchant.branding_page"))
        status = 422
    elif request.method == "POST":
        status = 422
    contrast = colours.contrast_ratio(form.primary_color.data or program.primary_color,
                                      form.secondary_color.data or program.secondary_color) \
        if not (form.primary_color.errors or form.secondary_color.errors) else None
    return page("merchant/branding.html", form=form, program=program, contrast=contrast,
                readable=colours.READABLE_CONTRAST, image_side=branding.MAX_IMAGE_SIDE,
                sample_code=qr_svg(external_url("storefront.program", slug=current_merchant.slug)),
                sample_number=SAMPLE_NUMBER, status=status)
