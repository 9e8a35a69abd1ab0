"""One timeline of every tab's wire events: the store (SQLite, bounded by size and age, a
writer thread) and its search language. No Tk: the app records into it, the Timeline window
(``netgui.tabs.timeline``) shows and searches it."""

from .query import Query, parse_query
from .store import (DEFAULT_MAX_DAYS, DEFAULT_MAX_MB, Event, Origin, TimelineStore,
                    events_to_json, events_to_text, target_text)

__all__ = ["TimelineStore", "Origin", "Event", "Query", "parse_query", "events_to_text",
           "events_to_json", "target_text", "DEFAULT_MAX_MB", "DEFAULT_MAX_DAYS"]
