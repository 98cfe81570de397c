"""Photos and videos on a case: checked by content, re-encoded without metadata, served only to
those who may see the case."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image, ImageFile

from aftersales.cases import evidence
from aftersales.cases.models import Case, Evidence
from aftersales.core.errors import InvalidInput, PayloadTooLarge
from tests.conftest import make_order, make_shop, make_user, open_case

GPS = 0x8825  # the EXIF tag holding a position


def jpeg_with_gps(size=(1200, 900)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS] = {1: "N", 2: (30.0, 15.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(api, number, name, data, content_type="application/octet-stream", **form):
    return api.client.post(
        f"/api/v1/cases/{number}/evidence",
        {"file": SimpleUploadedFile(name, data, content_type=content_type), **form},
    )


@pytest.fixture
def number(customer, order):
    return open_case(customer, order)["number"]


def test_a_photo_is_reencoded_without_its_metadata(customer, number):
    original = jpeg_with_gps()
    response = upload(customer, number, "破损.jpg", original, "image/jpeg", caption="鞋底开胶")
    assert response.status_code == 201, response.content
    item = response.json()
    assert (item["kind"], item["content_type"], item["width"], item["height"]) == (
        "photo",
        "image/jpeg",
        1200,
        900,
    )
    stored = Evidence.objects.get()
    with Image.open(stored.file.open("rb")) as image:
        assert GPS not in image.getexif() and 0x010F not in image.getexif()
    with Image.open(stored.thumbnail.open("rb")) as thumb:
        assert max(thumb.size) == 320
    case = customer.get(f"/cases/{number}").json()
    assert case["evidence"][0]["caption"] == "鞋底开胶"


def test_the_file_and_its_thumbnail_are_served_to_those_who_may_see_the_case(
    customer, agent, number, db
):
    item = upload(customer, number, "a.png", _png()).json()
    for api in (customer, agent):
        file = api.client.get(item["url"])
        assert file.status_code == 200
        assert file["Content-Type"] == "image/jpeg"
        assert b"".join(file.streaming_content).startswith(b"\xff\xd8\xff")
    assert agent.client.get(item["thumbnail_url"]).status_code == 200
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert outsider.client.get(item["url"]).status_code == 404


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40), (0, 0, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_type_comes_from_the_bytes_not_the_name(customer, number):
    response = upload(customer, number, "photo.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    broken = upload(customer, number, "x.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100, "image/jpeg")
    assert (broken.status_code, broken.json()["code"]) == (422, "invalid_image")
    assert Evidence.objects.count() == 0


def test_a_short_video_is_kept_as_sent(customer, number):
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 1000
    response = upload(customer, number, "clip.bin", mp4)
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["content_type"]) == ("video", "video/mp4")
    assert response.json()["thumbnail_url"] is None


def test_size_limits(customer, number, settings):
    big_photo = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    response = upload(customer, number, "big.jpg", big_photo)
    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")


def test_inspection_photos_come_from_the_shop(customer, agent, number):
    refused = upload(customer, number, "a.png", _png(), purpose="inspection")
    assert refused.status_code == 403
    assert upload(agent, number, "a.png", _png(), purpose="inspection").status_code == 201
    # the API's schema declares the purposes; the service refuses others from any caller
    party = upload(agent, number, "a.png", _png(), purpose="party")
    assert (party.status_code, party.json()["code"]) == (422, "validation_error")
    with pytest.raises(InvalidInput) as refused_purpose:
        evidence.evidence_add(
            actor=agent.principal,
            case_id=Case.objects.get(number=number).id,
            upload=SimpleUploadedFile("a.png", _png()),
            purpose="party",
        )
    assert refused_purpose.value.code == "invalid_purpose"


def test_finance_and_strangers_cannot_upload(finance, customer, number, db):
    assert upload(finance, number, "a.png", _png()).status_code == 403
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert upload(outsider, number, "a.png", _png()).status_code == 404


def png_declaring(width: int, height: int) -> bytes:
    """A real 1-bit PNG of ``width`` × ``height`` white pixels: a few KB on the wire however
    many pixels it declares, because rows of zeros compress to almost nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    pixels = zlib.compressobj(9)
    compressed = b"".join(pixels.compress(row) for _ in range(height)) + pixels.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", compressed)
        + chunk(b"IEND", b"")
    )


def webp_declaring(width: int, height: int) -> bytes:
    """The first chunk of an extended WebP (VP8X) declaring a ``width`` × ``height`` canvas."""
    body = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    chunk = b"VP8X" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.fixture
def decoded(monkeypatch):
    """Every decode of pixel data, with whether it ran inside a transaction (a row lock)."""
    calls: list[bool] = []
    load = ImageFile.ImageFile.load

    def recording_load(image):
        calls.append(connection.in_atomic_block)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return calls


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(
    customer, number, decoded, settings
):
    # given a 20 KB PNG that declares 13000 × 13000 pixels (169 Mpx)
    bomb = png_declaring(13000, 13000)
    assert len(bomb) < 30_000

    # when
    response = upload(customer, number, "bomb.png", bomb, "image/png")

    # then
    assert (response.status_code, response.json()["code"]) == (413, "image_too_large")
    assert response.json()["detail"] == "Photos may have at most 40 megapixels."
    assert decoded == []
    assert Evidence.objects.count() == 0
    assert stored_files(settings) == []


def test_a_webp_canvas_above_the_cap_is_refused_before_pillow_opens_it(customer, number, decoded):
    # given a WebP header declaring 8000 × 8000 pixels (64 Mpx)
    webp = webp_declaring(8000, 8000)

    # when
    response = upload(customer, number, "bomb.webp", webp, "image/webp")

    # then
    assert (response.status_code, response.json()["code"]) == (413, "image_too_large")
    assert decoded == []


def test_the_pixel_cap_is_forty_megapixels_inclusive():
    # given headers at the cap and one row above it
    at_cap = png_declaring(8000, 5000)
    above = png_declaring(8000, 5001)

    # when / then
    evidence.photo_check_size(at_cap, "image/png")
    with pytest.raises(PayloadTooLarge) as refused:
        evidence.photo_check_size(above, "image/png")
    assert refused.value.code == "image_too_large"
    assert evidence.MAX_PHOTO_PIXELS == 40_000_000


@pytest.mark.django_db(transaction=True)
def test_a_photo_is_decoded_outside_any_transaction_and_row_lock(decoded, clock):
    # given a case, outside any test transaction
    make_shop()
    order = make_order()
    customer = make_user("buyer", "customer", shop="shop", customer="C1")
    number = open_case(customer, order)["number"]

    # when
    response = upload(customer, number, "a.png", _png(), "image/png")

    # then the pixels were decoded, and never inside a transaction
    assert response.status_code == 201, response.content
    assert set(decoded) == {False}
    assert Evidence.objects.filter(case__number=number).count() == 1


def test_files_stored_for_a_row_the_lock_refuses_are_deleted(
    customer, number, monkeypatch, settings
):
    # given a case that fills up while the photo is being decoded
    reencode = evidence.photo_reencode

    def filled_meanwhile(data):
        monkeypatch.setattr(evidence, "MAX_PER_CASE", 0)
        return reencode(data)

    monkeypatch.setattr(evidence, "photo_reencode", filled_meanwhile)

    # when
    response = upload(customer, number, "a.png", _png(), "image/png")

    # then
    assert (response.status_code, response.json()["code"]) == (409, "too_much_evidence")
    assert Evidence.objects.count() == 0
    assert stored_files(settings) == []
