#!/usr/bin/env bash
# Credentials the way production runs them, each source with no static key in imgsync's
# environment or files: STS AssumeRole against radosgw itself (a role made by start-rgw.sh),
# credential_process (a program, tests/support/credential_process.py), and the endpoints that
# exist only inside AWS (IMDSv2, the container endpoints, AssumeRoleWithWebIdentity) from the
# suite's own tests/support/metadata_server.py on 127.0.0.1, which hands out real temporary
# credentials from radosgw's STS with short announced expirations, so a pass refreshes mid-way.
. "$(dirname "$0")/../lib.sh"
with_rgw
[ -n "${RGW_STS_ENDPOINT:-}" ] || t_die "radosgw has no STS gateway (RGW_STS_ENDPOINT): restart it with tests/rgw/start-rgw.sh"
# Temporary credentials are checked by the STS-enabled gateway of the same cluster, so the
# uploads and STS go there (start-rgw.sh says why it is a gateway of its own).
imgsync_env "$RGW_STS_ENDPOINT"
export T_CMD_TIMEOUT=120
[ -n "${RGW_ROLE_ARN:-}" ] || t_die "radosgw has no STS role (RGW_ROLE_ARN): restart it with tests/rgw/start-rgw.sh"
SUPPORT=$T_REPO_ROOT/tests/support
# No static key anywhere imgsync looks: the environment, ~/.aws, its config file.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ENDPOINT_URL=$RGW_STS_ENDPOINT
KEYS=$T_TMP/vault/keys # read only by the credential_process helper
mkdir -p "$T_TMP/vault" && printf '%s %s\n' "$RGW_ACCESS_KEY" "$RGW_SECRET_KEY" >"$KEYS"
ISSUED=$T_TMP/issued # every temporary secret and token the suite's servers handed out

# md_start [server options...]: a metadata server of this suite; sets MD_PORT, MD_URL.
md_start() {
    local pf=$T_TMP/md.port.$RANDOM
    RGW_ACCESS_KEY=$RGW_ACCESS_KEY RGW_SECRET_KEY=$RGW_SECRET_KEY "$T_PY" \
        "$SUPPORT/metadata_server.py" --port-file "$pf" --rgw-endpoint "$RGW_STS_ENDPOINT" \
        --role-arn "$RGW_ROLE_ARN" --issued-file "$ISSUED" --max-seconds 600 "$@" \
        >"$T_TMP/md.log" 2>&1 &
    local pid=$!
    t_on_exit kill "$pid"
    for _ in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.05; done
    MD_PORT=$(cat "$pf" 2>/dev/null) || t_die "metadata server did not start: $(cat "$T_TMP/md.log")"
    wait_port "$MD_PORT" 5 || t_die "metadata server not listening"
    MD_URL=http://127.0.0.1:$MD_PORT
}
md_stat() { curl -s "$MD_URL/_stats" | "$T_PY" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# Nothing secret in the last command's output, nor in the state file.
no_secrets() {
    local all line
    all="$(<"$T_OUT")$(<"$T_ERR")$(cat "$IMGSYNC_DB" "$IMGSYNC_DB"-wal 2>/dev/null | tr -d '\0')"
    assert_not_contains "$all" "$RGW_SECRET_KEY" || return 1
    [ -f "$ISSUED" ] || return 0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        case $all in *"$line"*) t_fail "a secret or session token the server issued appears in the output"; return 1 ;; esac
    done <"$ISSUED"
}
seeded() { # COUNT: the fixture's backlog
    imgsync_run seed --count "$1" --min-bytes 4K --max-bytes 8K >/dev/null 2>&1 || t_die "seed"
}
pending() { counts 'd["counts"]["pending"]'; }
uploaded() { counts 'd["counts"]["uploaded"]'; }
aws_files() { # [CREDENTIALS-TEXT CONFIG-TEXT]: the fixture's own ~/.aws (empty files without)
    export HOME=$TD/home
    mkdir -p "$HOME/.aws"
    printf '%s' "${1:-}" >"$HOME/.aws/credentials"
    printf '%s' "${2:-}" >"$HOME/.aws/config"
}

# ---- STS AssumeRole, against radosgw ------------------------------------------------------------
if t_begin "assume-role via source_profile: radosgw's STS issues the credentials the pass uses"; then
    t_fixture assume-role
    aws_files "[base]
aws_access_key_id = $RGW_ACCESS_KEY
aws_secret_access_key = $RGW_SECRET_KEY
" "[profile uploader]
role_arn = $RGW_ROLE_ARN
source_profile = base
role_session_name = nightly
duration_seconds = 900
"
    seeded 3
    assert_exit 0 imgsync_run --profile uploader check &&
        assert_contains "$(<"$T_OUT")" "ok: credentials from assume-role $RGW_ROLE_ARN via profile uploader (source: profile base in $HOME/.aws/credentials)" &&
        assert_match "$(<"$T_OUT")" "expire [0-9-]+T[0-9:]+Z \(in 1[45] min\)" &&
        assert_exit 0 imgsync_run --profile uploader upload &&
        assert_contains "$(<"$T_ERR")" "credentials=\"assume-role $RGW_ROLE_ARN via profile uploader" &&
        assert_match "$(<"$T_ERR")" "credentials_expire=[0-9-]+T[0-9:]+Z" &&
        assert_eq 3 "$(uploaded)" && no_secrets && t_ok
fi

if t_begin "assume-role whose source profile is a credential_process: no key in imgsync's files"; then
    t_fixture assume-role-process
    aws_files "" "[profile vault]
credential_process = $SUPPORT/credential_process.py --mode static --keys-file $KEYS
[profile uploader]
role_arn = $RGW_ROLE_ARN
source_profile = vault
"
    seeded 2
    assert_exit 0 env AWS_PROFILE=uploader "$IMGSYNC_BIN" upload &&
        assert_contains "$(<"$T_ERR")" "source: credential_process of profile vault" &&
        assert_eq 2 "$(uploaded)" && no_secrets && t_ok
fi

if t_begin "assume-role refused by radosgw: a pass-level failure naming STS, the backlog pending"; then
    t_fixture assume-role-refused
    aws_files "[base]
aws_access_key_id = $RGW_ACCESS_KEY
aws_secret_access_key = $RGW_SECRET_KEY
" "[profile nobody]
role_arn = arn:aws:iam:::role/no-such-role
source_profile = base
"
    seeded 1
    assert_exit 3 imgsync_run --profile nobody upload &&
        assert_contains "$(<"$T_ERR")" "AssumeRole arn:aws:iam:::role/no-such-role at $RGW_STS_ENDPOINT/" &&
        assert_contains "$(<"$T_ERR")" "STS AssumeRole refused: HTTP" &&
        assert_eq 1 "$(pending)" && no_secrets && t_ok
fi

if t_begin "mfa_serial is refused before anything is asked"; then
    t_fixture mfa
    aws_files "[base]
aws_access_key_id = A
aws_secret_access_key = S
" "[profile mfa]
role_arn = $RGW_ROLE_ARN
source_profile = base
mfa_serial = arn:aws:iam::1:mfa/ann
"
    assert_exit 2 imgsync_run --profile mfa check &&
        assert_contains "$(<"$T_ERR")" "mfa_serial: an MFA code needs a person at a terminal" && t_ok
fi

# ---- credential_process ------------------------------------------------------------------------
if t_begin "credential_process with short-lived credentials: refreshed in the middle of a pass"; then
    t_fixture process
    aws_files "" "[default]
credential_process = $SUPPORT/credential_process.py --keys-file $KEYS --rgw-endpoint $RGW_STS_ENDPOINT --role-arn $RGW_ROLE_ARN --expires 6 --count-file $TD/runs
"
    seeded 12
    # 12 images at 2/s: about 6 s, credentials announced for 6 s, replaced after 3.
    assert_exit 0 imgsync_run upload --rate 2 --burst 1 &&
        assert_contains "$(<"$T_ERR")" 'credentials="credential_process of profile default"' &&
        assert_contains "$(<"$T_ERR")" "event=credentials_refreshed" &&
        assert_eq 12 "$(uploaded)" && no_secrets &&
        assert_match "$(wc -l <"$TD/runs")" "^[2-9]$" && t_ok
fi

if t_begin "credential_process that fails, prints bad JSON or version 2: clear errors, stderr not shown"; then
    t_fixture process-bad
    seeded 1
    helper="$SUPPORT/credential_process.py --keys-file $KEYS"
    aws_files "" "[default]
credential_process = $helper --mode fail
[profile badjson]
credential_process = $helper --mode bad-json
[profile v2]
credential_process = $helper --mode version2
[profile missing]
credential_process = /nonexistent/helper --x
"
    assert_exit 3 imgsync_run upload &&
        assert_contains "$(<"$T_ERR")" "credential_process of profile 'default' exited with status 3 (it wrote" &&
        assert_contains "$(<"$T_ERR")" "not shown: they may hold secrets" && no_secrets &&
        assert_exit 3 imgsync_run --profile badjson check &&
        assert_contains "$(<"$T_ERR")" "credential_process output is not valid JSON" &&
        assert_exit 3 imgsync_run --profile v2 check &&
        assert_contains "$(<"$T_ERR")" "only version 1 exists" && no_secrets &&
        assert_exit 3 imgsync_run --profile missing check &&
        assert_contains "$(<"$T_ERR")" "(/nonexistent/helper): cannot run it" &&
        assert_eq 1 "$(pending)" && t_ok
fi

# ---- the instance metadata service (IMDSv2), from the suite's own server ----------------------
if t_begin "instance role over IMDSv2: check names the role and the placement's region, a pass refreshes mid-way"; then
    t_fixture imds
    aws_files
    md_start --expires 6 --region eu-test-1
    seeded 12
    assert_exit 0 env -u AWS_EC2_METADATA_DISABLED -u AWS_REGION -u AWS_DEFAULT_REGION \
        AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL/" "$IMGSYNC_BIN" check &&
        assert_contains "$(<"$T_OUT")" "ok: credentials from instance role imgsync-test-role (access key" &&
        assert_contains "$(<"$T_OUT")" "addressing, region eu-test-1" &&
        assert_exit 0 env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" \
            "$IMGSYNC_BIN" upload --rate 2 --burst 1 &&
        assert_contains "$(<"$T_ERR")" 'credentials="instance role imgsync-test-role"' &&
        assert_contains "$(<"$T_ERR")" "event=credentials_refreshed" &&
        assert_eq 12 "$(uploaded)" && no_secrets &&
        assert_eq 0 "$(md_stat imds_unauthorized)" &&
        assert_match "$(md_stat imds_credentials)" "^([3-9]|[1-9][0-9])$" && t_ok
fi

if t_begin "a metadata service that hangs or refuses costs about its timeout, then: no credentials"; then
    t_fixture imds-down
    aws_files
    md_start --hang
    start=$(date +%s%N)
    assert_exit 2 env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$MD_URL" \
        "$IMGSYNC_BIN" check
    hang_ms=$((($(date +%s%N) - start) / 1000000))
    closed=$(free_port)
    start=$(date +%s%N)
    assert_exit 2 env -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$closed" \
        "$IMGSYNC_BIN" check
    refused_ms=$((($(date +%s%N) - start) / 1000000))
    echo "    hanging metadata service: ${hang_ms} ms; refusing: ${refused_ms} ms (timeout 1 s)"
    assert_contains "$(<"$T_ERR")" "no credentials" &&
        assert_contains "$(<"$T_ERR")" "the instance metadata service at http://127.0.0.1:$closed gave no IMDSv2 session token" &&
        assert_contains "$(<"$T_ERR")" "AWS_EC2_METADATA_DISABLED=true skips it" &&
        [ "$hang_ms" -lt 4000 ] && [ "$refused_ms" -lt 4000 ] && t_ok ||
        t_fail "hang ${hang_ms} ms, refused ${refused_ms} ms (more than the timeout allows)"
fi

# ---- container credentials (ECS / EKS Pod Identity), from the suite's own server --------------
if t_begin "container credentials with a token file: a pass refreshes mid-way; a wrong token fails"; then
    t_fixture container
    aws_files
    md_start --expires 6 --container-token "pod-identity-token-123"
    printf 'pod-identity-token-123\n' >"$TD/token"
    seeded 12
    export AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/container/v1/credentials"
    export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TD/token
    assert_exit 0 imgsync_run upload --rate 2 --burst 1 &&
        assert_contains "$(<"$T_ERR")" "credentials=\"container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, host 127.0.0.1:$MD_PORT)\"" &&
        assert_contains "$(<"$T_ERR")" "event=credentials_refreshed" &&
        assert_not_contains "$(<"$T_ERR")" "pod-identity-token-123" &&
        assert_eq 12 "$(uploaded)" && no_secrets &&
        assert_match "$(md_stat container)" "^([2-9]|[1-9][0-9])$" && # the first and a refresh
        assert_exit 3 env AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE= AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
            "$IMGSYNC_BIN" check &&
        assert_contains "$(<"$T_ERR")" "no credentials: HTTP 401" && t_ok
    unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
fi

if t_begin "credential_source = EcsContainer: the container role assumes the role at radosgw"; then
    t_fixture credential-source
    aws_files "" "[profile chained]
role_arn = $RGW_ROLE_ARN
credential_source = EcsContainer
"
    md_start --expires 3600 --container-token "task-token"
    seeded 2
    assert_exit 0 env AWS_PROFILE=chained AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/container/task" \
        AWS_CONTAINER_AUTHORIZATION_TOKEN=task-token "$IMGSYNC_BIN" upload &&
        assert_contains "$(<"$T_ERR")" "credentials=\"assume-role $RGW_ROLE_ARN via profile chained (source: container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, host 127.0.0.1:$MD_PORT))\"" &&
        assert_not_contains "$(<"$T_ERR")" "task-token" &&
        assert_eq 2 "$(uploaded)" && assert_eq 1 "$(md_stat container)" && no_secrets && t_ok
fi

if t_begin "a refresh that fails mid-pass ends the pass as failed (exit 3), the rest pending"; then
    t_fixture refresh-fails
    aws_files
    md_start --expires 4 --container-token "good-token"
    printf 'good-token\n' >"$TD/token"
    seeded 20
    export AWS_CONTAINER_CREDENTIALS_FULL_URI="$MD_URL/container/v1/credentials"
    export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TD/token
    imgsync_bg upload --rate 2 --burst 1
    sleep 0.8
    printf 'revoked\n' >"$TD/token" # the refresh after 2 s reads the new token, refused
    wait "$IMGSYNC_PID"
    rc=$?
    T_OUT=$IMGSYNC_BG_OUT T_ERR=$IMGSYNC_BG_ERR
    assert_eq 3 "$rc" &&
        assert_contains "$(<"$T_ERR")" "event=credentials_refresh_failed" &&
        assert_contains "$(<"$T_ERR")" "credentials could not be refreshed: container credentials" &&
        assert_match "$(pending)" "^1[0-9]$" && t_ok
    unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
fi

if t_begin "a full container URI may name only the SDKs' hosts over http: refused before any request"; then
    t_fixture container-host
    aws_files
    assert_exit 2 env AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/creds "$IMGSYNC_BIN" check &&
        assert_contains "$(<"$T_ERR")" "over http it may name only a loopback address" && t_ok
fi

# ---- web identity (EKS service accounts), STS from the suite's own server ----------------------
if t_begin "web identity from AWS_WEB_IDENTITY_TOKEN_FILE: the token re-read, never shown"; then
    t_fixture web-identity
    aws_files
    md_start --expires 3600 --web-token-file "$TD/issued-jwt" # what the server accepts
    printf 'eyJhbGciOiJSUzI1NiJ9.service-account.sig\n' | tee "$TD/issued-jwt" >"$TD/jwt"
    seeded 2
    assert_exit 0 env AWS_WEB_IDENTITY_TOKEN_FILE="$TD/jwt" AWS_ROLE_ARN=arn:aws:iam::1:role/pod \
        AWS_ROLE_SESSION_NAME=pod-1 AWS_ENDPOINT_URL_STS="$MD_URL/sts" "$IMGSYNC_BIN" upload &&
        assert_contains "$(<"$T_ERR")" 'credentials="web identity arn:aws:iam::1:role/pod (AWS_WEB_IDENTITY_TOKEN_FILE)"' &&
        assert_not_contains "$(<"$T_ERR")" "service-account" &&
        assert_eq 2 "$(uploaded)" && no_secrets && assert_eq 1 "$(md_stat web_identity)" &&
        printf 'another-token\n' >"$TD/jwt" &&
        assert_exit 3 env AWS_WEB_IDENTITY_TOKEN_FILE="$TD/jwt" AWS_ROLE_ARN=arn:aws:iam::1:role/pod \
            AWS_ENDPOINT_URL_STS="$MD_URL/sts" "$IMGSYNC_BIN" check &&
        assert_contains "$(<"$T_ERR")" "STS AssumeRoleWithWebIdentity refused: HTTP 403 AccessDenied (token refused)" &&
        assert_not_contains "$(<"$T_ERR")" "another-token" && t_ok
fi

if t_begin "web identity from a profile: web_identity_token_file and role_arn"; then
    t_fixture web-identity-profile
    aws_files "" "[profile pod]
web_identity_token_file = $TD/jwt
role_arn = arn:aws:iam::1:role/pod
role_session_name = pod-2
"
    md_start --expires 3600 --web-token-file "$TD/jwt"
    printf 'eyJhbGciOiJSUzI1NiJ9.profile-token.sig\n' >"$TD/jwt"
    assert_exit 0 env AWS_ENDPOINT_URL_STS="$MD_URL/sts" "$IMGSYNC_BIN" --profile pod check &&
        assert_contains "$(<"$T_OUT")" "ok: credentials from web identity arn:aws:iam::1:role/pod via profile pod (" &&
        assert_not_contains "$(<"$T_OUT")$(<"$T_ERR")" "profile-token" && no_secrets &&
        assert_eq 1 "$(md_stat web_identity)" && t_ok
fi

t_finish
