"""Profile pictures: whatever was uploaded is decoded by Pillow and re-encoded as a fresh PNG.

Nothing the member sent is served as they sent it: the output holds only pixels (no EXIF with
the GPS position of a ward, no ICC profile, no comments), is at most SIZE pixels square, and is
always a PNG. SVG, HTML and anything Pillow cannot decode as one of the raster formats below are
refused, and so are images whose pixel count could exhaust memory when decoded (decompression
bombs), before any pixel is decoded.
"""

from __future__ import annotations

import asyncio
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 400  # pixels on each side; Mastodon shows avatars at 400x400 at most
MAX_PIXELS = 40_000_000  # about 6300x6300: larger images are refused before decoding
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
ACCEPTED_LABELS = "PNG, JPEG, GIF or WebP"
TOO_MANY_PIXELS = (
    "That picture has too many pixels to open safely. Choose one under 6000 x 6000 pixels."
)

# Pillow's own guard (it raises DecompressionBombError beyond twice this): the same limit, so
# no decoder in this process expands a bomb even where our check is not on the path.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PictureRefused(ValueError):
    """Not a picture we will use; the message is for the member."""


def reencode_picture(data: bytes) -> bytes:
    """A square PNG of at most SIZE x SIZE made from the upload's pixels only.

    Raises PictureRefused for empty, oversized, non-raster or undecodable uploads.
    """
    if not data:
        raise PictureRefused("The file is empty. Choose a photo or picture.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PictureRefused("The picture is larger than 10 MB. Choose a smaller one.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS or width < 1 or height < 1:
                    raise PictureRefused(TOO_MANY_PIXELS)
                opened.seek(0)  # the first frame of an animation
                image = ImageOps.exif_transpose(opened)
                image.load()
    except PictureRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PictureRefused(TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise PictureRefused(
            f"That file is not a picture we can use. Choose a {ACCEPTED_LABELS} image "
            "(SVG and other drawings are not accepted)."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise PictureRefused("That picture is damaged and could not be read.") from None
    image = _square(image.convert("RGBA"))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # a new file: no metadata is carried over
    return out.getvalue()


def _square(image: Image.Image) -> Image.Image:
    side = min(image.size)
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    cropped = image.crop((left, top, left + side, top + side))
    if side > SIZE:
        cropped = cropped.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return cropped


async def reencode_picture_async(data: bytes) -> bytes:
    """reencode_picture in a worker thread (decoding a photo takes tens of milliseconds)."""
    return await asyncio.to_thread(reencode_picture, data)
