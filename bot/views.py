"""The bot's HTTP endpoints: the LINE and Messenger webhooks, and the web chat."""

from flask import Blueprint

from bot import privacy_page, webchat, webhooks

bp = Blueprint("bot", __name__, template_folder="templates", static_folder="static", static_url_path="/bot/static")

webhooks.register(bp)
webchat.register(bp)
privacy_page.register(bp)
