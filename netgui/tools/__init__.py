"""Tools-menu windows (see ``netgui.tabs.TOOLS``): each module has ``open(app)``."""
