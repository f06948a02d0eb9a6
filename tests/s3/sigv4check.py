#!/usr/bin/env python3
"""tests/s3/sigv4check.py LISTEN_PORT TARGET_PORT SECRET -- a loopback HTTP proxy in front of the
test S3 server that checks every request's AWS Signature Version 4 with an independent signer
(botocore, Debian's python3-botocore) before forwarding it: the test server itself does not
check V4 signatures. A request whose signature botocore computes differently is answered
403 SignatureDoesNotMatch with both canonical requests in the message; one without a V4
Authorization header, 400.
"""
import http.client
import http.server
import re
import sys

from botocore.auth import S3SigV4Auth
from botocore.compat import HTTPHeaders
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LISTEN, TARGET, SECRET = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?"
    r"SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$")


def s3_error(handler, status, code, message):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
            "<RequestId>sigv4check</RequestId></Error>" % (code, message.replace("&", "&amp;")
                                                           .replace("<", "&lt;"))).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m:
            return s3_error(self, 400, "AuthorizationHeaderMalformed", "no SigV4 Authorization header")
        key, _date, region, signed, signature = m.groups()
        headers = {h: self.headers.get(h, "") for h in signed.split(";")}
        req = AWSRequest(method=self.command, url="http://%s%s" % (self.headers["Host"], self.path),
                         headers=headers, data=body)
        req.context["timestamp"] = self.headers["x-amz-date"]
        auth = S3SigV4Auth(Credentials(key, SECRET), "s3", region)
        # sign exactly the headers the client signed
        to_sign = HTTPHeaders()
        for h, v in headers.items():
            to_sign[h] = v
        auth.headers_to_sign = lambda r: to_sign
        canonical = auth.canonical_request(req)
        expected = auth.signature(auth.string_to_sign(req, canonical), req)
        if expected != signature:
            return s3_error(self, 403, "SignatureDoesNotMatch",
                            "botocore signs differently; its canonical request: " + canonical)
        conn = http.client.HTTPConnection("127.0.0.1", TARGET)
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "expect")}
        conn.request(self.command, self.path, body=body, headers=fwd)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        length = r.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Handler).serve_forever()
