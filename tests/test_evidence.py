"""Photos and videos on a case: checked by content, re-encoded without metadata, served only to
those who may see the case."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from aftersales.cases.models import Evidence
from tests.conftest import make_shop, make_user, open_case

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
    assert (
        upload(agent, number, "a.png", _png(), purpose="party").json()["code"] == "invalid_purpose"
    )


def test_finance_and_strangers_cannot_upload(finance, customer, number, db):
    assert upload(finance, number, "a.png", _png()).status_code == 403
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert upload(outsider, number, "a.png", _png()).status_code == 404
