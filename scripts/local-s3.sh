#!/usr/bin/env bash
# A local S3-compatible server for the s3:// lines of the README and docs:
# SeaweedFS (installed into .venv by scripts/setup-test-tools.sh) on
# 127.0.0.1 with a bucket `lake`.
#
#   eval "$(scripts/local-s3.sh start)"   # start it; export its endpoint and keys
#   scripts/local-s3.sh stop              # stop it
#
# Data and the log go to $LOCAL_S3_DIR (default ./.local-s3). The S3 port is
# $LOCAL_S3_PORT (default 8333); the server's other ports are the ten above it.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
dir="$(mkdir -p "${LOCAL_S3_DIR:-.local-s3}" && cd "${LOCAL_S3_DIR:-.local-s3}" && pwd)"
port="${LOCAL_S3_PORT:-8333}"
key=local-s3-key
secret=local-s3-secret

# A failed start says why on stderr and prints `false` for the caller's
# eval, so `eval "$(local-s3.sh start)"` fails too instead of going on
# without an endpoint.
fail() {
    echo "$1" >&2
    echo false
    exit 1
}

case "${1:-}" in
start)
    weed="${SCORELAKE_WEED:-$here/.venv/bin/weed}"
    [ -x "$weed" ] || fail "no SeaweedFS at $weed: run $here/scripts/setup-test-tools.sh"
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        echo "already running (pid $(cat "$dir/pid"); $0 stop ends it)" >&2
    else
        printf '{"identities":[{"name":"local","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","List","Tagging","Write"]}]}' \
            "$key" "$secret" >"$dir/s3.json"
        p=$port
        nohup "$weed" mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 -webdav=false -admin.ui=false \
            -s3.config="$dir/s3.json" -s3.localSocket="$dir/s3.sock" -filer.localSocket="$dir/filer.sock" \
            -bucket=lake -s3.port="$p" -master.port=$((p + 1)) -master.port.grpc=$((p + 2)) \
            -volume.port=$((p + 3)) -volume.port.grpc=$((p + 4)) -filer.port=$((p + 5)) \
            -filer.port.grpc=$((p + 6)) -s3.port.grpc=$((p + 7)) -admin.port=$((p + 8)) \
            -admin.port.grpc=$((p + 9)) -debug.port=$((p + 10)) -s3.port.iceberg=0 -s3.port.lance=0 \
            >"$dir/weed.log" 2>&1 </dev/null &
        echo $! >"$dir/pid"
        # Ready when a signed listing of the bucket succeeds.
        for _ in $(seq 1 300); do
            code="$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
                --user "$key:$secret" "http://127.0.0.1:$port/lake?list-type=2&max-keys=1" || true)"
            [ "$code" = 200 ] && break
            kill -0 "$(cat "$dir/pid")" 2>/dev/null || fail "$(cat "$dir/weed.log")"
            sleep 0.2
        done
        [ "$code" = 200 ] || fail "the server did not answer in 60 s; log: $dir/weed.log"
        echo "S3 at http://127.0.0.1:$port, bucket lake (log: $dir/weed.log)" >&2
    fi
    echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ALLOW_HTTP=true AWS_REGION=us-east-1"
    echo "export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret SCORELAKE__STORAGE__S3__PATH_STYLE=true"
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        pid="$(cat "$dir/pid")"
        kill "$pid" 2>/dev/null || true
        # SeaweedFS can hang while it shuts down: 5 s, then it is killed.
        for _ in $(seq 1 25); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
