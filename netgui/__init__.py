"""netgui: a desktop client for internet services."""

__version__ = "0.1.0"
APP_NAME = "netgui"
