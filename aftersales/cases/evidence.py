"""Evidence: photos and short videos on a case.

The type is decided by the bytes, never by the name or the client's content type. A photo's
size is read from its header and refused above ``MAX_PHOTO_PIXELS`` before any pixel is decoded:
a 20 KB PNG can declare 169 million pixels and cost a gigabyte of memory to decode. Photos within
the cap are decoded with Pillow, re-encoded as JPEG without metadata — the EXIF of a phone photo
carries the buyer's GPS position — and thumbnailed; videos are kept as sent after their container
is recognised. Files go through Django's storage API.

Decoding and storing happen before the case's row is locked; the lock is held only to count the
case's files and write the row, so a slow photo never holds up other work on the case.
"""

from __future__ import annotations

import hashlib
import io
import struct
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aftersales.cases.lifecycle import CASES
from aftersales.cases.models import Case, Evidence
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import (
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
)
from aftersales.core.permissions import permitted

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
MAX_PER_CASE = 30
# 40 megapixels: more than any phone camera takes (a 200 MP sensor saves 12.5 MP by default), and
# about 160 MB of RGBA while decoding. The bytes limit cannot catch this: pixels compress away.
MAX_PHOTO_PIXELS = 40_000_000
LONGEST_SIDE = 2560
THUMBNAIL_SIDE = 320
PURPOSES = ("application", "inspection")


def sniff(head: bytes) -> tuple[str, str] | None:
    """(kind, content type) from a file's first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "photo", "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "photo", "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "photo", "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"qt  ",):
            return "video", "video/quicktime"
        if brand[:3] in (b"iso", b"mp4", b"avc", b"M4V", b"MSN") or brand in (b"mp41", b"mp42"):
            return "video", "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "video/webm"
    return None


def _webp_canvas(data: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first chunk; Pillow's WebP reader allocates the canvas as
    soon as it opens the file, so the size is checked before Pillow sees it."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width, height = data[24:27] + b"\0", data[27:30] + b"\0"
        return struct.unpack("<I", width)[0] + 1, struct.unpack("<I", height)[0] + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = struct.unpack("<I", data[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _unreadable() -> InvalidInput:
    return InvalidInput(_("The photo cannot be read."), code="invalid_image")


def _too_many_pixels() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("Photos may have at most %(megapixels)s megapixels.")
        % {"megapixels": MAX_PHOTO_PIXELS // 1_000_000},
        code="image_too_large",
    )


def photo_check_size(data: bytes, content_type: str) -> None:
    """Refuse a photo whose header declares more than ``MAX_PHOTO_PIXELS``, reading only the
    header (``Image.open`` decodes nothing)."""
    if content_type == "image/webp":
        canvas = _webp_canvas(data)
        if canvas is None:
            raise _unreadable()
        if canvas[0] * canvas[1] > MAX_PHOTO_PIXELS:
            raise _too_many_pixels()
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _unreadable() from None
    if width * height > MAX_PHOTO_PIXELS:
        raise _too_many_pixels()


def photo_reencode(data: bytes) -> tuple[bytes, bytes, int, int]:
    """The re-encoded photo and its thumbnail (JPEG, no metadata), with the photo's size. Decodes
    every pixel: call it after ``photo_check_size`` and never while holding a row lock."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep what the eye saw, drop the EXIF
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _unreadable() from None
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    photo = io.BytesIO()
    image.save(photo, "JPEG", quality=85, optimize=True)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80)
    return photo.getvalue(), small.getvalue(), image.width, image.height


def _may_upload(actor: Principal, purpose: str, case=None) -> None:
    """``evidence.upload`` (and for inspection photos ``evidence.inspection``) in the case's shop,
    or before the case is read in any of the caller's shops."""
    if not permitted(actor, "evidence.upload", case):
        raise PermissionDenied(_("Your role may not add evidence."), code="forbidden")
    if purpose == "inspection" and not permitted(actor, "evidence.inspection", case):
        raise PermissionDenied(_("Inspection photos come from the shop."), code="forbidden")


def _case_is_full(case_id: int) -> Conflict | None:
    if Evidence.objects.filter(case_id=case_id).count() >= MAX_PER_CASE:
        return Conflict(
            _("A case holds at most %(count)s files.") % {"count": MAX_PER_CASE},
            code="too_much_evidence",
        )
    return None


def _delete_stored(evidence: Evidence) -> None:
    for stored in (evidence.file, evidence.thumbnail):
        if stored:
            stored.delete(save=False)


def evidence_prepare(
    *,
    actor: Principal,
    upload: UploadedFile,
    caption: str = "",
    purpose: str = "application",
) -> Evidence:
    """Check, decode and store a file, without any lock or transaction: an unsaved row with its
    stored files, for ``evidence_attach`` (or ``evidence_discard`` if it is not attached)."""
    _may_upload(actor, purpose)
    if purpose not in PURPOSES:
        raise InvalidInput(_("purpose is application or inspection."), code="invalid_purpose")
    if upload.size > MAX_VIDEO_BYTES:
        raise PayloadTooLarge(_("Files may be at most 50 MB."), code="file_too_large")
    head = upload.read(16)
    upload.seek(0)
    kind_and_type = sniff(head)
    if kind_and_type is None:
        raise UnsupportedMediaType(
            _("Send a JPEG, PNG or WebP photo, or an MP4, MOV or WebM video.")
        )
    kind, content_type = kind_and_type
    if kind == "photo" and upload.size > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(_("Photos may be at most 10 MB."), code="file_too_large")
    data = upload.read()
    if kind == "photo":
        photo_check_size(data, content_type)
    name = uuid.uuid4().hex
    evidence = Evidence(
        uploaded_by_id=actor.user_id,
        role=actor.role,
        kind=kind,
        purpose=purpose,
        content_type="image/jpeg" if kind == "photo" else content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        caption=caption.strip()[:500],
        created_at=clock.now(),
    )
    if kind == "photo":
        photo, thumb, evidence.width, evidence.height = photo_reencode(data)
        evidence.size = len(photo)
    try:
        if kind == "photo":
            evidence.file.save(f"{name}.jpg", ContentFile(photo), save=False)
            evidence.thumbnail.save(f"{name}-thumb.jpg", ContentFile(thumb), save=False)
        else:
            extension = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}[
                content_type
            ]
            evidence.file.save(f"{name}.{extension}", ContentFile(data), save=False)
    except Exception:
        evidence_discard(evidence)
        raise
    return evidence


def evidence_discard(evidence: Evidence) -> None:
    """Delete the stored files of a prepared row that was never written."""
    _delete_stored(evidence)


@transaction.atomic
def evidence_attach(*, case_id: int, evidence: Evidence) -> Evidence:
    """Write a prepared row on its case, under the case's lock (two uploads cannot both pass the
    count); the caller discards the files if this refuses."""
    CASES.lock(case_id)
    full = _case_is_full(case_id)
    if full is not None:
        raise full
    evidence.case_id = case_id
    evidence.save()
    return evidence


def evidence_add(
    *,
    actor: Principal,
    case_id: int,
    upload: UploadedFile,
    caption: str = "",
    purpose: str = "application",
) -> Evidence:
    """Check, decode and store the file without any lock, then lock the case only to count its
    files and write the row; the stored files are deleted when the row is not written."""
    case = Case.objects.filter(pk=case_id).only("shop_id", "customer_id").first()
    _may_upload(actor, purpose, case)
    full = _case_is_full(case_id)  # refused early, before any decoding; checked again below
    if full is not None:
        raise full
    evidence = evidence_prepare(actor=actor, upload=upload, caption=caption, purpose=purpose)
    try:
        return evidence_attach(case_id=case_id, evidence=evidence)
    except Exception:
        # the row was not written: the stored files must not outlive it
        evidence_discard(evidence)
        raise
