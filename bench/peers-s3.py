#!/usr/bin/python3
"""bench/peers-s3.py: the S3 chores of bench/peers, done outside the timed runs.

Speaks S3 through Debian's python3-botocore (path-style, SigV4). Endpoint from PEERS_ENDPOINT,
region from AWS_REGION, keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (never from argv).

  verify BUCKET DIR [SPOTS]  ListObjectsV2 the whole bucket; compare keys and sizes with the
                             files under DIR (key = path relative to DIR); GET SPOTS objects
                             (default 3; ranged GETs of head, middle and tail for files over
                             64 MiB) and compare the bytes. Prints one line:
                             "ok COUNT BYTES" or "invalid COUNT BYTES REASON".
  png FILE SIZE              write a real, decodable PNG of exactly SIZE bytes: a 1x1 grey
                             image whose bulk is one private ancillary chunk of random bytes.
  mkmillion SRC DST ROWS     copy the state file SRC (SQLite backup API) to DST and add rows
                             until it holds ROWS images; the added rows point at paths that
                             do not exist and were added later than every real one, so a
                             pass with --max-images <= the real rows never reaches them.
"""
import os
import random
import sys
import zlib


def client():
    import botocore.session
    from botocore.config import Config

    s = botocore.session.get_session()
    return s.create_client(
        "s3",
        endpoint_url=os.environ["PEERS_ENDPOINT"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                      retries={"max_attempts": 5}, read_timeout=300),
    )


def list_all(c, bucket):
    objs, token = {}, None
    while True:
        kw = {"Bucket": bucket, "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        r = c.list_objects_v2(**kw)
        for o in r.get("Contents", []):
            objs[o["Key"]] = o["Size"]
        if not r.get("IsTruncated"):
            return objs
        token = r["NextContinuationToken"]


def local_files(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = (p, os.path.getsize(p))
    return out


def verify(bucket, root, spots=3):
    c = client()
    objs = list_all(c, bucket)
    want = local_files(root)
    count, total = len(objs), sum(objs.values())
    missing = sorted(set(want) - set(objs))
    extra = sorted(set(objs) - set(want))
    if missing or extra:
        return "invalid %d %d %d missing (e.g. %s), %d unexpected (e.g. %s)" % (
            count, total, len(missing), missing[:1], len(extra), extra[:1])
    bad = [k for k in want if objs[k] != want[k][1]]
    if bad:
        return "invalid %d %d size differs for %d objects (e.g. %s)" % (count, total, len(bad), bad[0])
    rng = random.Random(count)
    for key in rng.sample(sorted(want), min(spots, len(want))):
        path, size = want[key]
        ranges = [(0, size)]
        if size > 64 << 20:
            m = 1 << 20
            ranges = [(0, m), (size // 2 - m // 2, m), (size - m, m)]
        with open(path, "rb") as f:
            for off, n in ranges:
                kw = {"Bucket": bucket, "Key": key}
                if (off, n) != (0, size):
                    kw["Range"] = "bytes=%d-%d" % (off, off + n - 1)
                got = c.get_object(**kw)["Body"].read()
                f.seek(off)
                if got != f.read(n):
                    return "invalid %d %d bytes of %s differ at %d+%d" % (count, total, key, off, n)
    return "ok %d %d" % (count, total)


def chunk(typ, data, crc=None):
    if crc is None:
        crc = zlib.crc32(typ + data)
    return len(data).to_bytes(4, "big") + typ + data + (crc & 0xFFFFFFFF).to_bytes(4, "big")


def png(path, size):
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0]))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    iend = chunk(b"IEND", b"")
    bulk = size - len(sig) - len(ihdr) - len(idat) - len(iend) - 12
    if bulk < 0 or bulk >= 1 << 31:
        sys.exit("png: size must be between %d bytes and 2 GiB" % (size - bulk))
    typ = b"bnCh"  # ancillary, private, safe to copy: decoders skip it
    with open(path + ".tmp", "wb") as f:
        f.write(sig + ihdr + bulk.to_bytes(4, "big") + typ)
        crc, left = zlib.crc32(typ), bulk
        while left:
            b = os.urandom(min(left, 16 << 20))
            crc = zlib.crc32(b, crc)
            f.write(b)
            left -= len(b)
        f.write((crc & 0xFFFFFFFF).to_bytes(4, "big") + idat + iend)
    os.replace(path + ".tmp", path)


def mkmillion(src, dst, rows):
    import sqlite3

    s = sqlite3.connect(src)
    d = sqlite3.connect(dst)
    s.backup(d)
    s.close()
    d.execute("PRAGMA synchronous = OFF")  # a throwaway copy: no need to survive a power cut
    d.execute("PRAGMA cache_size = -262144")
    have, last = d.execute("SELECT count(*), max(added_at) FROM images").fetchone()
    tmpl = d.execute("SELECT size, mtime_ns, sha256, md5, content_type FROM images LIMIT 1").fetchone()
    base = os.path.join(os.path.dirname(os.path.abspath(dst)), "not-there")
    with d:
        d.executemany(
            "INSERT INTO images (path, key, size, mtime_ns, sha256, md5, content_type, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((os.path.join(base, "%07d.jpg" % i), "million/%07d.jpg" % i) + tmpl + (last + 1 + i // 10000,)
             for i in range(rows - have)))
    d.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "verify":
        print(verify(args[0], args[1], int(args[2]) if len(args) > 2 else 3))
    elif cmd == "png":
        png(args[0], int(args[1]))
    elif cmd == "mkmillion":
        mkmillion(args[0], args[1], int(args[2]))
    else:
        sys.exit("unknown command " + cmd)
