"""The bot's HTTP endpoints."""

from flask import Blueprint

bp = Blueprint("bot", __name__, template_folder="templates", static_folder="static", static_url_path="/bot/static")
