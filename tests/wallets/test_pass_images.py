"""The images of an Apple pass when the stored logo or hero picture cannot be used safely
(stored before uploads were checked: a decompression bomb, a file cut off): the pass is still
made, with the drawn default in their place."""
import hashlib
import io
import zipfile

import pytest

from loyalty import storage
from loyalty.extensions import db
from loyalty.services.wallets.pass_images import pass_images
from tests import factories, images


def _stored(data, kind="png"):
    """Put ``data`` in the file store as an upload of old (unchecked) would have been moved
    there; returns its URL."""
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    storage.put(name, data, storage.CONTENT_TYPES[kind])
    return f"/media/{name}"


def _pass_files(client, card):
    response = client.get(f"/card/{card.page_secret}/wallet.pkpass")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("logo, hero", [
    (images.bomb_png(14000, 14000), images.truncated_png()),  # over Pillow's own limit
    (images.bomb_png(5000, 5000, whole=True), images.bomb_png(9000, 3000)),  # over ours
], ids=["over-pillow-limit", "over-upload-limit"])
def test_a_stored_image_too_large_or_damaged_gives_the_default_not_an_error(
        client, merchant, logo, hero):
    program = factories.stamp_program(merchant.merchant)
    program.logo_url, program.hero_image_url = _stored(logo), _stored(hero)
    card = factories.card(merchant.merchant, "Bea Bomb")
    db.session.commit()
    files = _pass_files(client, card)
    default = pass_images(shop=merchant.merchant.name, primary_color=program.primary_color,
                          secondary_color=program.secondary_color)
    for name in ("icon.png", "logo@3x.png", "strip@2x.png"):
        assert files[name] == default[name]


def test_a_stored_image_within_the_limits_is_used(client, merchant):
    program = factories.stamp_program(merchant.merchant)
    program.logo_url = _stored(images.encoded(600, 200, "JPEG"), "jpg")
    card = factories.card(merchant.merchant, "Lou Logo")
    db.session.commit()
    files = _pass_files(client, card)
    default = pass_images(shop=merchant.merchant.name, primary_color=program.primary_color,
                          secondary_color=program.secondary_color)
    assert files["logo@3x.png"] != default["logo@3x.png"]


def test_a_logo_missing_from_the_store_gives_the_default(client, merchant):
    program = factories.stamp_program(merchant.merchant)
    program.logo_url = f"/media/{'b' * 64}.png"  # its file was lost before the move
    card = factories.card(merchant.merchant, "Mia Missing")
    db.session.commit()
    files = _pass_files(client, card)
    default = pass_images(shop=merchant.merchant.name, primary_color=program.primary_color,
                          secondary_color=program.secondary_color)
    assert files["logo@3x.png"] == default["logo@3x.png"]
