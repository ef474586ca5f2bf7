"""Sarah's settings: `load_settings()` reads and validates them; `Settings` is passed to what needs it."""

from config.errors import SettingsError
from config.settings import Settings, SlackMode, load_settings

__all__ = ["Settings", "SettingsError", "SlackMode", "load_settings"]
