"""The virtual message list: thousands of rows, only the visible ones in the Treeview."""

from __future__ import annotations

from email.utils import formatdate

from netgui.net.mail.cache import MessageRow
from netgui.tabs.mail.message_list import MessageList
from tests.support.tk import pump


def make_rows(n, start=1):
    return [MessageRow(uid, (f"From: Sender {uid % 50:02d} <s{uid % 50}@example.org>\r\n"
                             f"To: me@example.org\r\nSubject: Subject {uid}\r\n"
                             f"Date: {formatdate(1_700_000_000 + uid * 60)}\r\n"
                             + ("Content-Type: multipart/mixed; boundary=x\r\n" if uid % 10 == 0
                                else "")).encode(),
                       100 + uid, ("\\Seen",) if uid % 2 else ())
            for uid in range(start, start + n)]


def test_virtual_list_scrolls_sorts_and_keeps_the_selection(root):
    picked = []
    lst = MessageList(root, on_select=picked.append)
    lst.pack(fill="both", expand=True)
    root.geometry("800x400")
    lst.set_rows(make_rows(5000))
    pump(root, timeout=0.3)
    items = lst.tree.get_children()
    assert 5 <= len(items) <= 30                      # only the visible window is in the tree
    assert items[0] == "5000"                          # newest first
    assert lst.tree.set("5000", "marks").startswith("●")
    assert lst.tree.set("5000", "marks").endswith("◫")
    lst.select(4990)
    assert picked[-1] == [4990]
    lst._yview("moveto", 0.5)
    pump(root, timeout=0.1)
    assert "4990" not in lst.tree.get_children() and lst.selection() == [4990]
    lst.select(4990)
    lst.tree.focus_set()
    lst._key_move(1)
    assert picked[-1] == [4989]
    lst._key_move("end")
    assert picked[-1] == [1] and "1" in lst.tree.get_children()
    # new rows at the top do not move what the user is looking at
    lst._yview("moveto", 0.5)
    first_visible = lst.tree.get_children()[0]
    lst.add_rows(make_rows(3, start=6000))
    pump(root, timeout=0.1)
    assert lst.tree.get_children()[0] == first_visible
    assert lst.shown_uids()[:3] == [6002, 6001, 6000]
    lst.sort_by("subject")
    pump(root, timeout=0.1)
    subjects = [lst.rows[u].subject.casefold() for u in lst.shown_uids()]
    assert subjects == sorted(subjects) and lst.selection() == [1]
    lst.set_filter([10, 20, 30])
    assert lst.shown_uids() == [10, 20, 30] and len(lst.tree.get_children()) == 3
    lst.remove([20])
    assert lst.shown_uids() == [10, 30]
    lst.change_flag([10], "\\Flagged", True)
    assert "⚑" in lst.tree.set("10", "marks")


def test_rows_are_decoded_in_the_background_once_batches_stop(root):
    lst = MessageList(root)
    lst.pack(fill="both", expand=True)
    rows = make_rows(3000)
    lst.set_rows(rows[:1500])
    lst.add_rows(rows[1500:])
    pump(root, timeout=0.05)
    shown = set(lst._visible)
    assert all(r._text is not None for r in rows if r.uid in shown)   # what is on screen
    assert sum(r._text is None for r in rows) > 2000                  # not yet the rest
    pump(root, until=lambda: all(r._text is not None for r in rows), timeout=10,
         message="rows were not decoded in the background")
    lst.sort_by("sender")
    assert lst.rows[lst.shown_uids()[0]].sender == "Sender 00"


def test_bulk_batches_merge_into_the_same_order_as_one_sort(root):
    import random
    rows = make_rows(3000)
    random.Random(3).shuffle(rows)
    merged = MessageList(root)
    for i in range(0, 3000, 1000):          # three new batches, merged in
        merged.add_rows(rows[i:i + 1000])
    whole = MessageList(root)
    whole.set_rows(rows)
    assert merged.shown_uids() == whole.shown_uids()
    assert merged.shown_uids()[:3] == [3000, 2999, 2998]  # newest date first
    refreshed = make_rows(500, start=2501)  # a batch of rows it already has
    for row in refreshed:
        row.flags = ("\\Seen", "\\Flagged")
    merged.add_rows(refreshed)
    assert merged.shown_uids() == whole.shown_uids() and merged.rows[3000].flagged
    merged.sort_by("size")
    assert merged.shown_uids()[0] == 3000   # the biggest first
