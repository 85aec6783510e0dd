#!/usr/bin/python3
"""credential_process helper for imgsync's credentials suite: a program, as the AWS CLI's
credential_process protocol expects (JSON Version 1 on stdout).

  credential_process.py --keys-file F --rgw-endpoint URL --role-arn ARN [--expires N]
                        [--count-file F] [--mode MODE]

The long-term keys come from --keys-file ("ACCESS_KEY SECRET_KEY"), a file only this helper
reads (a vault, in real life), never from imgsync's environment or files. Modes:
  temporary  (default) AssumeRole at radosgw's STS; print those credentials with an Expiration
             of now + --expires seconds
  static     print the long-term keys, without SessionToken and Expiration
  fail       print the secret key on stderr and exit 3 (imgsync must not show it)
  bad-json   print something that is not JSON
  version2   print "Version": 2
Each run appends a line to --count-file.
"""
import argparse
import datetime
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys-file", required=True)
    ap.add_argument("--rgw-endpoint", default="")
    ap.add_argument("--role-arn", default="")
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--count-file", default="")
    ap.add_argument("--mode", default="temporary")
    a = ap.parse_args()
    if a.count_file:
        with open(a.count_file, "a") as f:
            f.write("%d\n" % time.time())
    access, secret = open(a.keys_file).read().split()
    if a.mode == "fail":
        sys.stderr.write("helper: vault refused, secret was %s\n" % secret)
        return 3
    if a.mode == "bad-json":
        print("{\"Version\": 1, \"AccessKeyId\": ")
        return 0
    if a.mode == "version2":
        print(json.dumps({"Version": 2, "AccessKeyId": access, "SecretAccessKey": secret}))
        return 0
    if a.mode == "static":
        print(json.dumps({"Version": 1, "AccessKeyId": access, "SecretAccessKey": secret}))
        return 0
    import botocore.session
    sts = botocore.session.get_session().create_client(
        "sts", endpoint_url=a.rgw_endpoint, region_name="us-east-1",
        aws_access_key_id=access, aws_secret_access_key=secret)
    c = sts.assume_role(RoleArn=a.role_arn, RoleSessionName="process-%d" % time.time(),
                        DurationSeconds=900)["Credentials"]
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=a.expires)
    print(json.dumps({"Version": 1, "AccessKeyId": c["AccessKeyId"],
                      "SecretAccessKey": c["SecretAccessKey"], "SessionToken": c["SessionToken"],
                      "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
