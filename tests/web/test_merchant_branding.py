"""Branding: colours with a contrast warning, checked image uploads served by content hash."""
import io
import re
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from loyalty import colours
from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyProgram, StoredFile
from loyalty.services.merchant import branding
from tests import factories, images
from tests.conftest import csrf_token_from

VALID = {"card_name": "Coffee club", "primary_color": "#1d5c4d", "secondary_color": "#ffffff",
         "terms_text": "", "privacy_url": ""}


def tiny_png():
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _stored_names():
    db.session.commit()
    return db.session.scalars(select(StoredFile.name)).all()


def _post(client, data, **files):
    token = csrf_token_from(client.get("/merchant/branding"))
    body = {**data, "csrf_token": token}
    for name, (content, filename, *content_type) in files.items():
        body[name] = (io.BytesIO(content), filename, *content_type)
    return client.post("/merchant/branding", data=body, content_type="multipart/form-data")


def test_colours_and_a_logo_are_saved_and_the_logo_is_served_by_its_hash(
        auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    saved = _post(client, {**VALID, "primary_color": "#5c3a2e"}, logo=(tiny_png(), "logo.txt"))
    assert saved.status_code == 302
    program = db.session.scalar(select(LoyaltyProgram))
    assert program.primary_color == "#5c3a2e" and program.card_name == "Coffee club"
    assert re.fullmatch(r"/media/[0-9a-f]{64}\.png", program.logo_url)
    image = client.get(program.logo_url)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.data)).size == (1, 1)  # kept re-encoded, same picture
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers["Content-Type"] == "image/png"
    assert _stored_names() == [program.logo_url.rsplit("/", 1)[1]]  # in the database
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "branding.update"))
    assert entry.changes["primary_color"] == ["#1d5c4d", "#5c3a2e"]


def test_a_file_that_is_not_an_image_or_too_large_is_refused_and_nothing_saved(
        auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    fake = _post(client, {**VALID, "card_name": "Changed"}, logo=(b"<svg onload=alert(1)>", "x.png"))
    assert fake.status_code == 422 and "Upload a PNG, JPEG or WebP image." in fake.text
    big = _post(client, VALID, hero_image=(tiny_png() + b"0" * branding.MAX_IMAGE_BYTES, "big.png"))
    assert big.status_code == 422 and "larger than 2 MB" in big.text
    assert db.session.scalar(select(LoyaltyProgram.card_name)) == "Coffee card"
    assert _stored_names() == []


def test_bad_colours_and_links_are_refused_next_to_the_field(auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    refused = _post(client, {**VALID, "primary_color": "red", "privacy_url": "javascript:alert(1)"})
    assert refused.status_code == 422
    assert "Enter a colour like #1d5c4d." in refused.text
    assert "Enter a full web address" in refused.text


def test_hard_to_read_colours_get_a_warning(auth, client, merchant):
    factories.stamp_program(merchant.merchant, primary_color="#ffff00", secondary_color="#ffffff")
    auth.login_as(merchant.owner)
    page = client.get("/merchant/branding").text
    assert re.search(r'id="contrast-warning" role="status"\s*>', page)  # shown, not hidden
    assert colours.contrast_ratio("#1d5c4d", "#ffffff") > 4.5
    assert colours.contrast_ratio("#ffff00", "#ffffff") < 1.5


def test_media_names_that_are_not_ours_are_not_found(client):
    assert client.get("/media/..%2Finstance.png").status_code == 404
    assert client.get("/media/" + "a" * 64 + ".png").status_code == 404
    unknown = "a" * 64 + ".png"
    assert client.get(f"/media/{unknown}", headers={"If-None-Match": f'"{unknown}"'}
                      ).status_code == 404  # no 304 for a file that is not there


def test_a_browser_asking_again_with_its_etag_gets_a_304_without_the_image(
        auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    assert _post(client, VALID, hero_image=(images.encoded(40, 30, "JPEG"), "hero.jpg")
                 ).status_code == 302
    url = db.session.scalar(select(LoyaltyProgram.hero_image_url))
    name = url.rsplit("/", 1)[1]
    auth.logout()
    first = client.get(url)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
    assert first.headers["ETag"] == f'"{name}"'
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    other = client.get(url, headers={"If-None-Match": '"' + "c" * 64 + '.jpg"'})
    assert other.status_code == 200 and other.data == first.data


def test_the_same_image_uploaded_twice_is_kept_once(auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    logo = images.encoded(50, 50)
    assert _post(client, VALID, logo=(logo, "logo.png")).status_code == 302
    assert _post(client, VALID, logo=(logo, "logo.png"), hero_image=(logo, "hero.png")
                 ).status_code == 302
    program = db.session.scalar(select(LoyaltyProgram))
    assert program.logo_url == program.hero_image_url  # same box, same bytes, same name
    assert _stored_names() == [program.logo_url.rsplit("/", 1)[1]]


REFUSED_IMAGES = {
    "a 17 KB PNG of 12000x12000 pixels": (images.bomb_png(whole=True), "logo.png", "image/png",
                                          "larger than 4096 × 4096 pixels"),
    "a PNG declaring 30000x30000 pixels": (images.bomb_png(30000, 30000), "logo.png",
                                           "image/png", "larger than 4096 × 4096 pixels"),
    "a PNG cut off halfway": (images.truncated_png(), "logo.png", "image/png",
                              "This image is damaged or incomplete."),
    **{label: (*upload, "Upload a PNG, JPEG or WebP image." if upload[0][:1] == b"<"
               else "does not match the image inside it")
       for label, upload in images.MISMATCHED.items()},
}


@pytest.mark.parametrize("label", REFUSED_IMAGES)
@pytest.mark.parametrize("field", ["logo", "hero_image"])
def test_bombs_mismatched_and_cut_off_images_are_refused_saying_what_to_do(
        auth, client, merchant, field, label):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    content, filename, content_type, message = REFUSED_IMAGES[label]
    refused = _post(client, {**VALID, "card_name": "Changed"},
                    **{field: (content, filename, content_type)})
    assert refused.status_code == 422 and message in refused.text
    assert "At most 4096 × 4096 pixels." in refused.text  # the hint says the limit beforehand
    program = db.session.scalar(select(LoyaltyProgram))
    assert (program.card_name, program.logo_url, program.hero_image_url) == ("Coffee card", None, None)
    assert _stored_names() == []


def test_a_valid_logo_is_not_kept_when_the_other_image_is_refused(auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    refused = _post(client, VALID, logo=(images.encoded(), "logo.png"),
                    hero_image=(images.truncated_png(), "hero.png"))
    assert refused.status_code == 422
    assert _stored_names() == []


def test_large_photos_are_kept_at_the_size_they_are_shown_without_their_metadata(
        auth, client, merchant):
    factories.stamp_program(merchant.merchant)
    auth.login_as(merchant.owner)
    exif = Image.Exif()
    exif[0x0112] = 6  # taken with the phone turned: shown a quarter turn clockwise
    exif[0x010F] = "PhoneMaker"
    photo = images.encoded(4000, 3000, "JPEG", exif=exif.tobytes())
    saved = _post(client, VALID, logo=(images.encoded(3000, 600), "logo.png"),
                  hero_image=(photo, "IMG_0001.JPG", "image/jpeg"))
    assert saved.status_code == 302
    program = db.session.scalar(select(LoyaltyProgram))
    logo = Image.open(io.BytesIO(client.get(program.logo_url).data))
    hero = Image.open(io.BytesIO(client.get(program.hero_image_url).data))
    assert (logo.format, logo.size) == ("PNG", (branding.IMAGE_BOXES["logo_url"][0], 205))
    assert (hero.format, hero.size) == ("JPEG", (1125, 1500))  # upright, inside 1500x1500
    assert not hero.getexif()
