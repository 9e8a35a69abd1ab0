"""Mail: accounts, the offline cache, message parsing and the reading/sending logic the tab uses.

Nothing in this package imports tkinter; the tab drives it through the task runner.
"""
