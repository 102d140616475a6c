# make install / uninstall into a staging root (DESTDIR): exactly the
# expected files; the installed binary runs; an installed plot script finds
# its modules and draws; the man page renders without a warning and holds
# every option of --help; the bash completion completes every option of
# each command's --help, the strategy names and files; uninstall leaves
# nothing.  The binary under test is the one installed (INSTALL_BIN), the
# man page and completion are generated from it into the scratch dir.
. "$(dirname "$0")/lib.sh"

cd "$SCRATCH"
ROOT=$SCRATCH/root
GEN=$SCRATCH/gen
mk() { make -s -C "$FB_ROOT" "$@" DESTDIR="$ROOT" PREFIX=/usr INSTALL_BIN="$FETCHBENCH" GENDIR="$GEN"; }
mk install > install.log 2>&1 || { cat install.log; fail "make install"; }

# 1. Exactly these files, the links pointing into share/fetchbench.
cd "$ROOT"
find . ! -type d | sort > "$SCRATCH/files"
cat > "$SCRATCH/expected" <<'EOF'
./usr/bin/fetchbench
./usr/bin/fetchbench-plot-compare
./usr/bin/fetchbench-plot-strategies
./usr/bin/fetchbench-plot-timeline
./usr/bin/fetchbench-strategy-table
./usr/share/bash-completion/completions/fetchbench
./usr/share/fetchbench/fbhtml.css
./usr/share/fetchbench/fbhtml.js
./usr/share/fetchbench/fbhtml.py
./usr/share/fetchbench/fbplot.py
./usr/share/fetchbench/plot-compare
./usr/share/fetchbench/plot-strategies
./usr/share/fetchbench/plot-timeline
./usr/share/fetchbench/strategy-table
./usr/share/man/man1/fetchbench.1
EOF
diff "$SCRATCH/expected" "$SCRATCH/files" || fail "installed files differ from the list (< expected, > installed)"
for t in plot-timeline plot-compare plot-strategies strategy-table; do
    expect_eq "bin/fetchbench-$t" "$(readlink "usr/bin/fetchbench-$t")" "../share/fetchbench/$t"
done
cd "$SCRATCH"

# 2. The installed binary runs (its embedded server is itself).
BIN=$ROOT/usr/bin/fetchbench
expect_eq "installed --version" "$("$BIN" --version)" "$("$FETCHBENCH" --version)"
$TEST_PREFIX "$BIN" --tasks 4 --mode lock,nolock --delay-ms 100 --quiet -o run.json || fail "installed binary's run"
validate run.json fetchbench/2
expect_eq "upstream requests under lock" "$(jqv run.json '.runs[0].summary.upstream_requests')" 1

# 3. The installed plot scripts, from another directory with no sources on
#    the path: a PNG, and an HTML page with the installed .js/.css inlined.
#    As on a user's machine, nothing forbids bytecode: the scripts must
#    write none there (uninstall's check would find it).
env -u PYTHONPATH -u PYTHONDONTWRITEBYTECODE "$ROOT/usr/bin/fetchbench-plot-timeline" run.json -o timeline.png > plot.log 2>&1 \
    || { cat plot.log; fail "installed plot-timeline"; }
expect_eq "PNG signature" "$(head -c 8 timeline.png | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a
env -u PYTHONPATH -u PYTHONDONTWRITEBYTECODE "$ROOT/usr/bin/fetchbench-plot-timeline" run.json -o timeline.html > plot.log 2>&1 \
    || { cat plot.log; fail "installed plot-timeline (HTML)"; }
grep -q "$(head -c 60 "$ROOT/usr/share/fetchbench/fbhtml.css" | head -1)" timeline.html \
    || fail "the HTML page lacks the installed stylesheet"
env -u PYTHONPATH -u PYTHONDONTWRITEBYTECODE "$ROOT/usr/bin/fetchbench-strategy-table" run.json > table.txt 2> plot.log \
    || { cat plot.log; fail "installed strategy-table"; }
grep -q nolock table.txt || fail "strategy-table: no nolock row"

# 4. The man page: renders at 80 columns with no warning (man and groff
#    -ww), has the sections a man page has, every long option of --help
#    and a part for each subcommand.
PAGE=$ROOT/usr/share/man/man1/fetchbench.1
warnings=$(MANWIDTH=80 man -l "$PAGE" 2>&1 >/dev/null)
expect_eq "man -l warnings" "$warnings" ""
expect_eq "groff -ww warnings" "$(groff -ww -man -Tutf8 -z "$PAGE" 2>&1)" ""
MANWIDTH=80 man -l "$PAGE" 2>/dev/null | col -bx > page.txt
for s in NAME SYNOPSIS DESCRIPTION OPTIONS SUBCOMMANDS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -qx "$s" page.txt || fail "man page: no $s section"
done
awk 'length > 80' page.txt > long.txt
[ ! -s long.txt ] || fail "man page: lines past 80 columns: $(cat long.txt)"
# The options and subcommands, read from --help here by another rule than
# the generator's: a long option at the start of an indented line or in a
# [--option] of a synopsis; a subcommand after "fetchbench" in Usage or
# listed at the start of an indented line (not the Usage's second line,
# "fetchbench SUBCOMMAND").
help_options() { sed -n 's/^ \{1,8\}\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p'; }
bracket_options() { grep -o '\[--[a-z][a-z0-9-]*' | tr -d '['; }
subs=$("$BIN" --help | sed -n -e 's/^\(Usage: \| *\)fetchbench \([a-z][a-z]*\) .*/\2/p' \
                         -e 's/^ \{1,8\}\([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | grep -vx fetchbench | sort -u)
[ -n "$subs" ] || fail "no subcommand in --help's Usage"
for o in $("$BIN" --help | help_options); do
    grep -q -- "^ *\(-[A-Za-z], \)\{0,1\}$o\b" page.txt || fail "man page: $o of --help is not an item"
done
for s in $subs; do
    grep -qx "   fetchbench $s" page.txt || fail "man page: no part for 'fetchbench $s'"
    for o in $("$BIN" "$s" --help | help_options; "$BIN" "$s" --help | bracket_options); do
        grep -q -- "$o" page.txt || fail "man page: $o of '$s --help' is missing"
    done
done

# 5. Completion, as bash calls it: COMP_WORDS/COMP_CWORD in, COMPREPLY out.
COMPLETION=$ROOT/usr/share/bash-completion/completions/fetchbench
complete_words() { # complete_words WORD... : completions of the last word
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fetchbench
             printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "fetchbench --mo" "$(complete_words fetchbench --mo)" "--mode"
expect_eq "fetchbench --mode lock,sing" "$(complete_words fetchbench --mode lock,sing)" "lock,singleflight"
expect_eq "fetchbench --mode=n" "$(complete_words fetchbench --mode = n)" "nolock"
modes=$("$BIN" --help | sed -n 's/^ \{28,\}\([a-z][a-z]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "fetchbench -m (every strategy of --help)" "$(complete_words fetchbench -m '')" "$modes"
expect_eq "fetchbench s" "$(complete_words fetchbench s)" "serve"
mkdir cwd && touch cwd/ca.pem cwd/base.json cwd/other.txt
cd cwd
expect_eq "fetchbench --cacert c" "$(complete_words fetchbench --cacert c)" "ca.pem"
expect_eq "fetchbench -o b" "$(complete_words fetchbench -o b)" "base.json"
expect_eq "fetchbench compare b" "$(complete_words fetchbench compare b)" "base.json"
expect_eq "fetchbench --tasks (a number)" "$(complete_words fetchbench --tasks '')" ""
cd ..
# Every option of each command's --help is completed for that command.
all=" $(complete_words fetchbench --) "
for o in $("$BIN" --help | help_options); do
    case $all in *" $o "*) ;; *) fail "completion: $o of --help is not completed" ;; esac
done
for s in $subs; do
    all=" $(complete_words fetchbench "$s" --) "
    for o in $("$BIN" "$s" --help | help_options; "$BIN" "$s" --help | bracket_options); do
        case $all in *" $o "*) ;; *) fail "completion: $o of '$s --help' is not completed" ;; esac
    done
done

# 6. Uninstall: nothing left but the (shared) directories, and not ours.
mk uninstall > uninstall.log 2>&1 || { cat uninstall.log; fail "make uninstall"; }
left=$(cd "$ROOT" && find . ! -type d)
expect_eq "files left after uninstall" "$left" ""
[ ! -d "$ROOT/usr/share/fetchbench" ] || fail "share/fetchbench is left"
echo ok
