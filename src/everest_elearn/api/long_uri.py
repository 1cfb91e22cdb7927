"""uvicorn's httptools protocol, answering 414 (not 400) to URIs its URL parser cannot hold.

``httptools.parse_url`` keeps offsets in 16 bits, so a request whose URI is longer than 64 KiB
fails inside uvicorn before the application sees it, and uvicorn answers 400 in plain text.
CEOS BP-005 asks 414 for a URI that is too long (the application answers it for shorter ones,
``settings.api.max_uri_length``); this protocol answers it, as an OWS ExceptionReport, for those.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from everest_elearn.catalogue.opensearch.atom import render_error

# The longest URI httptools.parse_url accepts.
URL_PARSER_LIMIT = 0xFFFF


class LongUriHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose parse failure on an over-long URI is a 414."""

    def send_400_response(self, msg: str) -> None:
        length = len(getattr(self, "url", b""))
        if length <= URL_PARSER_LIMIT:
            super().send_400_response(msg)
            return
        body = render_error(
            "RequestURITooLong",
            f"the request URI is {length} characters; the limit is {URL_PARSER_LIMIT}",
            None,
        )
        head = [STATUS_LINE[414]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/xml\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
