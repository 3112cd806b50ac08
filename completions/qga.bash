#!/bin/bash

__qga_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__qga_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__qga_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__qga_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_qga() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __qga_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    exec|run|cp|cat|commands|shutdown|reboot|wait|fsfreeze|freeze-run|snapshot|ping|info|osinfo|hostname|fsinfo|ifaddr|users|timezone|vcpus|disks|load|time|stats|fstrim|suspend|passwd|ssh-keys|help)
        # Offer subcommand argument completions
        "_qga_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'exec run cp cat commands shutdown reboot wait fsfreeze freeze-run snapshot ping info osinfo hostname fsinfo ifaddr users timezone vcpus disks load time stats fstrim suspend passwd ssh-keys help' -- "${cur}"))
        ;;
    esac
}

_qga_exec() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --no-check --json --version -h --help)
    repeating_options=(-c --connect -t --target)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs --args --describe)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '-t'|'--target')
        __qga_add_completions -W "$(__qga_custom_complete ---completion exec -- --target "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    '--args')
        return
        ;;
    '--describe')
        __qga_add_completions -W "$(__qga_custom_complete ---completion exec -- --describe "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qga_add_completions -W "$(__qga_custom_complete ---completion exec -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    2)
        __qga_add_completions -W "$(__qga_custom_complete ---completion exec -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion exec -- positional@2 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_run() {
    repeating_flags=()
    non_repeating_flags=(--all --shell --kill --version -h --help)
    repeating_options=(-c --connect -e)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '-e')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion run -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_cp() {
    repeating_flags=()
    non_repeating_flags=(-r -R --recursive --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size)
    __qga_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    esac
}

_qga_cat() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    esac
}

_qga_commands() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_qga_shutdown() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --mode --wait --fallback)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--mode')
        __qga_add_completions -W 'powerdown'$'\n''halt'$'\n''reboot'
        return
        ;;
    '--wait')
        return
        ;;
    '--fallback')
        __qga_add_completions -W 'acpi'
        return
        ;;
    esac
}

_qga_reboot() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --wait --fallback)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--wait')
        return
        ;;
    '--fallback')
        __qga_add_completions -W 'acpi'
        return
        ;;
    esac
}

_qga_wait() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    esac
}

_qga_fsfreeze() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(-c --connect --mountpoint)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size)
    __qga_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--mountpoint')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qga_add_completions -W 'status'$'\n''freeze'$'\n''thaw'
        return
        ;;
    esac
}

_qga_freeze-run() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(-c --connect --mountpoint)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --max-frozen)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--mountpoint')
        return
        ;;
    '--max-frozen')
        return
        ;;
    esac
}

_qga_snapshot() {
    repeating_flags=()
    non_repeating_flags=(--disk-only --atomic --allow-unquiesced --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --name)
    __qga_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--name')
        return
        ;;
    esac
}

_qga_ping() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion ping -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_info() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion info -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_osinfo() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion osinfo -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_hostname() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion hostname -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_fsinfo() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion fsinfo -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_ifaddr() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion ifaddr -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_users() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion users -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_timezone() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion timezone -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_vcpus() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion vcpus -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_disks() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion disks -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_load() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion load -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_time() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --sync --from-rtc --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs --set)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '--set')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion time -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_stats() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __qga_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    cpu|disk)
        # Offer subcommand argument completions
        "_qga_stats_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'cpu disk' -- "${cur}"))
        ;;
    esac
}

_qga_stats_cpu() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion stats cpu -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_stats_disk() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion stats disk -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_fstrim() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs --minimum)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '--minimum')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion fstrim -- positional@0 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_suspend() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __qga_add_completions -W 'ram'$'\n''disk'$'\n''hybrid'
        return
        ;;
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion suspend -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_passwd() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --crypted --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion passwd -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_ssh-keys() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __qga_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|add|remove)
        # Offer subcommand argument completions
        "_qga_ssh-keys_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list add remove' -- "${cur}"))
        ;;
    esac
}

_qga_ssh-keys_list() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion ssh-keys list -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_ssh-keys_add() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --reset --version -h --help)
    repeating_options=(-c --connect -k --key)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs -f --file)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '-k'|'--key')
        return
        ;;
    '-f'|'--file')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion ssh-keys add -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_ssh-keys_remove() {
    repeating_flags=()
    non_repeating_flags=(--compact --raw --all --json --version -h --help)
    repeating_options=(-c --connect -k --key)
    non_repeating_options=(--channel --sync-timeout --timeout --max-reply-size --color -j --jobs -f --file)
    __qga_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '-c'|'--connect')
        return
        ;;
    '--channel')
        return
        ;;
    '--sync-timeout')
        return
        ;;
    '--timeout')
        return
        ;;
    '--max-reply-size')
        return
        ;;
    '--color')
        __qga_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '-j'|'--jobs')
        return
        ;;
    '-k'|'--key')
        return
        ;;
    '-f'|'--file')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __qga_add_completions -W "$(__qga_custom_complete ---completion ssh-keys remove -- positional@1 "${COMP_CWORD}" "$(__qga_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_qga_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __qga_offer_flags_options -1
}

complete -o filenames -F _qga qga
