"""Protocol cores: blocking, one object per connection, no tkinter.

The shared pieces live here (``connection``, ``cancel``, ``errors``, ``redact``,
``safe_names``, ``text``); each protocol family has a package of its own
(``http``, ``mail``, ``ftp``, ``dns``, ``chat``, ``getfile``).
"""
