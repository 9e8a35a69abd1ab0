"""DNS with dnspython: lookups over UDP, TCP, TLS and HTTPS (lookup, doh), EDNS options and
extended errors (edns), many names at once (bulk), several servers (comparison), +trace from
the root (trace), DNSSEC validation that explains itself (dnssec) and JSON for all (jsonout).

trace and dnssec are imported from their modules (``from netgui.net.dns.trace import
trace``) so that a plain lookup does not load them."""

from .bulk import BulkRow, bulk_resolve, parse_bulk_text, rows_to_csv
from .comparison import Comparison, compare
from .edns import EdnsOptions
from .jsonout import to_json
from .lookup import DnsInputError, DnsResult, parse_server, query

__all__ = ["query", "DnsResult", "DnsInputError", "parse_server", "bulk_resolve", "BulkRow",
           "parse_bulk_text", "rows_to_csv", "compare", "Comparison", "EdnsOptions", "to_json"]
