# bash completion for pzflow (installed as share/bash-completion/completions/pzflow).
# Commands and options are read from `pzflow --help`, so they follow the CLI; stage names and
# --set paths come from `pzflow __complete stages|sets PIPELINE`, which loads the pipeline
# (with its extends:) and touches no cache. Pipeline files: *.yaml and *.yml.

# Words of one section of the --help text: the first word of each item ("commands") or every
# option spelling ("options").
_pzflow_help_words()
{
    "$1" --help 2>/dev/null | awk -v want="$2" '
        /^[a-z][a-z ]*:/ { section = $0; sub(/:.*/, "", section); next }
        section == want && want == "commands" && /^  [a-z]/ { print $1 }
        section == want && want == "options" && /^  -/ {
            line = $0; sub(/^  /, "", line); sub(/   .*/, "", line)
            n = split(line, w, /[ ,]+/)
            for (i = 1; i <= n; i++) if (w[i] ~ /^-/) print w[i]
        }'
}

_pzflow()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local exe=${COMP_WORDS[0]} cmd="" pipeline="" i w
    # The command and the pipeline are the first two words that are not options or their values.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        --set | --force | --until | -C | --cache | -j | --jobs) ((i++)) ;;
        -*) ;;
        *) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $pipeline ]]; then pipeline=$w; fi ;;
        esac
    done
    COMPREPLY=()
    case $prev in
    --force | --until)
        [[ -n $pipeline ]] && COMPREPLY=($(compgen -W "$("$exe" __complete stages "$pipeline" 2>/dev/null)" -- "$cur"))
        return ;;
    --set)
        if [[ -n $pipeline && $cur != *=* ]]; then
            COMPREPLY=($(compgen -W "$("$exe" __complete sets "$pipeline" 2>/dev/null)" -- "$cur"))
            compopt -o nospace 2>/dev/null
        fi
        return ;;
    -C | --cache)
        COMPREPLY=($(compgen -d -- "$cur"))
        return ;;
    -j | --jobs)
        return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$(_pzflow_help_words "$exe" options)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(_pzflow_help_words "$exe" commands)" -- "$cur"))
    elif [[ -z $pipeline ]]; then
        COMPREPLY=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -f -X '!*.yml' -- "$cur") $(compgen -d -S / -- "$cur"))
        compopt -o nospace 2>/dev/null
        # A file name is complete: add the space ourselves.
        ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} != */ ]] && COMPREPLY[0]+=" "
    elif [[ $cmd == why || $cmd == log ]]; then
        COMPREPLY=($(compgen -W "$("$exe" __complete stages "$pipeline" 2>/dev/null)" -- "$cur"))
    fi
}
complete -F _pzflow pzflow
