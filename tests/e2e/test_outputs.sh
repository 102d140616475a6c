# Output paths: only a regular file (or a new name) is replaced, atomically;
# a symlink keeps being a link while its target is replaced; a FIFO or a
# device is written through; "-" is stdout. A directory, an unwritable place,
# one file for both outputs, a closed stdout: refused with exit 2 before
# anything runs. Closed fds 0-2 never get a report, socket or temporary.
. "$FB_ROOT/tests/e2e/lib.sh"

# rv FILE FILTER: one raw value out of the report's first run.
rv() { jq -r ".runs[0] | $2" "$1"; }

D=$SCRATCH/d
mkdir "$D"

# run ARGS...: a short run on the embedded server.
run() { fb --tasks 2 --delay-ms 50 --quiet "$@"; }
# report FILE: a complete, valid report of such a run.
report() {
    validate "$1"
    expect_eq "cache hits in $1" "$(rv "$1" .summary.cache_hits)" 1
}
# listing: the names in $D, one line.
listing() { (cd "$D" && LC_ALL=C ls -A | tr '\n' ' '); }
# requests: what the test's own server has been asked so far.
requests() { curl -sf "$SERVER_URL/stats" | jq -r .requests; }

# refused WHAT ARGS...: exit 2 and one line on stderr before anything ran:
# the server the run would fetch from saw no request.
refused() {
    what=$1; shift
    before=$(requests)
    expect_exit 2 fb --tasks 2 --quiet --url "$SERVER_URL/delay/50" "$@" \
        > "$SCRATCH/out" 2> "$SCRATCH/err"
    [ "$(wc -l < "$SCRATCH/err")" -eq 1 ] || fail "$what: not one line on stderr: $(cat "$SCRATCH/err")"
    expect_eq "stdout bytes ($what)" "$(wc -c < "$SCRATCH/out")" 0
    expect_eq "requests made ($what)" "$(requests)" "$before"
    echo "ok: $what: $(cat "$SCRATCH/err")"
}

start_server

# --- a symlink: the link stays, its target is replaced by a rename --------
echo old > "$D/real.json"
ln "$D/real.json" "$D/old-inode"    # still the old file if the target is renamed over
ln -s real.json "$D/link.json"
run --output "$D/link.json"
[ -L "$D/link.json" ] || fail "the symlink was replaced by a file"
expect_eq "link target" "$(readlink "$D/link.json")" real.json
report "$D/real.json"
expect_eq "the old file, untouched" "$(cat "$D/old-inode")" old
rm "$D/old-inode"

# A chain, relative links resolved from their own directory (not the cwd).
# (No cd here: a TEST_PREFIX may name files relative to the cwd.)
mkdir "$D/sub"
ln -s ../real.json "$D/sub/rel"
ln -s sub/rel "$D/chain"
echo old > "$D/real.json"
run --output "$D/chain"
[ -L "$D/chain" ] && [ -L "$D/sub/rel" ] || fail "a link of the chain was replaced"
report "$D/real.json"
# A dangling link: its target is created.
ln -s made.json "$D/dangling"
run --output "$D/dangling" --trace "$D/sub/rel"
[ -L "$D/dangling" ] || fail "the dangling link was replaced"
report "$D/made.json"
jq -e '.traceEvents | length > 0' "$D/real.json" > /dev/null || fail "trace through the chain"
echo "ok: symlinks"

# --- an existing file keeps its mode (not the umask's 644) ----------------
echo old > "$D/mode.json"
chmod 604 "$D/mode.json"
run --output "$D/mode.json"
expect_eq "mode kept" "$(stat -c %a "$D/mode.json")" 604
report "$D/mode.json"

# --- a FIFO: written through once a reader comes; it stays a FIFO ---------
mkfifo "$D/fifo"
run --output "$D/fifo" --delay-ms 300 &
pid=$!
# The reader comes after the run has started: the open waits for it.
sleep 0.1
timeout 30 cat "$D/fifo" > "$SCRATCH/from-fifo" || fail "nothing came through the FIFO"
wait $pid || fail "the run writing into a FIFO failed"
[ -p "$D/fifo" ] || fail "the FIFO was replaced"
report "$SCRATCH/from-fifo"
echo "ok: FIFO"

# --- a character device: written through; it stays a device --------------
if mknod "$D/null" c 1 3 2>/dev/null && [ -c "$D/null" ]; then
    run --output "$D/null" --trace "$D/null"
    [ -c "$D/null" ] || fail "the device node was replaced by a file"
    # Only now, as the binary is known not to replace a device: the real one.
    run --output /dev/null
    [ -c /dev/null ] || fail "/dev/null is no longer a device"
    rm "$D/null"
    echo "ok: character devices"
else
    echo "skip: mknod needs root (the real /dev/null is not risked)"
fi
# A device that refuses writes: a write error, exit 1, and it stays a device.
expect_exit 1 run --output /dev/full 2> "$SCRATCH/err"
[ -c /dev/full ] || fail "/dev/full is no longer a device"
grep -q "No space left" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"

# --- stdout: "-", /dev/fd/1, /dev/stdout; a file behind it is appended to -
run --output - > "$SCRATCH/dash.json"
report "$SCRATCH/dash.json"
run --output /dev/fd/1 > "$SCRATCH/fd1.json"
report "$SCRATCH/fd1.json"
# /dev/fd/1 went through: safe now to try /dev/stdout itself.
run --output /dev/stdout | cat > "$SCRATCH/piped.json"
report "$SCRATCH/piped.json"
[ -L /dev/stdout ] || fail "/dev/stdout is no longer a link"
# A pipe whose reader has gone: a write error, not a wait for a new reader.
{ set +e; timeout 60 $TEST_PREFIX "$FETCHBENCH" --tasks 2 --delay-ms 50 --quiet --output /dev/stdout \
    2> "$SCRATCH/err"; echo $? > "$SCRATCH/rc"; } | true
expect_eq "exit with the reader gone" "$(cat "$SCRATCH/rc")" 1
grep -q "Broken pipe" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
# stdout a socket (as under a service manager): /proc cannot reopen it, the
# descriptor itself is written.
/usr/bin/python3 - "$FETCHBENCH" "$SCRATCH/socket.json" <<'EOF_PY' || fail "--output /dev/stdout onto a socket"
import socket, subprocess, sys
ours, theirs = socket.socketpair()
cmd = [sys.argv[1]]
p = subprocess.Popen(cmd + ["--tasks", "2", "--delay-ms", "50", "--quiet", "--output", "/dev/stdout"],
                     stdout=theirs)
theirs.close()
data = b"".join(iter(lambda: ours.recv(65536), b""))
sys.exit(p.wait() or open(sys.argv[2], "wb").write(data) == 0)
EOF_PY
report "$SCRATCH/socket.json"
echo keep > "$SCRATCH/appended"
run --output /dev/stdout >> "$SCRATCH/appended"
expect_eq "the line before" "$(head -n 1 "$SCRATCH/appended")" keep
tail -n +2 "$SCRATCH/appended" > "$SCRATCH/appended.json"
report "$SCRATCH/appended.json"
run --output "$D/t-json.json" --trace - > "$SCRATCH/trace-stdout.json"
jq -e '.traceEvents | length > 0' "$SCRATCH/trace-stdout.json" > /dev/null || fail "--trace -"
report "$D/t-json.json"
echo "ok: stdout"

# --- refused before the run ------------------------------------------------
refused "--output a directory"      --output "$D"
refused "--trace a directory"       --trace "$D/sub"
refused "--output a link to a dir"  --output "$D/sub/.."
refused "--output in a missing dir" --output "$D/missing/x.json"
refused "--output under /proc"      --output /proc/fb-test.json
refused "same file"                 --output "$D/same.json" --trace "$D/same.json"
refused "same file, ./x and x"      --output "$D/same.json" --trace "$D/./sub/../same.json"
ln -s same.json "$D/same-link"
refused "same file through a link"  --output "$D/same.json" --trace "$D/same-link"
echo x > "$D/hard-a.json"
ln "$D/hard-a.json" "$D/hard-b.json"
refused "same file, hard links"     --output "$D/hard-a.json" --trace "$D/hard-b.json"
refused "--trace - with the report on stdout" --trace -
refused "--trace /dev/stdout with the report on stdout" --trace /dev/stdout
refused "both -"                    --output - --trace -
expect_eq "nothing was written" "$(cat "$D/hard-a.json")" x
[ ! -e "$D/same.json" ] || fail "same.json was created"

# An unwritable directory and file: immutable even to root when chattr works
# here; as an unprivileged user when setpriv is there.
mkdir "$D/ro"
echo old > "$D/ro-file.json"
if chattr +i "$D/ro" "$D/ro-file.json" 2>/dev/null; then
    cleanup_hooks="chattr -i '$D/ro' '$D/ro-file.json' 2>/dev/null || true; $cleanup_hooks"
    refused "an immutable directory" --output "$D/ro/x.json"
    refused "an immutable file"      --output "$D/ro-file.json"
    chattr -i "$D/ro" "$D/ro-file.json"
else
    echo "skip: chattr +i does not work here"
fi
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    # nobody must reach the binary and a directory of its own.
    chmod 755 "$SCRATCH"
    mkdir "$D/open"
    chmod 777 "$D/open"
    echo old > "$D/open/roots.json"
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    if as_nobody test -x "$FETCHBENCH"; then
        # A rename would replace root's file, as the directory is writable:
        # the file itself is not.
        before=$(requests)
        expect_exit 2 as_nobody $TEST_PREFIX "$FETCHBENCH" --tasks 2 --quiet \
            --url "$SERVER_URL/delay/50" --output "$D/open/roots.json" 2> "$SCRATCH/err"
        expect_eq "requests (unwritable file)" "$(requests)" "$before"
        expect_eq "root's file" "$(cat "$D/open/roots.json")" old
        expect_exit 2 as_nobody $TEST_PREFIX "$FETCHBENCH" --tasks 2 --quiet \
            --url "$SERVER_URL/delay/50" --output "$D/sub/x.json" 2> "$SCRATCH/err"
        expect_eq "requests (unwritable directory)" "$(requests)" "$before"
        expect_eq "the directories" "$(ls -A "$D/open" "$D/sub" | tr '\n' ' ')" \
            "$D/open: roots.json  $D/sub: rel "
        echo "ok: unwritable as nobody: $(cat "$SCRATCH/err")"
    else
        echo "skip: nobody cannot run $FETCHBENCH"
    fi
    chmod 700 "$SCRATCH"
fi

# --- no temporary is left behind: success, failure, --help ----------------
expect_exit 2 fb --tasks 2 --output "$D/fail.json" --url 'ftp://127.0.0.1/' 2>/dev/null
expect_exit 0 fb --output "$D/help.json" --help > /dev/null
expect_exit 1 fb --tasks 2 --quiet --output "$D/errors.json" --url "http://127.0.0.1:1/" 2>/dev/null
validate "$D/errors.json"
# The report is committed, then the trace fails: the trace's temporary goes.
expect_exit 1 run --output "$D/first.json" --trace /dev/full 2>/dev/null
report "$D/first.json"
expect_eq "files left" "$(listing)" \
    "chain dangling errors.json fifo first.json hard-a.json hard-b.json link.json made.json mode.json open real.json ro ro-file.json same-link sub t-json.json "
echo "ok: no temporaries"

# --- closed standard descriptors ---------------------------------------------
# A closed stdout with the report bound for it: refused before the run.
before=$(requests)
set +e
fb --tasks 2 --quiet --url "$SERVER_URL/delay/50" >&- 2> "$SCRATCH/err"
code=$?
set -e
expect_eq "exit with stdout closed" "$code" 2
grep -q "stdout is closed" "$SCRATCH/err" || fail "$(cat "$SCRATCH/err")"
expect_eq "requests with stdout closed" "$(requests)" "$before"
set +e
fb --tasks 2 --quiet --url "$SERVER_URL/delay/50" -o "$D/c.json" --trace /dev/stdout >&- 2>/dev/null
code=$?
set -e
expect_eq "exit with the trace bound for a closed stdout" "$code" 2
# Closed stdout, stdin, all three: report and trace complete, the embedded
# server's sockets elsewhere.
fb --tasks 2 --delay-ms 50 --quiet --output "$D/closed1.json" >&-
report "$D/closed1.json"
fb --tasks 2 --delay-ms 50 --quiet --output "$D/closed0.json" <&-
report "$D/closed0.json"
# valgrind (a TEST_PREFIX) cannot start without fd 2: the cases with a
# closed stderr are for the binary alone.
if [ -n "$TEST_PREFIX" ]; then
    echo "ok: closed descriptors (skip: closed stderr under TEST_PREFIX)"
    exit 0
fi
# Closed stderr: its messages are dropped, none lands inside the report. The
# soft fd limit below the hard one makes fetchbench say it raised it.
hard=$(ulimit -Hn)
(
    [ "$hard" = unlimited ] || [ "$hard" -gt 256 ] && ulimit -Sn 256
    fb --tasks 2 --delay-ms 50 --output "$D/closed2.json" --trace "$D/closed2.trace" 2>&-
)
report "$D/closed2.json"
jq -e '.traceEvents | length > 0' "$D/closed2.trace" > /dev/null || fail "trace with stderr closed"
(
    [ "$hard" = unlimited ] || [ "$hard" -gt 256 ] && ulimit -Sn 256
    fb --tasks 2 --delay-ms 50 --output "$D/closed012.json" --trace "$D/closed012.trace" <&- >&- 2>&-
)
report "$D/closed012.json"
jq -e '.traceEvents | length > 0' "$D/closed012.trace" > /dev/null || fail "trace with 0-2 closed"
# The server too: its listening socket must not take fd 0-2.
$TEST_PREFIX "$FETCHBENCH" serve --port 0 <&- 2>&- > "$SCRATCH/serve.out" &
spid=$!
cleanup_hooks="$cleanup_hooks kill $spid 2>/dev/null || true;"
url=$(await_url "$SCRATCH/serve.out" /dev/null)
expect_eq "closed-fd server answers" "$(curl -s -o /dev/null -w '%{http_code}' "$url/delay/0")" 200
kill $spid
echo "ok: closed descriptors"
