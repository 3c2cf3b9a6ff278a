#!/bin/sh
# Shell completion (completions/pzflow.bash, completions/_pzflow) on pipelines/quick.yaml with
# the pzflow of this build: each shell is asked for completions at a given command line and
# must offer the expected words. zsh's completion builtins (compadd, _files) are replaced by
# stubs that print what they were given, so the logic runs without a terminal.
# Usage: test_completion.sh SOURCE_DIR BIN_DIR
set -eu
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-complete.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$src/pipelines" "$work/"
cd "$work"
fails=0

# check SHELL LINE WANTED...: at the end of LINE, a TAB offers every WANTED word.
check() {
    shell=$1 line=$2
    shift 2
    got=$(offer_$shell "$line" | tr '\n' ' ') before=$fails
    for w in "$@"; do
        case " $got " in
        *" $w "*) ;;
        *) echo "FAIL: $shell: '$line<TAB>' does not offer '$w'; offers: $got" | cut -c1-400; fails=$((fails + 1)) ;;
        esac
    done
    [ $fails -eq $before ] && echo "ok: $shell: '$line<TAB>' offers $*"
    return 0
}

offer_bash() {
    PATH="$bin:$PATH" bash -c '
        source "$1"
        read -r -a COMP_WORDS <<<"$2"
        case $2 in *" ") COMP_WORDS+=("") ;; esac
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _pzflow
        printf "%s\n" "${COMPREPLY[@]}"' sh "$src/completions/pzflow.bash" "$1"
}

offer_zsh() {
    PATH="$bin:$PATH" zsh -f -c '
        compadd() { while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -S ]] && shift; shift; done
                    [[ $1 == -- ]] && shift; print -rl -- "$@"; }
        _files() { print -r -- "_files"; print -rl -- *.(yaml|yml)(N); }
        _directories() { print -r -- "_directories"; }
        fpath=("$1" $fpath); autoload -Uz _pzflow
        words=(${=2}); [[ $2 == *" " ]] && words+=("")
        CURRENT=${#words}
        _pzflow' zsh "$src/completions" "$1"
}

for sh in bash zsh; do
    check $sh "pzflow " run status why dag log show gc provenance
    check $sh "pzflow run pipelines/quick.yaml --k" --keep-going
    check $sh "pzflow why pipelines/quick.yaml " train-base "train-base[1]" evaluate mock-sky
    check $sh "pzflow run pipelines/quick.yaml --force " fine-tune-tl plot
    check $sh "pzflow run -j 2 pipelines/quick.yaml --until " split-transferz
    check $sh "pzflow run pipelines/quick.yaml --set " vars.epochs= vars.seeds= stages.train-base.params.epochs=
done
check bash "pzflow run pipelines/q" pipelines/quick.yaml
check bash "pzflow status pipelines/" pipelines/quick.yaml pipelines/paper.yaml
check zsh "pzflow run " _files
check bash "pzflow run pipelines/quick.yaml -C " pipelines
check zsh "pzflow run pipelines/quick.yaml -C " _directories
[ $fails -eq 0 ] || { echo "$fails completion check(s) failed"; exit 1; }
