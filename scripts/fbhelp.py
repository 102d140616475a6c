"""fbhelp — fetchbench's --help texts read as blocks, for the build
scripts that write the man page (make-man) and the bash completion
(make-completion) from them.

How --help is read (its layout, kept by every subcommand):
  - "Usage:" and the lines after it that start with '[' or "fetchbench":
    the synopsis (a comment after two blanks is left out);
  - a line indented by 1-8 blanks: an item, "TERM  description" or TERM
    alone with its description on the lines below (an option and its one
    argument may be followed by a single blank); lines indented deeper
    continue it, and among them "name  description" lines indented past
    the description's column are a nested list (the strategies of --mode);
  - an unindented line: prose, to the next blank line, item or line that
    begins with a label ("Metrics: "); a paragraph that begins
    "Exit codes:" lists the exit status, "; N " between codes.
"""
import re
import subprocess
import sys


def run_help(binary, *args):
    """binary args --help as text; any other exit than 0 is an error."""
    p = subprocess.run([binary, *args, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("%s --help exited %d: %s"
                 % (" ".join([binary, *args]), p.returncode, p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode("utf-8")


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


ITEM = re.compile(r"^( {1,8})(\S(?:\S| (?! ))*)(?: {2,}(\S.*))?$")
# An option and its one argument (A[,B...], FILE, N): the description may
# follow a single blank.
OPTION_ITEM = re.compile(r"^( {1,8})((?:-\w, )?--?[\w-]+(?:[ =][A-Z][\w\[\],.]*)?)(?: +(\S.*))?$")
NESTED = re.compile(r"^( +)([a-z][\w-]*) {2,}(\S.*)$")
NESTED_AT = re.compile(r"^( +)([a-z][\w-]*) +(\S.*)$")


# "Exit codes: ", "Metrics: ", "Refused (exit 2): " at a line's start
# begin a paragraph of their own.
LABEL = re.compile(r"^[A-Z][a-z]+(?: [a-z]+)?(?: \([^)]*\))?: ")


def parse(text):
    """--help text as blocks: ("usage", [commands]), ("prose", [lines]),
    ("exit", [(code, text)]), ("item", term, [lines], [(name, text)])."""
    lines = text.rstrip("\n").split("\n")
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif re.match(r"^[Uu]sage: ", line):
            cmds = []
            first = line.split(":", 1)[1].strip()
            while True:
                cmd = re.split(r" {2,}", first)[0]
                if cmd.startswith("[") and cmds:
                    cmds[-1] += " " + cmd
                else:
                    cmds.append(cmd)
                i += 1
                if i >= len(lines) or not lines[i].startswith(" ") or not re.match(r"^\s+(\[|fetchbench)", lines[i]):
                    break
                first = lines[i].strip()
            blocks.append(("usage", cmds))
        elif line.startswith(" ") and (OPTION_ITEM.match(line) or ITEM.match(line)):
            m = OPTION_ITEM.match(line) or ITEM.match(line)
            base = len(m.group(1))
            desc = [m.group(3)] if m.group(3) else []
            col = line.index(m.group(3)) if m.group(3) else None
            nested, nested_at = [], None
            i += 1
            while i < len(lines) and lines[i].strip() and indent_of(lines[i]) > base \
                    and not (indent_of(lines[i]) <= 8 and lines[i].lstrip().startswith("-")):
                cont = lines[i]
                if col is None:
                    col = indent_of(cont)
                n = NESTED.match(cont)
                if n and indent_of(cont) > col and nested_at is None:
                    nested_at = indent_of(cont)
                # The list's names are aligned: one blank after the longest.
                n = NESTED_AT.match(cont) if nested_at == indent_of(cont) else None
                if n:
                    nested.append((n.group(2), n.group(3)))
                elif nested:
                    nested[-1] = (nested[-1][0], nested[-1][1] + " " + cont.strip())
                else:
                    desc.append(cont.strip())
                i += 1
            blocks.append(("item", m.group(2), desc, nested))
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(" ") \
                    and not (para and LABEL.match(lines[i])):
                para.append(lines[i])
                i += 1
            joined = " ".join(para)
            if joined.startswith("Exit codes:"):
                body = joined[len("Exit codes:"):].strip().rstrip(".")
                codes = []
                for part in re.split(r";\s+(?=\d)", body):
                    code, _, what = part.partition(" ")
                    codes.append((code, what))
                blocks.append(("exit", codes))
            else:
                blocks.append(("prose", para))
    return blocks


def is_subcommand_item(b):
    """An item of the main --help that names a subcommand ("serve",
    "report FILE..."): a lowercase word first, not an option."""
    return b[0] == "item" and re.match(r"^[a-z]+(?: |$)", b[1]) is not None


def subcommands(blocks):
    """The subcommands of the main --help's blocks, in their order: those
    its Usage lines name and those it lists as items."""
    names = []
    for b in blocks:
        found = []
        if b[0] == "usage":
            found = [m.group(1) for m in (re.match(r"^fetchbench ([a-z]+)\b", c) for c in b[1]) if m]
        elif is_subcommand_item(b):
            found = [b[1].split(" ")[0]]
        names += [n for n in found if n not in names]
    return names


def subcommand_helps(binary, main_help):
    """{name: its --help text} for each subcommand the main --help names
    that this build has: one whose --help fails or answers with the main
    help is left out, with a note on stderr (the tests list them from
    --help on their own, and fail on a part missing)."""
    helps = {}
    for name in subcommands(parse(main_help)):
        p = subprocess.run([binary, name, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        text = p.stdout.decode("utf-8")
        if p.returncode != 0 or text == main_help:
            sys.stderr.write("note: `fetchbench %s --help` gives no help of its own: left out\n" % name)
        else:
            helps[name] = text
    return helps




def is_heading(blocks, k):
    """A one-line paragraph ending in ':' right before an item."""
    b = blocks[k]
    return (b[0] == "prose" and len(b[1]) == 1 and b[1][0].endswith(":") and len(b[1][0]) < 72
            and k + 1 < len(blocks) and blocks[k + 1][0] == "item")
