"""A proxy in front of a test registry that loses the connection in the middle of a blob.

Forwards GET and HEAD requests to the registry at UPSTREAM (host:port). The first blob GET whose
body is longer than CUT bytes is cut after CUT bytes: the headers promise the whole body, then
the connection is closed, as a network failure would. With --ignore-range, later blob GETs reach
the registry without their Range header, so it answers 200 with the whole blob, as a registry that
does not serve ranges would. Every request is logged to LOG as one JSON line (method, path,
range, status, bytes sent).

    cutting_proxy.py PORT UPSTREAM CUT LOG [--ignore-range]
"""

import http.client
import http.server
import json
import socket
import sys
import threading

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


def main() -> None:
    port, upstream, cut, log_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ignore_range = "--ignore-range" in sys.argv
    state = {"cut": False}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def forward(self) -> None:
            is_blob = "/blobs/sha256:" in self.path
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            asked = headers.get("Range")
            if is_blob and ignore_range and state["cut"]:
                headers.pop("Range", None)
            connection = http.client.HTTPConnection(upstream, timeout=30)
            connection.request(self.command, self.path, headers=headers)
            response = connection.getresponse()
            length = int(response.getheader("Content-Length") or 0)
            with lock:
                cutting = self.command == "GET" and is_blob and not state["cut"] and length > cut
                if cutting:
                    state["cut"] = True
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.end_headers()
            sent = 0
            if self.command != "HEAD":
                while True:
                    chunk = response.read(min(65536, cut - sent) if cutting else 65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if cutting and sent >= cut:
                        break
            connection.close()
            entry = {
                "method": self.command,
                "path": self.path,
                "range": asked,
                "status": response.status,
                "sent": sent,
                "cut": cutting,
            }
            with lock, open(log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")
            if cutting:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        do_GET = forward
        do_HEAD = forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
