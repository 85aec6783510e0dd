#!/usr/bin/python3
"""Property test: imgsync's SigV4 signer against botocore's S3SigV4Auth.

Generates random S3 requests (object keys full of punctuation, accents, CJK, Cyrillic, emoji
and nested folders; random query parameters; random signed headers; signed and unsigned
payloads; with and without a session token; several endpoints and regions), signs each one with
botocore and with the sigv4_canon helper, and compares the signatures. Stops at the first
mismatch, printing both canonical requests.

botocore is the independent side: the object path comes from botocore.utils.percent_encode (what
botocore's REST-XML serializer uses for the {Key+} label), the query from its own parameter
encoding, the Host header from the URL, and the payload hash from its X-Amz-Content-SHA256.

Usage: check_sigv4_botocore.py [--count N] [--seed S] [--binary PATH]
Needs Debian's python3-botocore.
"""

import argparse
import datetime
import os
import random
import subprocess
import sys
import time
from unittest import mock
from urllib.parse import parse_qsl, unquote, urlsplit

sys.path.append("/usr/lib/python3/dist-packages")

from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.utils import percent_encode  # noqa: E402

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
    "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
)

PUNCTUATION = list(" +~*'()!@$%=&;,#[]{}^-_.:?|<>\"\\`")
ACCENTED = list("éèêëàâäçñøåÅÉÖüÜßœæ")
CJK = list("日本語写真中文字画像한국어")
CYRILLIC = list("фотографияПРИВЕТжЖщЩ")
EMOJI = ["😀", "🎉", "👍🏽", "🐍", "📷", "❤️", "🇫🇷"]
ASCII = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

# (endpoint URL for imgsync, how botocore's URL prefix is built)
ENDPOINTS = [
    "http://127.0.0.1:7480",
    "http://127.0.0.1:7480",  # the main target: weigh it double
    "https://minio.example.com:9000",
    "http://rgw.example.org:80",
    "https://objects.example.net",
    "",  # AWS
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "default"]
BUCKETS = ["bucket", "images-2024", "my.photo.bucket", "a1b2c3"]
METHODS = ["GET", "PUT", "POST", "HEAD", "DELETE"]


def random_text(rng, lo, hi, pools):
    n = rng.randint(lo, hi)
    out = []
    for _ in range(n):
        pool = rng.choice(pools)
        out.append(rng.choice(pool))
    return "".join(out)


def random_key(rng):
    pools = [ASCII, ASCII, PUNCTUATION, ACCENTED, CJK, CYRILLIC, EMOJI]
    segments = []
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.05:
            segments.append(rng.choice(["", ".", ".."]))  # "a//b", "./", "../" stay as they are
        else:
            segments.append(random_text(rng, 1, 12, pools))
    key = "/".join(segments)
    if rng.random() < 0.1:
        key = "/" + key
    if rng.random() < 0.1:
        key += "/"
    # S3 keys are at most 1024 bytes; imgsync refuses empty keys.
    while len(key.encode("utf-8")) > 1024:
        key = key[:-1]
    return key or "k"


def random_query(rng):
    names = ["uploadId", "partNumber", "prefix", "list-type", "x-id", "uploads", "max-keys"]
    pools = [ASCII, PUNCTUATION, ACCENTED, CJK, EMOJI]
    params = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4])):
        name = rng.choice(names) if rng.random() < 0.6 else random_text(rng, 1, 8, pools)
        value = "" if rng.random() < 0.2 else random_text(rng, 1, 16, pools)
        params.append((name, value))
    if params and rng.random() < 0.2:
        params.append((params[0][0], random_text(rng, 0, 5, [ASCII, PUNCTUATION])))
    return params


def random_headers(rng):
    """ASCII header values with runs of spaces, as a signer must trim and fold them."""
    printable = [chr(c) for c in range(0x21, 0x7F)]
    candidates = [
        ("Content-Type", lambda: rng.choice(["image/jpeg", "text/plain; charset=utf-8",
                                              "application/octet-stream", "image/webp"])),
        ("Content-MD5", lambda: "1B2M2Y8AsgTpgAmY7PhCfg=="),
        ("x-amz-meta-Origin", lambda: rng.choice(["  cam  01 ", "a   b   c", "x"])),
        ("X-Amz-Meta-Note", lambda: " ".join(
            random_text(rng, 1, 6, [printable]) for _ in range(rng.randint(1, 4)))
            + " " * rng.randint(0, 3)),
        ("x-amz-storage-class", lambda: rng.choice(["STANDARD", "REDUCED_REDUNDANCY"])),
        ("Cache-Control", lambda: "max-age=3600,  public"),
        ("x-amz-acl", lambda: "private"),
    ]
    chosen = rng.sample(candidates, rng.randint(0, 4))
    headers = [(name, make()) for name, make in chosen]
    if headers and rng.random() < 0.15:
        # A repeated header: both sides must join the values with ',' in order.
        name = headers[0][0]
        headers.append((name.upper() if rng.random() < 0.5 else name.lower(), "second  value"))
    return headers


def botocore_url(endpoint, region, bucket, key):
    encoded_key = percent_encode(key, safe="/~")
    if endpoint:
        parts = urlsplit(endpoint)
        return "%s://%s/%s/%s" % (parts.scheme, parts.netloc, bucket, encoded_key)
    suffix = "amazonaws.com"
    service_host = "s3.amazonaws.com" if region == "us-east-1" else "s3.%s.%s" % (region, suffix)
    if "." in bucket:  # a dotted bucket over https goes path-style (TLS wildcard)
        return "https://%s/%s/%s" % (service_host, bucket, encoded_key)
    return "https://%s.%s/%s" % (bucket, service_host, encoded_key)


class CapturingAuth(S3SigV4Auth):
    def canonical_request(self, request):
        self.last_canonical_request = super().canonical_request(request)
        return self.last_canonical_request


def sign_with_botocore(case):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, case["token"] or None)
    auth = CapturingAuth(creds, "s3", case["region"])
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"])
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders appends a repeated name
    if case["query"]:
        request.params = list(case["query"])
    if not case["sign_payload"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    with mock.patch("botocore.auth.datetime") as fake:
        fake.datetime.utcnow.return_value = case["when"]
        fake.datetime.strptime = datetime.datetime.strptime
        auth.add_auth(request)
    authorization = request.headers["Authorization"]
    signature = authorization.rsplit("Signature=", 1)[1]
    return signature, auth.last_canonical_request, request.headers["X-Amz-Content-SHA256"]


def esc(s):
    """%XY-escape every byte that is not a letter or digit (the helper's transport encoding)."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return "".join(chr(b) if chr(b).isalnum() and b < 0x80 else "%%%02X" % b for b in s)


def pair_list(pairs):
    return "&".join("%s=%s" % (esc(k), esc(v)) for k, v in pairs)


def make_case(rng):
    endpoint = rng.choice(ENDPOINTS)
    region = rng.choice(REGIONS[:3]) if not endpoint else rng.choice(REGIONS)
    bucket = rng.choice(BUCKETS)
    key = random_key(rng)
    when = datetime.datetime(2013, 1, 1) + datetime.timedelta(
        seconds=rng.randint(0, 20 * 365 * 86400))
    body = b""
    if rng.random() < 0.6:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    return {
        "method": rng.choice(METHODS),
        "endpoint": endpoint,
        "region": region,
        "bucket": bucket,
        "key": key,
        "url": botocore_url(endpoint, region, bucket, key),
        "query": random_query(rng),
        "headers": random_headers(rng),
        "body": body,
        "sign_payload": rng.random() < 0.7,
        "token": SESSION_TOKEN if rng.random() < 0.3 else "",
        "when": when,
    }


def helper_line(case, payload_hash):
    fields = [
        case["method"], case["endpoint"], case["bucket"], esc(case["key"]),
        pair_list(case["query"]), pair_list(case["headers"]), payload_hash, ACCESS_KEY,
        esc(SECRET_KEY), esc(case["token"]), case["when"].strftime("%Y%m%dT%H%M%SZ"),
        case["region"],
    ]
    return "\t".join(fields)


def unescape_lines(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def find_binary(explicit):
    if explicit:
        return explicit
    if os.environ.get("SIGV4_CANON"):
        return os.environ["SIGV4_CANON"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for build in sorted(os.listdir(root)):
        candidate = os.path.join(root, build, "sigv4_canon")
        if build.startswith("build") and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("sigv4_canon not found: build it (make sigv4_canon) or pass --binary")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: time-based; printed for reproduction)")
    parser.add_argument("--binary", default=None, help="path to sigv4_canon")
    args = parser.parse_args()

    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    binary = find_binary(args.binary)
    started = time.monotonic()

    cases, expected, lines = [], [], []
    for _ in range(args.count):
        case = make_case(rng)
        signature, canonical, payload_hash = sign_with_botocore(case)
        cases.append(case)
        expected.append((signature, canonical))
        lines.append(helper_line(case, payload_hash))

    result = subprocess.run([binary], input="\n".join(lines) + "\n", capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit("sigv4_canon failed (%d): %s" % (result.returncode, result.stderr))
    outputs = result.stdout.split("\n")

    passed = 0
    for index, case in enumerate(cases):
        out = outputs[index].split("\t") if index < len(outputs) else ["ERR", "no output"]
        want_signature, want_canonical = expected[index]
        ok = out[0] == "OK" and out[1] == want_signature
        url_ok = True
        if ok:
            url = out[2]
            # The URL imgsync sends: the same path botocore's serializer builds, and a query that
            # decodes to exactly the parameters that were signed.
            url_ok = urlsplit(url).path == urlsplit(case["url"]).path
            sent = parse_qsl(urlsplit(url).query, keep_blank_values=True)
            url_ok = url_ok and sorted(sent) == sorted(case["query"])
        if not ok or not url_ok:
            print("MISMATCH in case %d (seed %d)" % (index, seed))
            print("key: %r" % case["key"])
            print("query: %r" % (case["query"],))
            print("headers: %r" % (case["headers"],))
            print("botocore URL: %s" % case["url"])
            print("botocore signature: %s" % want_signature)
            print("---- botocore canonical request ----\n%s" % want_canonical)
            if out[0] == "OK":
                print("imgsync URL: %s" % out[2])
                print("imgsync signature: %s" % out[1])
                print("---- imgsync canonical request ----\n%s" % unescape_lines(out[3]))
            else:
                print("imgsync: %s" % "\t".join(out))
            print("%d passed, 1 failed" % passed)
            return 1
        passed += 1

    elapsed = time.monotonic() - started
    print("seed %d, %.1f s" % (seed, elapsed))
    print("%d passed, 0 failed" % passed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
