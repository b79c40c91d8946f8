"""The bot's HTTP endpoints: the LINE and Messenger webhooks, and the web chat (with its files)."""

from flask import Blueprint

from bot import privacy_page, shared_files, webchat, webchat_files, webhooks

bp = Blueprint("bot", __name__, template_folder="templates", static_folder="static", static_url_path="/bot/static")

webhooks.register(bp)
webchat.register(bp)
privacy_page.register(bp)
webchat_files.register(bp)
shared_files.register(bp)
