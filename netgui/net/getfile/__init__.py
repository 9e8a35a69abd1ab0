"""The getfile protocol's client: downloads and listings, compatible with original servers."""

from .client import (
                     DEFAULT_PORT,
                     Entry,
                     FetchResult,
                     GetfileError,
                     NotFoundOrEmpty,
                     OriginalServer,
                     check_remote_path,
                     fetch,
                     list_dir,
)

__all__ = ["fetch", "list_dir", "FetchResult", "Entry", "GetfileError", "NotFoundOrEmpty",
           "OriginalServer", "DEFAULT_PORT", "check_remote_path"]
