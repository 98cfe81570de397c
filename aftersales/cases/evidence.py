"""Evidence: photos and short videos on a case.

The type is decided by the bytes, never by the name or the client's content type. Photos are
decoded with Pillow (with its decompression-bomb guard), re-encoded as JPEG without metadata — the
EXIF of a phone photo carries the buyer's GPS position — and thumbnailed; videos are kept as sent
after their container is recognised. Files go through Django's storage API.
"""

from __future__ import annotations

import hashlib
import io
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aftersales.cases.models import Case, Evidence
from aftersales.core import clock
from aftersales.core.errors import (
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
)
from aftersales.team.models import Role
from aftersales.team.principal import Principal

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
MAX_PER_CASE = 30
LONGEST_SIDE = 2560
THUMBNAIL_SIDE = 320
UPLOADERS = frozenset({Role.CUSTOMER, Role.AGENT, Role.ADMIN})
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


def _photo(data: bytes) -> tuple[bytes, bytes, int, int]:
    """The re-encoded photo and its thumbnail (JPEG, no metadata), with the photo's size."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep what the eye saw, drop the EXIF
            image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(_("The photo cannot be read."), code="invalid_image") from None
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    photo = io.BytesIO()
    image.save(photo, "JPEG", quality=85, optimize=True)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80)
    return photo.getvalue(), small.getvalue(), image.width, image.height


def _may_upload(actor: Principal) -> None:
    if actor.role not in UPLOADERS:
        raise PermissionDenied(_("Your role may not add evidence."), code="forbidden")


@transaction.atomic
def evidence_add(
    *,
    actor: Principal,
    case_id: int,
    upload: UploadedFile,
    caption: str = "",
    purpose: str = "application",
) -> Evidence:
    case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
    _may_upload(actor)
    if purpose not in PURPOSES:
        raise InvalidInput(_("purpose is application or inspection."), code="invalid_purpose")
    if purpose == "inspection" and actor.role == Role.CUSTOMER:
        raise PermissionDenied(_("Inspection photos come from the shop."), code="forbidden")
    if case.evidence.count() >= MAX_PER_CASE:
        raise Conflict(
            _("A case holds at most %(count)s files.") % {"count": MAX_PER_CASE},
            code="too_much_evidence",
        )
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
    name = uuid.uuid4().hex
    evidence = Evidence(
        case=case,
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
        photo, thumb, evidence.width, evidence.height = _photo(data)
        evidence.size = len(photo)
        evidence.file.save(f"{name}.jpg", ContentFile(photo), save=False)
        evidence.thumbnail.save(f"{name}-thumb.jpg", ContentFile(thumb), save=False)
    else:
        extension = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}[
            content_type
        ]
        evidence.file.save(f"{name}.{extension}", ContentFile(data), save=False)
    try:
        evidence.save()
    except Exception:
        # the row was not written: the stored files must not outlive it
        for stored in (evidence.file, evidence.thumbnail):
            if stored:
                stored.delete(save=False)
        raise
    return evidence
