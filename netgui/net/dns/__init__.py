"""DNS over UDP, TCP and TLS with dnspython: single queries, bulk lookups and server comparison."""

from .bulk import BulkRow, bulk_resolve, parse_bulk_text, rows_to_csv
from .comparison import Comparison, compare
from .lookup import DnsInputError, DnsResult, parse_server, query

__all__ = ["query", "DnsResult", "DnsInputError", "parse_server", "bulk_resolve", "BulkRow",
           "parse_bulk_text", "rows_to_csv", "compare", "Comparison"]
