"""The Bearer token service for the registry tests.

Issues the JWTs the distribution registry's `auth: token` accepts: ES256, signed with a
self-signed certificate written to CERT (the registry's rootcertbundle) and named in the x5c
header. Basic credentials USER:PASSWORD are required; every request is logged to LOG as one JSON
line (scope, whether the credentials were right), never with the password.

    token_server.py PORT CERT LOG USER:PASSWORD [--first-lifetime SECONDS] [--tls CERT KEY]

--first-lifetime gives the first token issued a lifetime relative to now (negative: already
expired, less the registry's leeway), so a test can make a token lapse in the middle of an upload.
--tls serves HTTPS with that certificate and key: modelpack sends credentials to a token service on
another port only over TLS.
"""

import base64
import datetime
import http.server
import json
import ssl
import sys
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

ISSUER = "modelpack-test-issuer"
SERVICE = "modelpack-test"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    port, cert_path, log_path, userpass = sys.argv[1:5]
    first_lifetime = None
    if "--first-lifetime" in sys.argv:
        first_lifetime = int(sys.argv[sys.argv.index("--first-lifetime") + 1])
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "modelpack test token issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    expected = "Basic " + base64.b64encode(userpass.encode()).decode()
    issued = [0]

    def token(scopes: list, lifetime: int) -> str:
        header = {"alg": "ES256", "typ": "JWT", "x5c": [x5c]}
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            repo, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": repo, "actions": actions.split(",")})
        t = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": userpass.split(":")[0],
            "aud": SERVICE,
            "exp": t + lifetime,
            "nbf": t - 120,
            "iat": t,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        return signing_input + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            scopes = query.get("scope", [])
            ok = self.headers.get("Authorization") == expected
            with open(log_path, "a") as log:
                log.write(json.dumps({"scopes": scopes, "authorized": ok}) + "\n")
            if not ok:
                self.send_response(401)
                self.end_headers()
                return
            lifetime = 300
            if issued[0] == 0 and first_lifetime is not None:
                lifetime = first_lifetime
            issued[0] += 1
            body = json.dumps({"token": token(scopes, lifetime), "expires_in": max(lifetime, 1)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    if "--tls" in sys.argv:
        at = sys.argv.index("--tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[at + 1], sys.argv[at + 2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
