#!/usr/bin/python3
"""metadata_server - the AWS credential endpoints that exist only inside AWS, for imgsync's tests.

Serves on 127.0.0.1 only (stdlib http.server, one thread per connection):

  IMDSv2       PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds), then with
               X-aws-ec2-metadata-token: GET /latest/meta-data/iam/security-credentials/ (the
               role name), .../ROLE (the credentials), /latest/meta-data/placement/region.
               A request without a valid token gets 401, as IMDSv2 with tokens required does.
  container    GET /container/ANYTHING with Authorization: TOKEN (ECS and EKS Pod Identity);
               another or no token gets 401.
  STS          POST /sts Action=AssumeRoleWithWebIdentity: the WebIdentityToken must equal the
               contents of --web-token-file (re-read each time).
  stats        GET /_stats: JSON counts of what was asked.

The credentials it hands out are real temporary credentials: each answer asks radosgw's STS for
an AssumeRole of --role-arn (with the keys in RGW_ACCESS_KEY / RGW_SECRET_KEY from the
environment, through botocore), so radosgw accepts them. The Expiration it announces is
now + --expires seconds, short, so that a pass has to refresh them.

--hang: accept connections and never answer (a metadata service that hangs).

Usage: metadata_server.py --port-file FILE --rgw-endpoint URL --role-arn ARN [--expires N]
                          [--container-token T] [--web-token-file F] [--region R] [--hang]
                          [--issued-file F] [--max-seconds N]
--issued-file: every secret key and session token handed out is appended to F.
"""
import argparse
import datetime
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

ROLE = "imgsync-test-role"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--rgw-endpoint", required=True)
    ap.add_argument("--role-arn", required=True)
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--container-token", default="")
    ap.add_argument("--web-token-file", default="")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--issued-file", default="")
    ap.add_argument("--hang", action="store_true")
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()

    sts = botocore.session.get_session().create_client(
        "sts", endpoint_url=args.rgw_endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ["RGW_ACCESS_KEY"],
        aws_secret_access_key=os.environ["RGW_SECRET_KEY"])
    lock = threading.Lock()
    stats = {"imds_token": 0, "imds_role": 0, "imds_credentials": 0, "imds_unauthorized": 0,
             "container": 0, "container_unauthorized": 0, "web_identity": 0,
             "web_identity_refused": 0, "requests": 0}
    tokens = set()

    def count(name):
        with lock:
            stats[name] += 1

    def fresh_credentials():
        with lock:  # botocore clients are not meant to be shared across threads
            c = sts.assume_role(RoleArn=args.role_arn, DurationSeconds=900,
                                RoleSessionName="metadata-%d" % time.time())["Credentials"]
            if args.issued_file:  # so the suite can check that imgsync never shows them
                with open(args.issued_file, "a") as f:
                    f.write("%s\n%s\n" % (c["SecretAccessKey"], c["SessionToken"]))
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=args.expires)
        return {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                "Token": c["SessionToken"],
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the suite reads /_stats
            pass

        def answer(self, status, body, ctype="text/plain"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def hang(self):
            time.sleep(min(60, args.max_seconds))
            self.close_connection = True

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n > 0 else b""

        def do_PUT(self):
            count("requests")
            if args.hang:
                return self.hang()
            self.body()
            if self.path != "/latest/api/token":
                return self.answer(404, "not found")
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.answer(400, "missing ttl")
            token = secrets.token_urlsafe(24)
            with lock:
                tokens.add(token)
            count("imds_token")
            self.answer(200, token)

        def do_GET(self):
            count("requests")
            if self.path == "/_stats":
                with lock:
                    return self.answer(200, json.dumps(stats), "application/json")
            if args.hang:
                return self.hang()
            if self.path.startswith("/latest/"):
                with lock:
                    ok = self.headers.get("X-aws-ec2-metadata-token") in tokens
                if not ok:
                    count("imds_unauthorized")
                    return self.answer(401, "unauthorized")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    count("imds_role")
                    return self.answer(200, ROLE)
                if self.path == base + ROLE:
                    count("imds_credentials")
                    c = fresh_credentials()
                    c.update({"Code": "Success", "Type": "AWS-HMAC",
                              "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
                    return self.answer(200, json.dumps(c), "application/json")
                if self.path == "/latest/meta-data/placement/region":
                    return self.answer(200, args.region)
                return self.answer(404, "not found")
            if self.path.startswith("/container/"):
                if not args.container_token or \
                        self.headers.get("Authorization") != args.container_token:
                    count("container_unauthorized")
                    return self.answer(401, '{"code":"Unauthorized"}', "application/json")
                count("container")
                c = fresh_credentials()
                c["RoleArn"] = args.role_arn
                return self.answer(200, json.dumps(c), "application/json")
            self.answer(404, "not found")

        def do_POST(self):
            count("requests")
            if args.hang:
                return self.hang()
            form = urllib.parse.parse_qs(self.body().decode())
            if self.path != "/sts" or form.get("Action") != ["AssumeRoleWithWebIdentity"]:
                return self.answer(400, "unsupported")
            try:
                expected = open(args.web_token_file).read().strip()
            except OSError:
                expected = None
            if not expected or form.get("WebIdentityToken") != [expected] or \
                    not form.get("RoleArn") or not form.get("RoleSessionName"):
                count("web_identity_refused")
                return self.answer(
                    403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                         "<Message>token refused</Message></Error></ErrorResponse>",
                    "text/xml")
            count("web_identity")
            c = fresh_credentials()
            xml = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                   "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s"
                   "</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
                   "</Credentials></AssumeRoleWithWebIdentityResult>"
                   "</AssumeRoleWithWebIdentityResponse>") % (
                c["AccessKeyId"], c["SecretAccessKey"], c["Token"], c["Expiration"])
            self.answer(200, xml, "text/xml")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    threading.Timer(args.max_seconds, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
