"""A registry that lies, for the tests of what the registry client trusts (Docs/REGISTRY.md,
"A hostile registry"). Every request is logged to LOG as one JSON line: method, path, and the
Authorization header it carried (so a test can see where credentials went).

    hostile_registry.py PORT LOG MODE [ARG] [--tls CERT KEY]

MODE is what the registry does:
    catcher             answers every request 200 with a token ({"token": "t"}): a token realm or a
                        redirect target that should never see a credential
    realm URL           /v2/... answers 401 with a Bearer challenge whose realm is URL
    basic               /v2/... asks for Basic credentials (401) until they come, then redirects
                        every manifest GET to ARG (e.g. http://127.0.0.1:PORT2/x: a lower scheme)
    endless WHAT        WHAT is manifest, config or bundle: that body never ends (zeros, chunked)
    drip                the manifest's body comes one byte a second
    sizes SIZE          a model manifest whose one file layer declares SIZE bytes (Int64.max, a
                        negative number): the config is served whole, the layer never
    control             the config's name, a layer's path and an error body hold terminal escapes
    error-body          every request answers 404 with an endless error body

With --tls the server speaks HTTPS with the certificate and key given (a test CA's).
"""

import hashlib
import http.server
import json
import socketserver
import ssl
import sys
import time

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.cncf.model.config.v1+json"
ARTIFACT = "application/vnd.cncf.model.manifest.v1+json"
BUNDLE = "application/vnd.modelpack.bundle.manifest.v1+json"
ESC = "\x1b"
# The config name of `control`: a refusal drawn as a green "pulled", then a line of its own.
CONTROL_NAME = f"{ESC}[1;32mpulled{ESC}[0m\nfake line"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_blob(name: str = "hostile") -> bytes:
    return json.dumps(
        {
            "descriptor": {"name": name, "version": "1.0.0"},
            "config": {"format": "scikit-learn"},
            "modelfs": {"type": "layers", "diffIds": []},
        }
    ).encode()


def manifest(layers: list, annotations: dict | None = None, config: bytes | None = None) -> bytes:
    config = config or config_blob()
    body = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": ARTIFACT,
        "config": {"mediaType": CONFIG, "digest": digest(config), "size": len(config)},
        "layers": layers,
    }
    if annotations:
        body["annotations"] = annotations
    return json.dumps(body).encode()


def main() -> None:
    port, log_path, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    arg = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith("--") else None
    tls = sys.argv[sys.argv.index("--tls") + 1 : sys.argv.index("--tls") + 3] if "--tls" in sys.argv else None

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def log_request_line(self) -> None:
            with open(log_path, "a") as log:
                entry = {"method": self.command, "path": self.path, "authorization": self.headers.get("Authorization")}
                log.write(json.dumps(entry) + "\n")

        def answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def endless(self, status: int, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            self.log_request_line()
            path = self.path.split("?")[0]
            if mode == "catcher":
                self.answer(200, b'{"token": "t"}', {"Content-Type": "application/json"})
            elif mode == "realm":
                self.answer(401, b"{}", {"WWW-Authenticate": f'Bearer realm="{arg}",service="hostile"'})
            elif mode == "basic":
                if not self.headers.get("Authorization"):
                    self.answer(401, b"{}", {"WWW-Authenticate": 'Basic realm="hostile"'})
                elif "/manifests/" in path:
                    self.answer(307, b"", {"Location": arg})
                else:
                    self.answer(200, b"{}")
            elif mode == "error-body":
                self.endless(404, "application/json")
            elif path == "/v2/":
                self.answer(200, b"{}")
            elif mode == "endless" and ("/manifests/" in path if arg == "manifest" else "/blobs/" in path):
                self.endless(200, MANIFEST)
            elif mode == "drip" and "/manifests/" in path:
                body = manifest([])
                self.send_response(200)
                self.send_header("Content-Type", MANIFEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(1)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif "/manifests/" in path:
                layers = []
                annotations = None
                if mode == "sizes":
                    layers = [
                        {
                            "mediaType": "application/vnd.cncf.model.weight.v1.raw",
                            "digest": "sha256:" + "ab" * 32,
                            "size": int(arg),
                            "annotations": {"org.cncf.model.filepath": "model.bin"},
                        }
                    ]
                elif mode == "endless":
                    layers = [{"mediaType": BUNDLE, "digest": "sha256:" + "cd" * 32, "size": 1024}]
                elif mode == "control":
                    annotations = {"org.opencontainers.image.description": f"{ESC}[32mpulled{ESC}[0m\r\x07"}
                    layers = [
                        {
                            "mediaType": "application/vnd.cncf.model.weight.v1.raw",
                            "digest": "sha256:" + "cd" * 32,
                            "size": 10,
                            "annotations": {"org.cncf.model.filepath": f"model{ESC}[2K.bin"},
                        }
                    ]
                config = config_blob(CONTROL_NAME) if mode == "control" else None
                body = manifest(layers, annotations, config)
                if mode == "endless" and arg == "config":
                    data = json.loads(body)
                    data["config"]["size"] = 1024
                    body = json.dumps(data).encode()
                self.answer(200, body, {"Content-Type": MANIFEST, "Docker-Content-Digest": digest(body)})
            elif "/blobs/" in path and path.endswith(digest(config_blob())):
                self.answer(200, config_blob())
            elif "/blobs/" in path and mode == "control" and path.endswith(digest(config_blob(CONTROL_NAME))):
                self.answer(200, config_blob(CONTROL_NAME))
            elif mode == "control" and "/blobs/" in path:
                error = {"errors": [{"code": "DENIED", "message": f"{ESC}[1;32m✔ pulled{ESC}[0m\x08\x08 fine"}]}
                self.answer(403, json.dumps(error).encode(), {"Content-Type": "application/json"})
            else:
                self.answer(404, b'{"errors": [{"code": "BLOB_UNKNOWN", "message": "no"}]}')

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", port), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
