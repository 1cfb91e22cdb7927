"""The data gateway: rules decide per product and per user where the bytes come from."""

from everest_elearn.gateway.delivery import (
    ByteRange,
    FetchedFile,
    FileStream,
    Origin,
    ProductLookup,
    Redirect,
    Strategy,
)

__all__ = [
    "ByteRange",
    "FetchedFile",
    "FileStream",
    "Origin",
    "ProductLookup",
    "Redirect",
    "Strategy",
]
