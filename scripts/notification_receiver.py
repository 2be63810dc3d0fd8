"""A notification receiver for tests and the demo: records every request and answers as told.

Usage: notification_receiver.py PORT LOG
Each request is appended to LOG as one JSON line: {"path", "headers", "body"}.
Paths: /flaky/* answers 500 to its first request and 200 afterwards; /down/* always 500; else 200.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
seen = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        with lock:
            with open(LOG, "a") as log:
                log.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
            seen[self.path] = seen.get(self.path, 0) + 1
            count = seen[self.path]
        status = 200
        if self.path.startswith("/down") or (self.path.startswith("/flaky") and count == 1):
            status = 500
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
