"""`clinic line rich-menu` and `clinic messenger setup` against the fake LINE and Graph APIs, and the
commands their buttons send."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot import messenger_profile, rich_menu
from clinic.runtime import Runtime
from tests.bot_support import line_body, line_text, messenger_body, post_line, post_messenger, run_jobs
from tests.conftest import SCREENSHOTS
from tests.fakeapi import DATA_HOST_PREFIX, FakeApiServer

ROOT = Path(__file__).resolve().parent.parent
PSID = "7012345678901234"
BUTTON_TEXTS = ["ถามใหม่", "สถานะ", "คำถามที่พบบ่อย", "ติดต่อเจ้าหน้าที่"]


def clinic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "manage", *args], env={**os.environ, **env}, capture_output=True, text=True, cwd=ROOT,
        timeout=120,
    )  # fmt: skip


def line_env(config_env: dict[str, str], api_server: FakeApiServer) -> dict[str, str]:
    """The data host apart from the API host, as on LINE (api-data.line.me beside api.line.me)."""
    return {**config_env, "LINE_DATA_API_BASE_URL": f"{api_server.url}{DATA_HOST_PREFIX}"}


# --- the rich menu ------------------------------------------------------------------------------


def test_the_menu_image_is_a_2500_by_843_png_with_four_areas_covering_it() -> None:
    png = rich_menu.draw()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 1024 * 1024  # LINE's limit
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (2500, 843))
        # Each column is painted: its icon disc is gold, its background one of the two greens.
        for x, _y, width, _h in rich_menu.areas():
            assert image.getpixel((x + width // 2, 270 - 140)) == rich_menu.GOLD
            assert image.getpixel((x + 20, 420)) in (rich_menu.GREEN, rich_menu.GREEN_LIGHT)
    covered = sum(width * height for _x, _y, width, height in rich_menu.areas())
    assert covered == 2500 * 843
    assert [x for x, *_ in rich_menu.areas()] == [0, 625, 1250, 1875]
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "line-rich-menu.png").write_bytes(png)


def test_output_writes_the_png_and_calls_no_api(
    config_env: dict[str, str], api_server: FakeApiServer, tmp_path: Path
) -> None:
    target = tmp_path / "menu.png"
    done = clinic(config_env, "line", "rich-menu", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert "menu.png" in done.stdout
    with Image.open(target) as image:
        assert image.size == (2500, 843)
    assert not api_server.requests
    nowhere = clinic(config_env, "line", "rich-menu", "--output", str(tmp_path / "missing" / "menu.png"))
    assert nowhere.returncode == 2 and "Cannot write" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_rich_menu_is_created_uploaded_to_the_data_host_and_made_default(  # type: ignore[no-untyped-def]
    config_env: dict[str, str], api_server: FakeApiServer
) -> None:
    # Another tool's menu on the same channel: never touched.
    other = {**rich_menu.request().to_dict(), "name": "campaign"}
    api_server.rich_menus["richmenu-other"] = {"richMenuId": "richmenu-other", **other}
    done = clinic(line_env(config_env, api_server), "line", "rich-menu")
    assert done.returncode == 0, done.stderr
    menu_id = api_server.default_rich_menu
    assert menu_id is not None and menu_id in done.stdout
    assert [(r.method, r.path) for r in api_server.requests] == [
        ("GET", "/v2/bot/richmenu/list"),
        ("POST", "/v2/bot/richmenu"),
        ("POST", f"{DATA_HOST_PREFIX}/v2/bot/richmenu/{menu_id}/content"),
        ("POST", f"/v2/bot/user/all/richmenu/{menu_id}"),
    ]
    assert all(r.headers["authorization"] == "Bearer line-test-token" for r in api_server.requests)
    assert all(r.status == 200 for r in api_server.requests)
    create = api_server.requests[1]
    assert create.headers["content-type"] == "application/json"
    assert create.json == {
        "size": {"width": 2500, "height": 843},
        "selected": True,
        "name": "bma-clinic-menu",
        "chatBarText": "เมนู / Menu",
        "areas": [
            {
                "bounds": {"x": x, "y": 0, "width": 625, "height": 843},
                "action": {"type": "message", "label": text, "text": text},
            }
            for x, text in zip((0, 625, 1250, 1875), BUTTON_TEXTS, strict=True)
        ],
    }
    upload = api_server.requests[2]
    assert upload.headers["content-type"] == "image/png"
    assert upload.body == rich_menu.draw()
    with Image.open(io.BytesIO(upload.body)) as image:
        assert (image.format, image.size) == ("PNG", (2500, 843))
    assert api_server.requests[3].body == b""

    # Run again: the new menu replaces the product's earlier one, which is deleted.
    api_server.requests.clear()
    again = clinic(line_env(config_env, api_server), "line", "rich-menu")
    assert again.returncode == 0, again.stderr
    second = api_server.default_rich_menu
    assert second not in (None, menu_id)
    assert api_server.requests[-1].method == "DELETE"
    assert api_server.requests[-1].path == f"/v2/bot/richmenu/{menu_id}"
    assert set(api_server.rich_menus) == {"richmenu-other", second}
    assert menu_id in again.stdout


def test_a_refused_upload_leaves_no_half_made_menu_and_the_old_default_stays(  # type: ignore[no-untyped-def]
    config_env: dict[str, str], api_server: FakeApiServer
) -> None:
    env = line_env(config_env, api_server)
    assert clinic(env, "line", "rich-menu").returncode == 0
    first = api_server.default_rich_menu
    api_server.fail("POST", r"/v2/bot/richmenu/[^/]+/content$", 400, {"message": "Invalid image"})
    failed = clinic(env, "line", "rich-menu")
    assert failed.returncode == 2
    assert "Invalid image" in failed.stderr and "LINE" in failed.stderr
    assert api_server.default_rich_menu == first
    assert set(api_server.rich_menus) == {first}  # the new, imageless menu was deleted again


def test_the_upload_must_go_to_the_data_host(config_env: dict[str, str], api_server: FakeApiServer) -> None:
    # With the data host pointing at the API host, the fake answers 404 like api.line.me would.
    failed = clinic(config_env, "line", "rich-menu")
    assert failed.returncode == 2 and "404" in failed.stderr
    assert not api_server.rich_menus


def test_without_line_configured_it_says_so(config_env: dict[str, str], api_server: FakeApiServer) -> None:
    env = {**config_env, "LINE_CHANNEL_SECRET": "", "LINE_CHANNEL_ACCESS_TOKEN": ""}
    failed = clinic(env, "line", "rich-menu")
    assert failed.returncode == 2 and "LINE_CHANNEL_ACCESS_TOKEN" in failed.stderr
    assert not api_server.requests


def test_every_menu_button_is_a_command_the_conversation_answers(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    user = "Umenu000000000000000000000000001"
    answers = {}
    for text in BUTTON_TEXTS:
        post_line(client, line_body(line_text(text, user)))
        run_jobs(runtime)
        answers[text] = api_server.matching("POST", r"/v2/bot/message/reply$")[-1].json["messages"][0]["text"]
    assert "เลือกหน่วยงาน" not in answers["คำถามที่พบบ่อย"]  # not the intake's question again
    assert answers["คำถามที่พบบ่อย"].startswith("คำถามที่พบบ่อย / FAQ")
    for topic in ("สารบรรณ", "พิธีการ"):
        assert topic in answers["คำถามที่พบบ่อย"]
    assert answers["ติดต่อเจ้าหน้าที่"].startswith("ติดต่อเจ้าหน้าที่ / Contact staff")
    assert "24 ชั่วโมง" in answers["ติดต่อเจ้าหน้าที่"]


# --- Messenger ----------------------------------------------------------------------------------


def test_messenger_setup_sets_get_started_greeting_and_menu(  # type: ignore[no-untyped-def]
    config_env: dict[str, str], api_server: FakeApiServer
) -> None:
    done = clinic(config_env, "messenger", "setup")
    assert done.returncode == 0, done.stderr
    (request,) = api_server.requests
    assert (request.method, request.path, request.status) == ("POST", "/v21.0/me/messenger_profile", 200)
    assert request.query == {"access_token": ["messenger-test-token"]}
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": messenger_profile.GREETING}],
        "persistent_menu": [
            {
                "locale": "default",
                "composer_input_disabled": False,
                "call_to_actions": [
                    {"type": "postback", "title": "ถามใหม่ / New question", "payload": "ถามใหม่"},
                    {"type": "postback", "title": "สถานะ / My questions", "payload": "สถานะ"},
                    {"type": "postback", "title": "คำถามที่พบบ่อย / FAQ", "payload": "คำถามที่พบบ่อย"},
                    {"type": "postback", "title": "ติดต่อเจ้าหน้าที่ / Contact", "payload": "ติดต่อเจ้าหน้าที่"},
                ],
            }
        ],
    }
    assert len(messenger_profile.GREETING) <= 160 and "{{user_first_name}}" in messenger_profile.GREETING
    assert api_server.messenger_profile["get_started"] == {"payload": "GET_STARTED"}


def test_messenger_setup_reports_the_graph_error(config_env: dict[str, str], api_server: FakeApiServer) -> None:
    error = {"error": {"message": "(#200) Requires pages_messaging permission", "type": "OAuthException", "code": 200}}
    api_server.fail("POST", r"/me/messenger_profile$", 403, error)
    failed = clinic(config_env, "messenger", "setup")
    assert failed.returncode == 2
    assert "pages_messaging" in failed.stderr
    env = {**config_env, "MESSENGER_APP_SECRET": "", "MESSENGER_PAGE_ACCESS_TOKEN": "", "MESSENGER_VERIFY_TOKEN": ""}
    assert clinic(env, "messenger", "setup").returncode == 2


def test_persistent_menu_postbacks_reach_the_conversation(  # type: ignore[no-untyped-def]
    client, runtime: Runtime, api_server: FakeApiServer
) -> None:
    for n, (title, payload) in enumerate(messenger_profile.MENU):
        item = {
            "sender": {"id": PSID}, "recipient": {"id": "PAGE1"}, "timestamp": 1764039600000 + n,
            "postback": {"title": title, "payload": payload, "mid": f"m_menu_{n}"},
        }  # fmt: skip
        assert post_messenger(client, messenger_body(item)).status_code == 200
        run_jobs(runtime)
    texts = [r.json["message"]["text"] for r in api_server.matching("POST", r"/me/messages$")]
    assert len(texts) == 4
    assert texts[2].startswith("คำถามที่พบบ่อย / FAQ")
    assert texts[3].startswith("ติดต่อเจ้าหน้าที่ / Contact staff")


def test_an_old_menu_line_will_not_delete_is_reported_and_the_new_one_is_live(  # type: ignore[no-untyped-def]
    config_env: dict[str, str], api_server: FakeApiServer
) -> None:
    env = line_env(config_env, api_server)
    assert clinic(env, "line", "rich-menu").returncode == 0
    first = api_server.default_rich_menu
    api_server.fail("DELETE", r"^/v2/bot/richmenu/", 500, {"message": "Internal error"})
    done = clinic(env, "line", "rich-menu")
    assert done.returncode == 0, done.stderr
    assert api_server.default_rich_menu not in (None, first)
    assert f"Could not delete: {first}" in done.stderr
    assert first in api_server.rich_menus  # left for the next run, which deletes it
    assert clinic(env, "line", "rich-menu").returncode == 0
    assert first not in api_server.rich_menus and len(api_server.rich_menus) == 1
