#!/usr/bin/env bash
# selftest.sh DIR — checks, with curl only, that the S3 server that sluice-test-s3.sh runs from
# DIR is a working and strict S3 (SigV4 with a payload hash, ETags, metadata, ListObjectsV2,
# path-style and virtual-hosted addressing) and that its data survives a stop and a start.
#
# Starts the server if it is not running, and stops it again at the end in that case; a server
# that was running is left running (it is restarted once, on the same DIR, for the persistence
# check). Exits non-zero on any mismatch; the last line is "N passed, N failed".
#
# Needs curl >= 7.75 (--aws-sigv4), sha256sum, md5sum.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S3=$HERE/sluice-test-s3.sh
(($# == 1)) || { echo "usage: ${0##*/} DIR" >&2; exit 2; }
DIR=$1

readonly EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

TMP=$(mktemp -d)
PASSED=0
FAILED=0
WE_STARTED=0

cleanup() {
    rm -rf "$TMP"
    if ((WE_STARTED)); then "$S3" stop "$DIR" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

say() { printf 'selftest: %s\n' "$*" >&2; }

# check NAME EXPECTED ACTUAL
check() {
    if [[ $2 == "$3" ]]; then
        PASSED=$((PASSED + 1))
        printf 'ok   %s\n' "$1"
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL %s: expected [%s], got [%s]\n' "$1" "$2" "$3"
        if [[ -s $TMP/body ]]; then printf '     body: %s\n' "$(head -c 400 "$TMP/body")"; fi
    fi
}

# check_contains NAME NEEDLE FILE
check_contains() {
    if grep -qF -- "$2" "$3"; then check "$1" "$2" "$2"; else check "$1" "$2" "(not in $(head -c 300 "$3"))"; fi
}

load_env() {
    # shellcheck source=/dev/null
    . "$DIR/env"
    PORT=${SLUICE_TEST_S3_ENDPOINT##*:}
    EP=$SLUICE_TEST_S3_ENDPOINT
    VHOST=http://$BUCKET.$SLUICE_TEST_S3_VHOST_DOMAIN:$PORT
    # No DNS for the test domain: tell curl where the bucket's name points.
    RESOLVE=(--resolve "$BUCKET.$SLUICE_TEST_S3_VHOST_DOMAIN:$PORT:127.0.0.1")
}

# s3 [--secret S] METHOD URL [CURL_ARGS...]: one SigV4-signed request. Sets CODE; the response
# headers are in $TMP/headers, the body in $TMP/body. The caller passes x-amz-content-sha256
# (RGW, like AWS, rejects SigV4 without it; curl 7.88 does not add it).
s3() {
    local secret=$AWS_SECRET_ACCESS_KEY
    if [[ $1 == --secret ]]; then secret=$2; shift 2; fi
    local method=$1 url=$2
    shift 2
    local how=(-X "$method")
    # HEAD: -I, else curl waits for a body of Content-Length bytes.
    [[ $method == HEAD ]] && how=(-I)
    : >"$TMP/headers"
    : >"$TMP/body"
    CODE=$(curl -sS --max-time 60 "${how[@]}" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
        --aws-sigv4 "aws:amz:$AWS_DEFAULT_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$secret" \
        "$@" "$url") || CODE=000
}

# header NAME: value of a response header of the last request.
header() {
    grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//' || true
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }
md5() { md5sum "$1" | cut -d' ' -f1; }

# ---- data ----------------------------------------------------------------------------------------

BUCKET=sluice-selftest-$RANDOM$RANDOM
# A key that needs percent-encoding: curl signs the path exactly as given, so it must be encoded
# the way SigV4 canonicalizes it (space %20, '+' %2B).
KEY='photos/2024/IMG 0001+a.jpg'
KEY_URL='photos/2024/IMG%200001%2Ba.jpg'
KEY2=vhost/object.bin
head -c 300000 /dev/urandom >"$TMP/obj"
head -c 1000 /dev/urandom >"$TMP/obj2"
OBJ_SHA=$(sha256 "$TMP/obj")
OBJ_MD5=$(md5 "$TMP/obj")
OBJ2_SHA=$(sha256 "$TMP/obj2")

# ---- start ---------------------------------------------------------------------------------------

if ! "$S3" status "$DIR" >/dev/null 2>&1; then
    "$S3" start "$DIR" >/dev/null
    WE_STARTED=1
fi
load_env
say "server $EP, bucket $BUCKET"

# ---- basic S3 ------------------------------------------------------------------------------------

s3 GET "$EP/" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "ListBuckets (signed, region '$AWS_DEFAULT_REGION')" 200 "$CODE"

# CreateBucket with the region as LocationConstraint, as SDKs send it for a region other than
# us-east-1: RGW accepts its zonegroup's api_name ("default"), and rejects "us-east-1".
printf '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>' \
    "$AWS_DEFAULT_REGION" >"$TMP/create.xml"
s3 PUT "$EP/$BUCKET" --data-binary "@$TMP/create.xml" -H "Content-Type: application/xml" \
    -H "x-amz-content-sha256: $(sha256 "$TMP/create.xml")"
check "CreateBucket (path-style, LocationConstraint $AWS_DEFAULT_REGION)" 200 "$CODE"

s3 PUT "$EP/$BUCKET/$KEY_URL" -T "$TMP/obj" -H "Content-Type: image/jpeg" \
    -H "x-amz-content-sha256: $OBJ_SHA" -H "x-amz-meta-sha256: $OBJ_SHA"
check "PutObject (path-style, key needing encoding)" 200 "$CODE"
check "PutObject ETag is the MD5 of the body" "\"$OBJ_MD5\"" "$(header ETag)"

s3 HEAD "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "HeadObject" 200 "$CODE"
check "HeadObject ETag" "\"$OBJ_MD5\"" "$(header ETag)"
check "HeadObject x-amz-meta-sha256" "$OBJ_SHA" "$(header x-amz-meta-sha256)"
check "HeadObject Content-Length" 300000 "$(header Content-Length)"

s3 GET "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "GetObject" 200 "$CODE"
check "GetObject body" "$OBJ_SHA" "$(sha256 "$TMP/body")"

s3 GET "$EP/$BUCKET?list-type=2" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "ListObjectsV2" 200 "$CODE"
check_contains "ListObjectsV2 lists the key" "<Key>$KEY</Key>" "$TMP/body"
check_contains "ListObjectsV2 KeyCount" "<KeyCount>1</KeyCount>" "$TMP/body"

# Query parameters must be sorted and encoded by the caller, as for the path.
s3 GET "$EP/$BUCKET?list-type=2&prefix=photos%2F" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "ListObjectsV2 with prefix" 200 "$CODE"
check_contains "ListObjectsV2 with prefix lists the key" "<Key>$KEY</Key>" "$TMP/body"

# ---- strictness ----------------------------------------------------------------------------------

s3 --secret "wrong$AWS_SECRET_ACCESS_KEY" GET "$EP/$BUCKET?list-type=2" \
    -H "x-amz-content-sha256: $EMPTY_SHA256"
check "wrong secret: 403" 403 "$CODE"
check_contains "wrong secret: SignatureDoesNotMatch" "<Code>SignatureDoesNotMatch</Code>" "$TMP/body"

s3 PUT "$EP/$BUCKET/$KEY_URL" -T "$TMP/obj2" \
    -H "x-amz-content-sha256: $OBJ_SHA" -H "x-amz-meta-sha256: $OBJ_SHA"
check "wrong x-amz-content-sha256: 400" 400 "$CODE"
check_contains "wrong x-amz-content-sha256: XAmzContentSHA256Mismatch" \
    "<Code>XAmzContentSHA256Mismatch</Code>" "$TMP/body"
s3 HEAD "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "wrong x-amz-content-sha256: object unchanged" "\"$OBJ_MD5\"" "$(header ETag)"

# ---- virtual-hosted addressing -------------------------------------------------------------------

s3 PUT "$VHOST/$KEY2" "${RESOLVE[@]}" -T "$TMP/obj2" \
    -H "x-amz-content-sha256: $OBJ2_SHA" -H "x-amz-meta-sha256: $OBJ2_SHA"
check "PutObject (virtual-hosted)" 200 "$CODE"

s3 GET "$VHOST/$KEY_URL" "${RESOLVE[@]}" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "GetObject (virtual-hosted) of the path-style object" "200 $OBJ_SHA" \
    "$CODE $(sha256 "$TMP/body")"

s3 GET "$VHOST/?list-type=2" "${RESOLVE[@]}" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "ListObjectsV2 (virtual-hosted)" 200 "$CODE"
check_contains "ListObjectsV2 (virtual-hosted) KeyCount" "<KeyCount>2</KeyCount>" "$TMP/body"

s3 HEAD "$EP/$BUCKET/$KEY2" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "HeadObject (path-style) of the virtual-hosted object" "200 $OBJ2_SHA" \
    "$CODE $(header x-amz-meta-sha256)"

# 'localhost' is a configured host name too, so it stays path-style (see sluice-test-s3.sh),
# and BUCKET.localhost is virtual-hosted.
s3 HEAD "http://localhost:$PORT/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "HeadObject (path-style via localhost)" 200 "$CODE"
s3 HEAD "http://$BUCKET.localhost:$PORT/$KEY_URL" --resolve "$BUCKET.localhost:$PORT:127.0.0.1" \
    -H "x-amz-content-sha256: $EMPTY_SHA256"
check "HeadObject (virtual-hosted via BUCKET.localhost)" 200 "$CODE"

# ---- persistence across stop and start -----------------------------------------------------------

"$S3" stop "$DIR" >/dev/null 2>&1
"$S3" start "$DIR" >/dev/null
load_env          # the port may have changed if the old one was taken meanwhile

s3 HEAD "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "after restart: HeadObject" 200 "$CODE"
check "after restart: ETag" "\"$OBJ_MD5\"" "$(header ETag)"
check "after restart: x-amz-meta-sha256" "$OBJ_SHA" "$(header x-amz-meta-sha256)"

s3 GET "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "after restart: GetObject body" "200 $OBJ_SHA" "$CODE $(sha256 "$TMP/body")"

s3 GET "$EP/$BUCKET?list-type=2" -H "x-amz-content-sha256: $EMPTY_SHA256"
check_contains "after restart: ListObjectsV2 KeyCount" "<KeyCount>2</KeyCount>" "$TMP/body"

# ---- clean up the bucket -------------------------------------------------------------------------

s3 DELETE "$EP/$BUCKET/$KEY_URL" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "DeleteObject" 204 "$CODE"
s3 DELETE "$VHOST/$KEY2" "${RESOLVE[@]}" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "DeleteObject (virtual-hosted)" 204 "$CODE"
s3 DELETE "$EP/$BUCKET" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "DeleteBucket" 204 "$CODE"
s3 HEAD "$EP/$BUCKET" -H "x-amz-content-sha256: $EMPTY_SHA256"
check "HeadBucket after delete" 404 "$CODE"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
