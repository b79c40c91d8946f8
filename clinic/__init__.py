"""The consultation clinic's domain core: rules, models and services.

Nothing here imports Flask blueprints; `bot/` and `desk/` are thin adapters over it.
"""
