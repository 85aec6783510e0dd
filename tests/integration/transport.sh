#!/usr/bin/env bash
# The transport and what imgsync says about it: bodies curl must resend after a kept-alive
# connection died (the seek callback), where credentials came from, which proxy applies, and
# SSLKEYLOGFILE (never honoured). Everything on 127.0.0.1: radosgw, tests/faults/faultproxy.py,
# and an `openssl s_server` with a self-signed certificate.
. "$(dirname "$0")/../lib.sh"
with_rgw
fp_start || t_die "no fault proxy"
imgsync_env "$FP_ENDPOINT"
export T_CMD_TIMEOUT=120
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY SSLKEYLOGFILE

fresh() { # NAME COUNT [seed options...]: a state file with COUNT seeded images, no faults
    local name=$1 count=$2
    shift 2
    export IMGSYNC_DB=$T_TMP/$name.db IMGSYNC_PREFIX=$name/
    imgsync_run seed --count "$count" "$@" >/dev/null 2>&1 || t_die "seed $name"
    fp_rules
    fp_reset
}
# The proxy reads the whole request, then closes the connection without answering: curl sees a
# reused connection die before any response byte and resends the request on a new one, which
# needs the body rewound. 1e9: more than any body here, so all of it is read first.
whole=bytes=1000000000

if t_begin "a PUT on a reused connection that died is resent at once: the body is rewound"; then
    fresh rewind 3 --min-bytes 200K --max-bytes 300K
    fp_rules "drop-request:method=PUT:after=1:count=1:$whole"
    assert_exit 0 imgsync_run upload --concurrency 1 &&
        assert_eq 1 "$(fp_stat faults.drop-request)" &&
        assert_not_contains "$(<"$T_ERR")" "rewind wasn't possible" &&
        assert_contains "$(<"$T_ERR")" "retried=0" &&
        assert_eq 3 "$(counts 'd["counts"]["uploaded"]')" && verify_uploaded && t_ok
fi

if t_begin "multipart: a part and CompleteMultipartUpload (a body in memory) rewound the same way"; then
    fresh rewind-mp 1 --format png --min-bytes 12M --max-bytes 12M
    fp_rules "drop-request:method=PUT:query=partNumber:after=1:count=1:$whole" \
        "drop-request:method=POST:query=uploadId:count=1:$whole"
    # Not retried=0: radosgw's first CompleteMultipartUpload answer can lack the ETag the pass now
    # checks, which costs one retry with or without faults. The rewound requests must not fail.
    assert_exit 0 imgsync_run upload --multipart-threshold 8M --part-size 5M --concurrency 1 &&
        assert_eq 2 "$(fp_stat faults.drop-request)" &&
        assert_not_contains "$(<"$T_ERR")" "rewind wasn't possible" &&
        assert_not_contains "$(<"$T_ERR")" "step=part" &&
        assert_not_contains "$(grep -F step=complete "$T_ERR")" 'error="dropped' &&
        assert_not_contains "$(grep -F step=complete "$T_ERR")" 'error="other' &&
        assert_eq 1 "$(counts 'd["counts"]["uploaded"]')" && verify_uploaded && t_ok
fi

# ---- credentials: where they came from -----------------------------------------------------
# run_env [-u NAME | NAME=VALUE]... -- ARGS...: imgsync_run with the environment changed.
run_env() {
    local -a e=()
    while [ "$1" != -- ]; do
        e+=("$1")
        shift
    done
    shift
    env "${e[@]}" timeout -k 5 "${T_CMD_TIMEOUT:-300}" "$IMGSYNC_BIN" "$@"
}
conf=$T_TMP/imgsync.conf
write_conf() { # LINES...: the config file, mode 600
    printf '%s\n' "$@" >"$conf"
    chmod 600 "$conf"
}
secret_free() { # every output of the last command is free of the secret key
    assert_not_contains "$(<"$T_OUT")$(<"$T_ERR")" "$RGW_SECRET_KEY"
}
no_keys=(-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY)

if t_begin "keys in the config file are labelled with that file, in check and in the pass log"; then
    fresh creds 1 --min-bytes 8K --max-bytes 8K
    write_conf "aws_access_key_id = $RGW_ACCESS_KEY" "aws_secret_access_key = $RGW_SECRET_KEY"
    assert_exit 0 run_env "${no_keys[@]}" -- --config "$conf" check &&
        assert_contains "$(<"$T_OUT")" "ok: credentials from config file $conf (" && secret_free &&
        assert_exit 0 run_env "${no_keys[@]}" -- --config "$conf" upload &&
        assert_contains "$(<"$T_ERR")" "credentials=\"config file $conf\"" && secret_free && t_ok
fi

if t_begin "a key id in the config file and the secret in the environment: both named"; then
    fresh creds-env 1 --min-bytes 8K --max-bytes 8K
    write_conf "aws_access_key_id = $RGW_ACCESS_KEY"
    assert_exit 0 run_env -u AWS_ACCESS_KEY_ID -- --config "$conf" check &&
        assert_contains "$(<"$T_OUT")" "access key id from config file $conf, secret access key from environment" &&
        secret_free && t_ok
fi

if t_begin "a key id in the config file without a secret: the error names the file"; then
    fresh creds-nosecret 1 --min-bytes 8K --max-bytes 8K
    write_conf "aws_access_key_id = $RGW_ACCESS_KEY"
    assert_exit 2 run_env "${no_keys[@]}" -- --config "$conf" check &&
        assert_contains "$(<"$T_ERR")" "access key id in $conf but no secret access key" &&
        assert_not_contains "$(<"$T_ERR")" "AWS_ACCESS_KEY_ID is set" && t_ok
fi

# ---- proxies ---------------------------------------------------------------------------------
# The fault proxy stands in for an HTTP proxy: a proxied request arrives in absolute form
# ("GET http://127.0.0.1:PORT/... HTTP/1.1"), and this rule answers exactly those with a 403.
proxied_rule="error:status=403:code=AccessDenied:message=via%20the%20proxy:match=^[A-Z]+%20http%3A//"
proxy_pw=pw-$RANDOM$RANDOM
direct=IMGSYNC_ENDPOINT=$RGW_ENDPOINT

if t_begin "http_proxy: check and the pass name the proxy (never its password), and curl uses it"; then
    fresh proxy 1 --min-bytes 8K --max-bytes 8K
    fp_rules "$proxied_rule"
    via=http_proxy=http://tester:$proxy_pw@127.0.0.1:$FP_PORT
    assert_exit 3 run_env "$direct" "$via" -- check &&
        assert_contains "$(<"$T_OUT")" "ok: proxy http://127.0.0.1:$FP_PORT (http_proxy, with a user name and password)" &&
        assert_contains "$(<"$T_ERR")" "AccessDenied (via the proxy)" &&
        assert_not_contains "$(<"$T_OUT")$(<"$T_ERR")" "$proxy_pw" &&
        { run_env "$direct" "$via" -- upload >"$T_OUT" 2>"$T_ERR" || true; } &&
        assert_contains "$(<"$T_ERR")" "proxy=http://127.0.0.1:$FP_PORT proxy_from=http_proxy" &&
        assert_not_contains "$(<"$T_ERR")" "$proxy_pw" &&
        assert_contains "$(<"$FP_LOG")" "GET http://127.0.0.1:$RGW_PORT/" && t_ok
fi

if t_begin "NO_PROXY naming the endpoint: no proxy, said so, and the request goes direct"; then
    fresh noproxy 1 --min-bytes 8K --max-bytes 8K
    fp_rules "$proxied_rule"
    assert_exit 0 run_env "$direct" "http_proxy=http://127.0.0.1:$FP_PORT" NO_PROXY=localhost,127.0.0.1 -- check &&
        assert_contains "$(<"$T_OUT")" "ok: no proxy (NO_PROXY excludes the endpoint)" &&
        assert_exit 0 run_env "$direct" "http_proxy=http://127.0.0.1:$FP_PORT" NO_PROXY=127.0.0.1 -- upload &&
        assert_contains "$(<"$T_ERR")" "proxy=none proxy_from=NO_PROXY" &&
        assert_eq 0 "$(fp_stat requests)" && t_ok
fi

if t_begin "HTTP_PROXY in upper case is ignored for http, as libcurl does"; then
    fresh upper-proxy 1 --min-bytes 8K --max-bytes 8K
    fp_rules "$proxied_rule"
    assert_exit 0 run_env "$direct" "HTTP_PROXY=http://127.0.0.1:$FP_PORT" -- check &&
        assert_contains "$(<"$T_OUT")" "ok: no proxy" && assert_eq 0 "$(fp_stat requests)" && t_ok
fi

# ---- SSLKEYLOGFILE ---------------------------------------------------------------------------
if t_begin "SSLKEYLOGFILE is not honoured: no TLS keys written, a warning instead"; then
    fresh keylog 1 --min-bytes 8K --max-bytes 8K
    tls=$T_TMP/tls
    mkdir -p "$tls"
    if ! command -v openssl >/dev/null; then
        t_skip "no openssl"
    elif ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.pem" -out "$tls/cert.pem" \
        -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1; then
        t_fail "cannot make a certificate"
    else
        tls_port=$(free_port)
        openssl s_server -accept "127.0.0.1:$tls_port" -cert "$tls/cert.pem" -key "$tls/key.pem" \
            -www -quiet </dev/null >"$tls/server.log" 2>&1 &
        t_on_exit kill "$!"
        wait_port "$tls_port" || t_fail "s_server did not start"
        # Control: the same libcurl does write the keys for a program that lets it.
        SSLKEYLOGFILE=$tls/curl-keys curl -s -o /dev/null --cacert "$tls/cert.pem" "https://127.0.0.1:$tls_port/" &&
            assert_match "$(cat "$tls/curl-keys" 2>/dev/null)" "TRAFFIC_SECRET" &&
            # s_server -www answers with an HTML page, which check names as not S3's (exit 3):
            # the TLS session was made all the same, and that is what matters here.
            assert_exit 3 run_env "SSLKEYLOGFILE=$tls/keys" -- --endpoint "https://127.0.0.1:$tls_port" \
                --ca-bundle "$tls/cert.pem" check &&
            assert_contains "$(<"$T_ERR")" "the endpoint is probably not an S3 API" &&
            { [ ! -e "$tls/keys" ] || t_fail "imgsync let libcurl write TLS keys to $tls/keys"; } &&
            assert_contains "$(<"$T_ERR")" "event=tls_keylog_ignored file=$tls/keys" && t_ok
    fi
fi

t_finish
