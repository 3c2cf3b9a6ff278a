# pzflow --help, then each `pzflow COMMAND --help` (stdin) -> roff man page pzflow(1) (stdout).
# Run by cmake/man_page.cmake. -v summary=... -v version=...  The help text's shape, which the
# CLI keeps:
#   usage: pzflow ...                      -> SYNOPSIS (the first); a later one starts a command's
#                                             subsection of COMMAND DETAILS, headed "pzflow CMD"
#   a header line "name:"                  -> a section NAME (in a command's help: a bold header)
#   "name: text" (no indent)               -> the same, whose body starts with text
#   "  term   description" (2-space indent, 2+ spaces before the description) -> a tagged item
#   "  term" alone                         -> a tagged item without description
#   a deeper-indented line                 -> continues the item above
#   any other line                         -> a line of body text
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/) s = "\\&" s
    return s
}
function section(name) { print ".SH " toupper(name) }
BEGIN {
    print ".\\\" Generated from `pzflow --help` by cmake/man_page.awk: edit the help text in core/engine/cli.c."
    print ".TH PZFLOW 1 \"\" \"pzflow " version "\" \"User Commands\""
    section("name")
    print "pzflow \\- " esc(summary)
}
function header(name) {
    if (in_command) { print ".PP"; print "\\fB" esc(name) ":\\fR" } else section(name)
}
/^usage: / && !seen_usage { seen_usage = 1; section("synopsis"); sub(/^usage: /, ""); print esc($0); next }
/^usage: / {
    if (!in_command) section("command details")
    in_command = 1
    sub(/^usage: /, "")
    split($0, w, " ")
    print ".SS \"" esc(w[1] " " w[2]) "\""
    print esc($0)
    next
}
/^$/ { print ".PP"; next }
/^[a-z][a-z ]*:$/ { sub(/:$/, ""); header($0); next }
/^[a-z][a-z ]*: / { name = $0; sub(/: .*/, "", name); header(name); sub(/^[a-z][a-z ]*: /, ""); print esc($0); next }
/^  [^ ]/ {
    line = substr($0, 3)
    if (match(line, /   *[^ ]/)) {
        print ".TP"; print "\\fB" esc(substr(line, 1, RSTART - 1)) "\\fR"
        print esc(substr(line, RSTART + RLENGTH - 1))
    } else { print ".TP"; print "\\fB" esc(line) "\\fR" }
    next
}
/^    / { sub(/^ +/, ""); print esc($0); next }
{ print esc($0) }
