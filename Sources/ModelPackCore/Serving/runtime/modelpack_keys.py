"""Who may call the model, and how much: named API keys, kept hashed, with optional rate limits.

MODELPACK_API_KEYS_FILE names a file of lines `NAME sha256:HEX [RATE]` (`#` comments): HEX is the
SHA-256 of the key (`printf %s "$KEY" | sha256sum`), RATE is `N/s`, `N/min` or `N/h`. Or
MODELPACK_API_KEY gives one key, named `default`. The key's name, never the key, goes into logs and
metrics. A limit is kept per worker process at RATE divided by the workers, so the whole server
allows about RATE (a client whose connections all reach one worker gets that worker's share).
"""
import hashlib
import hmac
import math
import re
import threading
import time

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
RATE = re.compile(r"^([1-9][0-9]{0,8})/(s|min|h)$")
PERIODS = {"s": 1.0, "min": 60.0, "h": 3600.0}


class KeysError(Exception):
    """A keys file that cannot be used, phrased as 'FILE:LINE: why'."""


class Key:
    def __init__(self, name, digest, rate=None):
        self.name = name
        self.digest = digest
        self.rate = rate  # (count, period text) or None

    @property
    def rate_text(self):
        return f"{self.rate[0]}/{self.rate[1]}" if self.rate else "unlimited"


def parse(text, source):
    keys, names, digests = [], set(), set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        parts = line.split()
        if len(parts) not in (2, 3):
            raise KeysError(f"{where}: expected 'NAME sha256:HEX [N/s|N/min|N/h]', found {len(parts)} fields")
        name, digest = parts[0], parts[1]
        if not NAME.match(name):
            raise KeysError(f"{where}: key name '{name}' must be letters, digits, '.', '_' or '-' (at most 64)")
        if not DIGEST.match(digest):
            raise KeysError(f"{where}: '{digest[:20]}' is not sha256: and 64 lowercase hex digits "
                            "(the key's SHA-256: printf %s \"$KEY\" | sha256sum)")
        rate = None
        if len(parts) == 3:
            matched = RATE.match(parts[2])
            if not matched:
                raise KeysError(f"{where}: rate '{parts[2]}' is not N/s, N/min or N/h")
            rate = (int(matched.group(1)), matched.group(2))
        if name in names:
            raise KeysError(f"{where}: key name '{name}' is given twice")
        if digest in digests:
            raise KeysError(f"{where}: the key of '{name}' is another name's key too")
        names.add(name)
        digests.add(digest)
        keys.append(Key(name, digest, rate))
    if not keys:
        raise KeysError(f"{source}: no keys (every request would be refused)")
    return keys


class Keys:
    def __init__(self, keys, workers=1):
        self.keys = keys
        self.lock = threading.Lock()
        self.buckets = {}
        for key in keys:
            if key.rate:
                count, period = key.rate
                per_worker = count / max(1, workers)
                # (tokens now, capacity, tokens per second, last refill)
                self.buckets[key.name] = [max(1.0, per_worker), max(1.0, per_worker),
                                          per_worker / PERIODS[period], time.monotonic()]

    def identify(self, given):
        """The key whose hash is the given key's, or None (every key compared, in constant time each)."""
        digest = "sha256:" + hashlib.sha256(given.encode("utf-8", "surrogatepass")).hexdigest()
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found

    def admit(self, key):
        """None when the request may go ahead, else the seconds until it may (Retry-After)."""
        bucket = self.buckets.get(key.name)
        if bucket is None:
            return None
        with self.lock:
            now = time.monotonic()
            bucket[0] = min(bucket[1], bucket[0] + (now - bucket[3]) * bucket[2])
            bucket[3] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket[0]) / bucket[2]))


def load_keys(environ, workers=1):
    """The keys the environment configures, or None when /predict is open to anyone."""
    path = environ.get("MODELPACK_API_KEYS_FILE") or None
    single = environ.get("MODELPACK_API_KEY") or None
    if path and single:
        raise KeysError("MODELPACK_API_KEY and MODELPACK_API_KEYS_FILE are both set: give one")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise KeysError(f"{path}: {getattr(error, 'strerror', None) or error}") from None
        return Keys(parse(text, path), workers)
    if single:
        return Keys([Key("default", "sha256:" + hashlib.sha256(single.encode()).hexdigest())], workers)
    return None
