"""Copies of a stored image in the form a channel that fetches images by URL accepts (LINE).

LINE's image message takes JPEG or PNG only: the original at most 10 MB, the preview (shown
in the chat before a tap) at most 1 MB. A JPEG or PNG within the limit is served as it is;
anything else (GIF, WebP, or a larger picture) becomes a JPEG made with Pillow, and the preview
is always a JPEG downscaled to PREVIEW_SIDE pixels on its longer side.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

LINE_FORMATS = ("image/jpeg", "image/png")
MAX_ORIGINAL = 10 * 1024 * 1024
MAX_ORIGINAL_SIDE = 4096
PREVIEW_SIDE = 1024
MAX_PREVIEW = 1024 * 1024


def for_line(content: bytes, content_type: str, variant: str) -> tuple[bytes, str]:
    """(bytes, content type) of the `full` or `preview` copy of an image."""
    if variant == "full":
        if content_type in LINE_FORMATS and len(content) <= MAX_ORIGINAL:
            return content, content_type
        return _jpeg(content, MAX_ORIGINAL_SIDE, MAX_ORIGINAL), "image/jpeg"
    return _jpeg(content, PREVIEW_SIDE, MAX_PREVIEW), "image/jpeg"


def _jpeg(content: bytes, side: int, max_bytes: int) -> bytes:
    """The first frame as an RGB JPEG within `side` pixels, at lower quality until it fits `max_bytes`."""
    with Image.open(io.BytesIO(content)) as image:
        image.seek(0)
        frame = ImageOps.exif_transpose(image.convert("RGBA" if image.mode in ("P", "LA", "RGBA") else "RGB"))
    if frame.mode == "RGBA":
        # JPEG has no transparency: a transparent PNG or GIF goes on white, as a chat shows it.
        background = Image.new("RGB", frame.size, "white")
        background.paste(frame, mask=frame.getchannel("A"))
        frame = background
    frame.thumbnail((side, side))
    data = b""
    for quality in (85, 70, 55, 40):
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=quality, optimize=True)
        data = out.getvalue()
        if len(data) <= max_bytes:
            break
    return data
