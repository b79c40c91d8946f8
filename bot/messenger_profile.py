"""The Facebook page's Messenger profile: the Get Started button, the greeting and the persistent menu.

Set once with `clinic messenger setup` (again after changing them). The Get Started button sends
the GET_STARTED postback (`bot.messenger_events` reads it as first contact); the menu's buttons
send the conversation's commands as postback payloads, which are read like typed text.
"""

from __future__ import annotations

from typing import Any

from bot.messenger_api import MessengerApi
from bot.messenger_events import GET_STARTED

# At most 160 characters; Messenger fills in {{user_first_name}} for each person.
GREETING = (
    "สวัสดีค่ะ คุณ{{user_first_name}} คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง "
    "สำนักงานเลขานุการปลัดกรุงเทพมหานคร กดเริ่มต้นใช้งานแล้วถามได้เลย"
)
# (title of at most 30 characters, the command it sends)
MENU = (
    ("ถามใหม่ / New question", "ถามใหม่"),
    ("สถานะ / My questions", "สถานะ"),
    ("คำถามที่พบบ่อย / FAQ", "คำถามที่พบบ่อย"),
    ("ติดต่อเจ้าหน้าที่ / Contact", "ติดต่อเจ้าหน้าที่"),
)


def profile() -> dict[str, Any]:
    """The body of POST /me/messenger_profile."""
    return {
        "get_started": {"payload": GET_STARTED},
        "greeting": [{"locale": "default", "text": GREETING}],
        "persistent_menu": [
            {
                "locale": "default",
                "composer_input_disabled": False,  # people mostly type their questions
                "call_to_actions": [{"type": "postback", "title": title, "payload": text} for title, text in MENU],
            }
        ],
    }


def setup(api: MessengerApi) -> None:
    api.set_messenger_profile(profile())
