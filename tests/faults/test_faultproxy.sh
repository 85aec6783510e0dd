#!/usr/bin/env bash
# test_faultproxy.sh - self-test of tests/faults/faultproxy.py against a real radosgw (reuses a
# running one, see tests/lib.sh with_rgw) and against a byte-capturing stub upstream.
# Clients: curl --aws-sigv4 (tests/lib.sh s3_* helpers) and python3 (raw sockets, botocore).
# Knobs: FP_BIG_MB (size of the streamed object, default 128; 0 skips that test).
# imgsync-test: binary-independent   (run-tests.sh runs this suite once, not per imgsync build)
# Its tests build on each other (the object pass/mid.bin, the proxy's rules and counters, the proxy
# stopped last), so they are not 'if t_begin' blocks: with T_ONLY (tests/lib.sh) the tests it does
# not select still run, silently, and only the selected ones count.
. "$(dirname "$0")/../lib.sh"

with_rgw
FAULTS_DIR=$T_LIB_DIR/faults
B=$(t_bucket fp)
s3_mkbucket "$B" || t_die "cannot create bucket $B: $S3_STATUS $(cat "$S3_BODY")"
fp_start || t_die "faultproxy did not start"
echo "faultproxy on $FP_ENDPOINT (pid $FP_PID), radosgw on $RGW_ENDPOINT, bucket $B"

via_proxy() { S3_ENDPOINT=$FP_ENDPOINT; }
direct() { S3_ENDPOINT=$RGW_ENDPOINT; }
elapsed_since() { echo $((${EPOCHREALTIME/./} / 1000 - $1)); } # ms
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

make_file "$T_TMP/small" 30000
make_file "$T_TMP/mid" $((2 * 1024 * 1024 + 17)) # > 1 MiB: curl sends Expect: 100-continue
make_file "$T_TMP/kb100" 100000

# ---------------------------------------------------------------------------------------------
t_begin "signed PUT passes through and verifies upstream (200)"
via_proxy
s3_put "$B/pass/mid.bin" "$T_TMP/mid" -H 'x-amz-meta-origin: proxy' &&
    assert_eq 200 "$S3_STATUS" && t_ok || t_fail "status $S3_STATUS curl $S3_CURL_RC $(cat "$S3_BODY")"

t_begin "object reads back identical (through the proxy and directly)"
via_proxy
s3_get "$B/pass/mid.bin" "$T_TMP/mid.back1" && assert_files_eq "$T_TMP/mid" "$T_TMP/mid.back1" &&
    direct && s3_get "$B/pass/mid.bin" "$T_TMP/mid.back2" &&
    assert_files_eq "$T_TMP/mid" "$T_TMP/mid.back2" &&
    assert_eq proxy "$(s3_header "$B/pass/mid.bin" x-amz-meta-origin)" "x-amz-meta-origin" &&
    t_ok || t_fail "status $S3_STATUS curl $S3_CURL_RC"

t_begin "awkward key passes through (SigV4 over an encoded path)"
via_proxy
K="pass/a b+~*'()!@\$%=&;,#[]{}^ é 日本 Привет.jpg"
s3_put "$B/$K" "$T_TMP/small" && s3_get "$B/$K" "$T_TMP/small.back" &&
    assert_files_eq "$T_TMP/small" "$T_TMP/small.back" &&
    assert_contains "$(direct; s3_list "$B" pass/)" "$K" "listing" && t_ok ||
    t_fail "status $S3_STATUS $(cat "$S3_BODY")"

t_begin "a wrong secret is still refused upstream (403 SignatureDoesNotMatch)"
via_proxy
S3_SECRET_KEY=wrong-secret-0000000000000000000000000000 s3_get "$B/pass/mid.bin" "$T_TMP/x"
assert_eq 403 "$S3_STATUS" && assert_contains "$(cat "$S3_BODY")" SignatureDoesNotMatch && t_ok

t_begin "keep-alive: two requests on one client connection"
c0=$(fp_stat connections)
out=$(curl -sS -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    "$FP_ENDPOINT/$B/pass/mid.bin" "$FP_ENDPOINT/$B/pass/mid.bin")
c1=$(fp_stat connections)
# (fp_stat itself opens one connection per call)
assert_eq "200:1 200:0 " "$out" "curl codes:connects" && assert_eq 2 $((c1 - c0)) "new proxy connections" && t_ok

t_begin "PUT to a missing bucket with Expect: 100-continue gets the upstream error"
via_proxy
s3_put "nosuchbucket-$RANDOM$RANDOM/x" "$T_TMP/mid"
assert_eq 404 "$S3_STATUS" && assert_contains "$(cat "$S3_BODY")" NoSuchBucket && t_ok

t_begin "chunked request body through to radosgw (POST ?uploads), then keep-alive"
out=$(timeout 60 "$T_PY" - "$FP_PORT" "$B" <<'PY' 2>&1
import http.client, os, re, sys
import botocore.auth, botocore.awsrequest, botocore.credentials
port, bucket = int(sys.argv[1]), sys.argv[2]
creds = botocore.credentials.Credentials(os.environ["RGW_ACCESS_KEY"], os.environ["RGW_SECRET_KEY"])
def signed(method, path):
    r = botocore.awsrequest.AWSRequest(method=method, url="http://127.0.0.1:%d%s" % (port, path),
                                       headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(r)
    return r.headers
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
path = "/%s/chunked/obj?uploads" % bucket
c.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
c.putheader("Host", "127.0.0.1:%d" % port)
for k, v in signed("POST", path).items():
    c.putheader(k, v)
c.putheader("Transfer-Encoding", "chunked")
c.endheaders()
body = os.urandom(50000)
for i in range(0, len(body), 7000):
    piece = body[i:i + 7000]
    c.send(b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n")
c.send(b"0\r\n\r\n")
r = c.getresponse(); text = r.read().decode()
up = re.search(r"<UploadId>([^<]+)</UploadId>", text)
print("initiate", r.status)
# same connection: abort that upload
path2 = "/%s/chunked/obj?uploadId=%s" % (bucket, up.group(1) if up else "x")
c.putrequest("DELETE", path2, skip_host=True, skip_accept_encoding=True)
c.putheader("Host", "127.0.0.1:%d" % port)
for k, v in signed("DELETE", path2).items():
    c.putheader(k, v)
c.endheaders()
r2 = c.getresponse(); r2.read()
print("abort", r2.status)
PY
)
assert_contains "$out" "initiate 200" && assert_contains "$out" "abort 204" && t_ok

t_begin "byte-for-byte: chunked/Content-Length requests and a chunked response (stub upstream)"
cat >"$T_TMP/stub.py" <<'PY'
# stub upstream + raw client; uses faultproxy's own framing parser
import hashlib, os, socket, sys, threading
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import faultproxy as fp
mode = sys.argv[2]
if mode == "stub":
    portfile, cap_in, cap_out = sys.argv[3:6]
    ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(4); ls.settimeout(60)
    open(portfile + ".tmp", "w").write(str(ls.getsockname()[1])); os.replace(portfile + ".tmp", portfile)
    cs, _ = ls.accept(); cs.settimeout(30)
    rd = fp.Reader(cs); fin = open(cap_in, "wb"); fout = open(cap_out, "wb")
    while True:
        head = rd.read_head()
        if not head:
            break
        req = fp.Request(head); fin.write(head); h = hashlib.sha256(head)
        def take(d):
            fin.write(d); h.update(d)
        fp.copy_body(rd, req.framing, req.length, take)
        dig = h.hexdigest().encode()
        resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Stub: yes\r\n\r\n"
                b"5;ext=a\r\nhello\r\n" + b"%x\r\n" % len(dig) + dig + b"\r\n0\r\nX-Trailer: t\r\n\r\n")
        cs.sendall(resp); fout.write(resp); fin.flush(); fout.flush()
    cs.close()
else:
    port, sent_f, recv_f = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    rd = fp.Reader(s); sent = open(sent_f, "wb"); recv = open(recv_f, "wb")
    host = b"Host: 127.0.0.1:%d\r\n" % port
    body = os.urandom(3 * 1024 * 1024 + 5)
    chunks, i, n = [], 0, 1
    while i < len(body):
        chunks.append(b"%X;name=val\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n")
        i += n; n = n * 3 + 1
    reqs = [
        b"PUT /b/k%20%E6%97%A5?partNumber=1&uploadId=x HTTP/1.1\r\n" + host +
        b"X-Amz-Date: 20200101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 whatever\r\n"
        b"transfer-encoding:   chunked\r\nX-Odd-Case:  two  spaces \r\n\r\n" +
        b"".join(chunks) + b"0\r\nX-Amz-Checksum-Crc32: AAAAAA==\r\nX-Other: 1\r\n\r\n",
        b"POST /b/k HTTP/1.1\r\n" + host + b"Content-Length: 100000\r\n\r\n" + body[:100000],
        b"GET /b/k HTTP/1.1\r\n" + host + b"\r\n",
    ]
    for r in reqs:
        s.sendall(r); sent.write(r)
        head = rd.read_head(); recv.write(head)
        resp = fp.Response(head, "GET")
        fp.copy_body(rd, resp.framing, resp.length, recv.write)
    s.close(); print("client done")
PY
"$T_PY" "$T_TMP/stub.py" "$FAULTS_DIR" stub "$T_TMP/stub.port" "$T_TMP/stub.in" "$T_TMP/stub.out" \
    >"$T_TMP/stub.log" 2>&1 &
STUB_PID=$!
t_on_exit kill "$STUB_PID"
for _ in $(seq 1 100); do [ -s "$T_TMP/stub.port" ] && break; sleep 0.05; done
SAVED_FP=("$FP_PORT" "$FP_ENDPOINT" "$FP_PID" "$FP_CONTROL" "$FP_STATS" "$FP_LOG")
FP_UPSTREAM_PORT=$(cat "$T_TMP/stub.port") fp_start
timeout 60 "$T_PY" "$T_TMP/stub.py" "$FAULTS_DIR" client "$FP_PORT" "$T_TMP/cl.sent" "$T_TMP/cl.recv" \
    >"$T_TMP/client.log" 2>&1
crc=$?
fp_stop
wait "$STUB_PID" 2>/dev/null
assert_eq 0 "$crc" "client exit ($(tail -n 3 "$T_TMP/client.log" "$T_TMP/stub.log"))" &&
    assert_files_eq "$T_TMP/cl.sent" "$T_TMP/stub.in" &&
    assert_files_eq "$T_TMP/stub.out" "$T_TMP/cl.recv" &&
    assert_eq 3 "$(grep -c ' REQ ' "$FP_LOG")" "requests logged" && t_ok
FP_PORT=${SAVED_FP[0]} FP_ENDPOINT=${SAVED_FP[1]} FP_PID=${SAVED_FP[2]}
FP_CONTROL=${SAVED_FP[3]} FP_STATS=${SAVED_FP[4]} FP_LOG=${SAVED_FP[5]}

if [ "${FP_BIG_MB:-128}" -gt 0 ]; then
    t_begin "streams a ${FP_BIG_MB:-128} MiB PUT and GET without holding it in memory"
    make_file "$T_TMP/big" $((${FP_BIG_MB:-128} * 1024 * 1024))
    via_proxy
    t0=$(now_ms)
    S3_TIMEOUT=600 s3_put "$B/big/obj" "$T_TMP/big" && S3_TIMEOUT=600 s3_get "$B/big/obj" "$T_TMP/big.back" &&
        assert_files_eq "$T_TMP/big" "$T_TMP/big.back" && {
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$FP_PID/status")
        echo "     (PUT+GET $(elapsed_since "$t0") ms, proxy peak RSS ${hwm} kB)"
        [ "$hwm" -lt 81920 ] || t_fail "proxy peak RSS ${hwm} kB"
    } && t_ok || t_fail "status $S3_STATUS curl $S3_CURL_RC"
    rm -f "$T_TMP/big" "$T_TMP/big.back"
    direct
    s3_delete "$B/big/obj"
fi

# ---------------------------------------------------------------------------------------------
t_begin "503slowdown:every=3 answers every third GET with an S3 SlowDown error"
via_proxy
fp_reset
fp_rules "503slowdown:every=3:method=GET:retry-after=2"
codes=""
for i in 1 2 3 4 5 6; do
    s3_get "$B/pass/mid.bin" "$T_TMP/x"
    codes+="$S3_STATUS "
    if [ "$S3_STATUS" = 503 ]; then
        body503=$(cat "$S3_BODY")
        ra=$(tr -d '\r' <"$S3_HEADERS" | sed -n 's/^[Rr]etry-[Aa]fter: //p')
    fi
done
assert_eq "200 200 503 200 200 503 " "$codes" "statuses" &&
    assert_contains "$body503" "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>" &&
    assert_eq 2 "$ra" "Retry-After" && assert_eq 2 "$(fp_stat faults.503slowdown)" "stats faults.503slowdown" &&
    assert_eq 6 "$(fp_stat requests)" "stats requests" && assert_eq 4 "$(fp_stat responses.200)" "stats 200s" &&
    t_ok

t_begin "a 503 SlowDown on PUT with Expect: 100-continue; the client may retry"
fp_rules "503slowdown:count=1:method=PUT"
s3_put "$B/slow/mid.bin" "$T_TMP/mid"
c1=$S3_STATUS
s3_put "$B/slow/mid.bin" "$T_TMP/mid"
assert_eq 503 "$c1" "first PUT" && assert_eq 200 "$S3_STATUS" "second PUT" && t_ok

t_begin "500:count=2 fails the first two requests only"
fp_reset
fp_rules "500:count=2"
codes=""
for i in 1 2 3 4; do
    s3_get "$B/pass/mid.bin" "$T_TMP/x"
    codes+="$S3_STATUS "
done
fp_rules "500:count=1:id=again" # new rule text: fresh counters
s3_get "$B/pass/mid.bin" "$T_TMP/x"
assert_eq "500 500 200 200 " "$codes" "statuses" && assert_eq 500 "$S3_STATUS" "re-armed rule" &&
    assert_contains "$(cat "$S3_BODY")" "<Code>InternalError</Code>" &&
    assert_eq 3 "$(fp_stat faults.500)" "stats faults.500" && t_ok

t_begin "method= filter: 500:method=GET leaves PUT alone"
fp_rules "500:method=GET"
s3_put "$B/filter/a" "$T_TMP/small"
p=$S3_STATUS
s3_get "$B/filter/a" "$T_TMP/x"
assert_eq 200 "$p" "PUT" && assert_eq 500 "$S3_STATUS" "GET" && t_ok

t_begin "path= and query= filters"
fp_rules "500:path=/special/" "error:status=400:code=BadDigest:message=bad%20digest:query=partNumber"
s3_put "$B/special/a" "$T_TMP/small"
a=$S3_STATUS
s3_put "$B/normal/a" "$T_TMP/small"
b=$S3_STATUS
s3_curl PUT "/$B/normal/part?partNumber=1&uploadId=nope" UNSIGNED-PAYLOAD -T "$T_TMP/small"
assert_eq "500 200 400" "$a $b $S3_STATUS" && assert_contains "$(cat "$S3_BODY")" "<Code>BadDigest</Code><Message>bad digest</Message>" && t_ok

t_begin "control file: faults switch on and off mid-run; a bad file keeps the previous rules"
fp_rules "503"
s3_get "$B/pass/mid.bin" "$T_TMP/x"
a=$S3_STATUS
fp_rules "no-such-kind:count=1"
s3_get "$B/pass/mid.bin" "$T_TMP/x"
b=$S3_STATUS
cerr=$(fp_stat control_error)
fp_rules
s3_get "$B/pass/mid.bin" "$T_TMP/x"
assert_eq "503 503 200" "$a $b $S3_STATUS" && assert_contains "$cerr" "unknown fault kind" && t_ok

t_begin "drop-request: the client loses the connection mid-body; nothing reaches upstream"
fp_reset
fp_rules "drop-request:count=1:method=PUT" "drop-request:count=1:method=PUT:bytes=0:rst=1:id=2"
s3_put "$B/drop/mid.bin" "$T_TMP/mid" # Expect: 100-continue, half a MiB read, then closed
a="$S3_STATUS/$S3_CURL_RC"
s3_put "$B/drop/small.bin" "$T_TMP/kb100" # closed with RST right after the head
b="$S3_STATUS/$S3_CURL_RC"
direct
s3_exists "$B/drop/mid.bin"
e1=$S3_STATUS
s3_exists "$B/drop/small.bin"
e2=$S3_STATUS
via_proxy
s3_put "$B/drop/mid.bin" "$T_TMP/mid"
assert_match "$a" '^(000|100)/(52|55|56)$' "first PUT status/curl rc" && assert_match "$b" '^000/(52|55|56)$' "second PUT status/curl rc" &&
    assert_eq "404 404" "$e1 $e2" "upstream HEADs" && assert_eq 200 "$S3_STATUS" "third PUT" &&
    assert_eq 2 "$(fp_stat faults.drop-request)" "stats faults.drop-request" &&
    assert_contains "$(grep 'FAULT kind=drop-request' "$FP_LOG" | head -1)" "PUT /$B/drop/mid.bin" "log" && t_ok

t_begin "drop-response: stored upstream, but the client never sees the answer"
fp_reset
fp_rules "drop-response:count=1:method=PUT"
s3_put "$B/dropresp/mid.bin" "$T_TMP/mid"
a="$S3_STATUS/$S3_CURL_RC"
direct
s3_get "$B/dropresp/mid.bin" "$T_TMP/x"
assert_match "$a" '^(000|100)/52$' "PUT status/curl rc" && assert_eq 200 "$S3_STATUS" "upstream GET" &&
    assert_files_eq "$T_TMP/mid" "$T_TMP/x" && assert_eq 1 "$(fp_stat faults.drop-response)" && t_ok

t_begin "drop-response:bytes=N cuts a GET short"
via_proxy
fp_rules "drop-response:count=1:method=GET:bytes=5000"
s3_get "$B/pass/mid.bin" "$T_TMP/x"
assert_eq "200/18" "$S3_STATUS/$S3_CURL_RC" "status/curl rc (18: partial file)" && t_ok

t_begin "stall: a client with a 1 s timeout gives up; the proxy notices and frees the connection"
fp_reset
fp_rules "stall:seconds=20:count=1:method=GET"
t0=$(now_ms)
S3_TIMEOUT=1 s3_get "$B/pass/mid.bin" "$T_TMP/x"
a="$S3_STATUS/$S3_CURL_RC"
sleep 0.5
assert_eq "000/28" "$a" "status/curl rc" && assert_match "$(grep ' REQ ' "$FP_LOG" | tail -1)" 'client-gone' "log" &&
    assert_eq 1 "$(fp_stat faults.stall)" && t_ok

t_begin "stall:seconds=1.5 delays the response, which then arrives whole"
fp_rules "stall:seconds=1.5:count=1:method=GET" "stall:seconds=1:phase=request:count=1:method=HEAD"
t0=$(now_ms)
s3_get "$B/pass/mid.bin" "$T_TMP/x"
ms=$(elapsed_since "$t0")
t1=$(now_ms)
s3_exists "$B/pass/mid.bin"
ms2=$(elapsed_since "$t1")
assert_eq 200 "$S3_STATUS" && assert_files_eq "$T_TMP/mid" "$T_TMP/x" &&
    { [ "$ms" -ge 1400 ] && [ "$ms2" -ge 900 ] || t_fail "took only $ms / $ms2 ms"; } && t_ok

t_begin "trickle:bps=30000 sends a 30 kB object over about a second"
s3_put "$B/trickle/small" "$T_TMP/small"
fp_rules "trickle:bps=30000:count=1:method=GET"
t0=$(now_ms)
s3_get "$B/trickle/small" "$T_TMP/x"
ms=$(elapsed_since "$t0")
assert_eq 200 "$S3_STATUS" && assert_files_eq "$T_TMP/small" "$T_TMP/x" &&
    { [ "$ms" -ge 900 ] && [ "$ms" -le 8000 ] || t_fail "took $ms ms"; } && assert_eq 1 "$(fp_stat faults.trickle)" && t_ok

t_begin "skew:seconds=-3600: 403 RequestTimeTooSkewed with a server Date an hour behind"
fp_rules "skew:seconds=-3600:count=1"
s3_get "$B/pass/mid.bin" "$T_TMP/x"
d=$(tr -d '\r' <"$S3_HEADERS" | sed -n 's/^[Dd]ate: //p')
off=$(($(date -d "$d" +%s) - $(date +%s)))
assert_eq 403 "$S3_STATUS" && assert_contains "$(cat "$S3_BODY")" "<Code>RequestTimeTooSkewed</Code>" &&
    { [ "$off" -ge -3610 ] && [ "$off" -le -3590 ] || t_fail "Date offset $off s"; } && t_ok

t_begin "date-offset rewrites only the Date of a real answer"
fp_rules "date-offset:seconds=7200:count=1"
s3_get "$B/pass/mid.bin" "$T_TMP/x"
d=$(tr -d '\r' <"$S3_HEADERS" | sed -n 's/^[Dd]ate: //p')
off=$(($(date -d "$d" +%s) - $(date +%s)))
assert_eq 200 "$S3_STATUS" && assert_files_eq "$T_TMP/mid" "$T_TMP/x" &&
    { [ "$off" -ge 7190 ] && [ "$off" -le 7210 ] || t_fail "Date offset $off s"; } && t_ok

t_begin "stats: file and endpoint agree; every request and fault is logged"
fp_rules
s3_get "$B/pass/mid.bin" "$T_TMP/x"
sleep 0.2
f_req=$("$T_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$FP_STATS")
e_req=$(fp_stat requests)
log_req=$(grep -c ' REQ ' "$FP_LOG")
f_total=$(fp_stat faults_total)
log_faults=$(grep -c ' FAULT ' "$FP_LOG")
# the log spans the whole run, the counters only since the last fp_reset
assert_eq "$e_req" "$f_req" "requests: file vs endpoint" && { [ "$log_req" -ge "$e_req" ] || t_fail "log has $log_req REQ lines"; } &&
    { [ "$log_faults" -ge "$f_total" ] && [ "$f_total" -ge 4 ] || t_fail "faults_total $f_total, log $log_faults"; } && t_ok

t_begin "SIGTERM stops the proxy within 2 s; --max-seconds stops it by itself"
t0=$(now_ms)
fp_stop
ms=$(elapsed_since "$t0")
gone=$(kill -0 "$FP_PID" 2>/dev/null && echo alive || echo gone)
FP_MAX_SECONDS=1 fp_start
sleep 2.5
gone2=$(kill -0 "$FP_PID" 2>/dev/null && echo alive || echo gone)
assert_eq gone "$gone" "after SIGTERM" && assert_eq gone "$gone2" "after --max-seconds 1" &&
    { [ "$ms" -le 2000 ] || t_fail "SIGTERM took $ms ms"; } && assert_contains "$(tail -n 1 "$FP_LOG")" "STOP" && t_ok

direct
s3_rmbucket "$B" --force >/dev/null 2>&1
t_finish
