# HTTPS targets: a real TLS server on loopback (tests/tls_server.py) with a
# certificate from a CA made here by openssl, for the names 127.0.0.1 (IP)
# and localhost. Without --cacert nothing trusts it: every task fails at the
# tls stage; --cacert ca.pem trusts it (the transfers and the /stats that
# --backend-stats reads); --insecure verifies nothing and says so; a CA that
# did not sign it is refused like none.
. "$(dirname "$0")/lib.sh"

cd "$SCRATCH"
# ca.pem signs server.pem; other.pem is a CA that signed nothing here.
make_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=fetchbench test $1" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign -keyout "$1.key" -out "$1.pem" 2>/dev/null \
        || fail "openssl could not make the CA $1"
}
make_ca ca
make_ca other
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null || fail "openssl: no server key"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null || fail "openssl: no server certificate"

# elsewhere.pem: signed by ca.pem, but for another name than the URL's.
sed 's/^subjectAltName=.*/subjectAltName=DNS:elsewhere.test/' server.ext > elsewhere.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile elsewhere.ext -out elsewhere.pem 2>/dev/null || fail "openssl: no second certificate"

# tls_server CERT NAME: serves with CERT in the background (in this shell,
# so that the cleanup kills it: a command substitution's subshell would
# lose the hook); its URL in NAME.out.
tls_server() {
    /usr/bin/python3 "$FB_ROOT/tests/tls_server.py" "$1.pem" server.key > "$2.out" 2> "$2.err" &
    cleanup_hooks="$cleanup_hooks kill $! 2>/dev/null || true;"
    i=0
    until grep -q '^https://' "$2.out"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "tls_server did not start: $(cat "$2.err")"
        sleep 0.05
    done
}
tls_server server tls
tls_server elsewhere elsewhere
URL=$(cat tls.out)
OTHER_NAME_URL=$(cat elsewhere.out)
PORT=${URL##*:}
# The server's own count of /delay requests (handshakes that failed count none).
served() { curl -sf --cacert ca.pem "$URL/stats" | jq -r .requests; }

# 1. The system's CAs do not know ours: every fetch fails at the tls stage,
#    the report and the summary say so, exit 1.
expect_exit 1 fb --url "$URL/delay/100" --tasks 4 --mode lock -o none.json 2> none.err
validate none.json fetchbench/2
expect_eq "tls errors without --cacert" "$(jqv none.json '.runs[0].summary.errors.tls')" 4
expect_eq "all errors are tls ones" "$(jqv none.json '.runs[0].summary.errors.total')" 4
expect_eq "each task's error stage" "$(jqv none.json '[.runs[0].tasks[].error.stage] | unique | join(",")')" tls
grep -q 'tls 4' none.err || fail "the summary does not name the tls errors: $(cat none.err)"
grep -q 'certificate' none.err || fail "the summary does not say what the handshake refused: $(cat none.err)"
expect_eq "requests served without trust" "$(served)" 0

# 2. --cacert ca.pem: trusted, one upstream request under lock; the server
#    counted exactly one, and --backend-stats read its HTTPS /stats with the
#    same CA (a run without server counts would say 'server saw -').
for host in 127.0.0.1 localhost; do
    before=$(served)
    fb --url "https://$host:$PORT/delay/100/url/{key}" --tasks 5 --mode lock --cacert ca.pem \
        --backend-stats "$URL/stats" -o ok.json 2> ok.err || fail "--cacert ca.pem ($host): $(cat ok.err)"
    validate ok.json fetchbench/2
    expect_eq "errors with --cacert ($host)" "$(jqv ok.json '.runs[0].summary.errors.total')" 0
    expect_eq "upstream requests under lock ($host)" "$(jqv ok.json '.runs[0].summary.upstream_requests')" 1
    expect_eq "server requests via HTTPS --backend-stats ($host)" "$(jqv ok.json '.runs[0].server.requests')" 1
    expect_eq "the server's own count ($host)" "$(served)" $((before + 1))
    grep -q 'server saw 1' ok.err || fail "summary ($host): $(cat ok.err)"
done

# 3. --insecure: no verification, a warning on stderr (none with --quiet).
fb --url "$URL/delay/100" --tasks 3 --mode lock --insecure -o insecure.json 2> insecure.err \
    || fail "--insecure: $(cat insecure.err)"
expect_eq "errors with --insecure" "$(jqv insecure.json '.runs[0].summary.errors.total')" 0
expect_eq "upstream requests with --insecure" "$(jqv insecure.json '.runs[0].summary.upstream_requests')" 1
grep -q -- '--insecure: HTTPS certificates and host names are not verified' insecure.err \
    || fail "no --insecure warning: $(cat insecure.err)"
fb --url "$URL/delay/100" --tasks 1 --insecure --quiet -o /dev/null 2> quiet.err || fail "--insecure --quiet"
expect_eq "--insecure --quiet says nothing" "$(cat quiet.err)" ""

# 3b. A certificate our CA signed for another name: the name is checked
#     (tls errors), and --insecure checks it no more than the chain.
expect_exit 1 fb --url "$OTHER_NAME_URL/delay/100" --tasks 2 --mode lock --cacert ca.pem -o name.json 2> name.err
expect_eq "tls errors for another name" "$(jqv name.json '.runs[0].summary.errors.tls')" 2
fb --url "$OTHER_NAME_URL/delay/100" --tasks 2 --mode lock --cacert ca.pem --insecure --quiet -o name.json \
    || fail "--insecure still checks the name"
expect_eq "errors with --insecure, another name" "$(jqv name.json '.runs[0].summary.errors.total')" 0

# 4. A CA that did not sign the server's certificate: refused like none, and
#    --cacert takes the place of the system's CAs rather than adding to them.
expect_exit 1 fb --url "$URL/delay/100" --tasks 3 --mode lock --cacert other.pem -o wrong.json 2> wrong.err
expect_eq "tls errors with the wrong CA" "$(jqv wrong.json '.runs[0].summary.errors.tls')" 3
expect_eq "no success with the wrong CA" "$(jqv wrong.json '[.runs[0].tasks[] | select(.error == null)] | length')" 0

# 5. --insecure holds for the HTTPS /stats of --backend-stats too.
fb --url "$URL/delay/100" --tasks 2 --mode lock --insecure --quiet --backend-stats "$URL/stats" \
    -o stats.json 2> stats.err || fail "--insecure --backend-stats: $(cat stats.err)"
expect_eq "server requests via --backend-stats with --insecure" "$(jqv stats.json '.runs[0].server.requests')" 1
echo "ok"
