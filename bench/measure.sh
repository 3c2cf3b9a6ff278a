# Sourced by the benchmark scripts. measure LABEL COMMAND...: runs COMMAND under GNU time,
# its stdout in $WORK/LABEL.out and time's report in $WORK/LABEL.time, and prints
# "LABEL WALL_SECONDS PEAK_RSS_KB"; a failing command prints its report and exits.
measure() {
    label=$1; shift
    /usr/bin/time -v "$@" > "$WORK/$label.out" 2> "$WORK/$label.time" || { cat "$WORK/$label.time"; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$WORK/$label.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$label.time")
    echo "$label $wall $rss"
}
