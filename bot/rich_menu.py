"""The LINE rich menu: four buttons under the chat, drawn by the product in Thai (Sarabun).

`draw()` paints the 2500 × 843 PNG with Pillow; `install()` (behind `clinic line rich-menu`)
creates the menu through the Messaging API, uploads the image to the data host, makes it every
user's default and then deletes the menus this product made before (recognised by NAME), so
running it again replaces the menu instead of piling them up. Each area sends a message the
conversation understands as a command (`bot/conversation.py`), exactly as if it were typed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from linebot.v3.messaging import MessageAction, RichMenuArea, RichMenuBounds, RichMenuRequest, RichMenuSize
from PIL import Image, ImageDraw, ImageFont, features

from bot.channel_error import ChannelApiError
from bot.line_api import LineApi
from clinic import fonts

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 843
NAME = "bma-clinic-menu"  # how the product knows its own menus among the channel's others
CHAT_BAR_TEXT = "เมนู / Menu"  # at most 14 characters

# Colours of the BMA: its green, with the gold of its emblem for accents.
GREEN = (0, 104, 56)
GREEN_LIGHT = (0, 128, 70)
GOLD = (241, 184, 45)
WHITE = (255, 255, 255)
MINT = (214, 240, 224)


@dataclass(frozen=True)
class Button:
    thai: str
    english: str
    text: str  # what a tap sends, a command of the conversation
    icon: str


BUTTONS = (
    Button("ถามใหม่", "New question", "ถามใหม่", "ask"),
    Button("สถานะ", "My questions", "สถานะ", "status"),
    Button("คำถามที่พบบ่อย", "FAQ", "คำถามที่พบบ่อย", "faq"),
    Button("ติดต่อเจ้าหน้าที่", "Contact staff", "ติดต่อเจ้าหน้าที่", "contact"),
)


def font_path(weight: str) -> Path:
    """Sarabun as the product ships it once for everything that draws Thai (`clinic.fonts`)."""
    path = fonts.FONT_DIR / f"Sarabun-{weight}.ttf"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


@cache
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    # Raqm shapes Thai properly (a tone mark above an upper vowel, as in ที่); Pillow's wheels carry it.
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(font_path(weight)), size, layout_engine=engine)


def areas() -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of each button: four columns over the whole height, together the whole image."""
    edges = [round(WIDTH * n / len(BUTTONS)) for n in range(len(BUTTONS) + 1)]
    return [(edges[n], 0, edges[n + 1] - edges[n], HEIGHT) for n in range(len(BUTTONS))]


def draw() -> bytes:
    """The menu's image as PNG bytes (2500 × 843, well under LINE's 1 MB)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), GREEN)
    pen = ImageDraw.Draw(image)
    # One size for every label: the largest at which the longest still fits its column with a margin.
    label = min((_fitting("Bold", b.thai, w - 100, 110) for b, (_x, _y, w, _h) in zip(BUTTONS, areas(), strict=True)),
                key=lambda font: font.size)  # fmt: skip
    for index, (button, (x, y, width, height)) in enumerate(zip(BUTTONS, areas(), strict=True)):
        if index % 2:
            pen.rectangle((x, y, x + width - 1, y + height - 1), fill=GREEN_LIGHT)
        if index:
            pen.line((x, 90, x, height - 90), fill=MINT, width=4)
        centre = x + width // 2
        _ICONS[button.icon](pen, centre, 270)
        _centred(pen, centre, 570, button.thai, label, WHITE)
        _centred(pen, centre, 700, button.english, _font("Regular", 60), MINT)
    pen.rectangle((0, 0, WIDTH, 14), fill=GOLD)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fitting(weight: str, text: str, max_width: int, size: int) -> ImageFont.FreeTypeFont:
    while size > 40 and _font(weight, size).getlength(text) > max_width:
        size -= 4
    return _font(weight, size)


def _centred(
    pen: ImageDraw.ImageDraw, x: int, y: int, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int]
) -> None:
    # "ms": the middle horizontally, the baseline at y, so Thai marks above and below stay inside.
    pen.text((x, y), text, font=font, fill=fill, anchor="ms")


# --- icons: plain shapes in a gold disc, legible at the size a phone shows the menu --------------

_R = 150  # the disc's radius


def _disc(pen: ImageDraw.ImageDraw, x: int, y: int) -> None:
    pen.ellipse((x - _R, y - _R, x + _R, y + _R), fill=GOLD)


def _icon_ask(pen: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A speech bubble with a plus: a new question."""
    _disc(pen, x, y)
    pen.rounded_rectangle((x - 90, y - 75, x + 90, y + 45), radius=30, fill=GREEN)
    pen.polygon([(x - 45, y + 40), (x - 70, y + 95), (x - 5, y + 40)], fill=GREEN)
    pen.rectangle((x - 9, y - 50, x + 9, y + 20), fill=GOLD)
    pen.rectangle((x - 44, y - 24, x + 44, y - 6), fill=GOLD)


def _icon_status(pen: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A clipboard with ticked lines: where my questions stand."""
    _disc(pen, x, y)
    pen.rounded_rectangle((x - 70, y - 90, x + 70, y + 95), radius=16, fill=GREEN)
    pen.rounded_rectangle((x - 32, y - 108, x + 32, y - 78), radius=10, fill=GREEN)
    for row in range(3):
        top = y - 45 + row * 48
        pen.line((x - 45, top, x - 30, top + 14, x - 10, top - 10), fill=GOLD, width=9, joint="curve")
        pen.rectangle((x + 5, top - 2, x + 48, top + 8), fill=GOLD)


def _icon_faq(pen: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A question mark in a bubble: frequently asked questions."""
    _disc(pen, x, y)
    pen.ellipse((x - 95, y - 95, x + 95, y + 95), fill=GREEN)
    pen.text((x, y + 5), "?", font=_font("Bold", 180), fill=GOLD, anchor="mm")


def _icon_contact(pen: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A person with a headset: our staff."""
    _disc(pen, x, y)
    pen.ellipse((x - 48, y - 95, x + 48, y + 1), fill=GREEN)
    pen.chord((x - 95, y + 10, x + 95, y + 190), start=180, end=360, fill=GREEN)
    pen.arc((x - 68, y - 115, x + 68, y + 20), start=180, end=360, fill=GREEN, width=14)
    pen.rounded_rectangle((x - 80, y - 55, x - 58, y - 5), radius=8, fill=GREEN)
    pen.rounded_rectangle((x + 58, y - 55, x + 80, y - 5), radius=8, fill=GREEN)


_ICONS: dict[str, Callable[[ImageDraw.ImageDraw, int, int], None]] = {
    "ask": _icon_ask,
    "status": _icon_status,
    "faq": _icon_faq,
    "contact": _icon_contact,
}


def request() -> RichMenuRequest:
    """The rich menu object: the four areas, each sending its command as a message from the user."""
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=NAME,
        chat_bar_text=CHAT_BAR_TEXT,
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=x, y=y, width=width, height=height),
                action=MessageAction(label=button.thai, text=button.text),
            )
            for button, (x, y, width, height) in zip(BUTTONS, areas(), strict=True)
        ],
    )


@dataclass(frozen=True)
class Installed:
    rich_menu_id: str
    deleted: tuple[str, ...]  # the product's earlier menus, now gone
    not_deleted: tuple[str, ...] = ()  # earlier menus LINE refused to delete (the next run tries again)


def install(api: LineApi) -> Installed:
    """Create, upload, make default; then delete the product's earlier menus (never another tool's)."""
    png = draw()
    earlier = [menu.rich_menu_id for menu in api.rich_menus() if menu.name == NAME]
    rich_menu_id = api.create_rich_menu(request())
    try:
        api.upload_rich_menu_image(rich_menu_id, png)
        api.set_default_rich_menu(rich_menu_id)
    except ChannelApiError:
        # A menu without an image cannot be shown: do not leave it behind; the old default stays.
        try:
            api.delete_rich_menu(rich_menu_id)
        except ChannelApiError as exc:
            log.warning("half-made rich menu %s not deleted (%s)", rich_menu_id, exc)
        raise
    deleted, kept = [], []
    for old in earlier:
        try:
            api.delete_rich_menu(old)
            deleted.append(old)
        except ChannelApiError as exc:
            # The new menu is live already; an old one left over is harmless and the next run retries.
            log.warning("earlier rich menu %s not deleted (%s)", old, exc)
            kept.append(old)
    return Installed(rich_menu_id, tuple(deleted), tuple(kept))
