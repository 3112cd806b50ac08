function __qga_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __qga_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __qga_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __qga_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __qga_parse_tokens -S
    set -l unparsed_tokens (__qga_tokens -pc)
    switch $unparsed_tokens[1]
    case 'qga'
        __qga_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'exec'
            __qga_parse_subcommand -r 3 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'args=' 'no-check' 'describe=' 'json' 'version' 'h/help'
        case 'commands'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'shutdown'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mode=' 'wait=' 'fallback=' 'version' 'h/help'
        case 'reboot'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'wait=' 'fallback=' 'version' 'h/help'
        case 'fsfreeze'
            __qga_parse_subcommand 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mountpoint=+' 'json' 'version' 'h/help'
        case 'freeze-run'
            __qga_parse_subcommand -r 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mountpoint=+' 'max-frozen=' 'version' 'h/help'
        case 'snapshot'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'name=' 'disk-only' 'atomic' 'allow-unquiesced' 'version' 'h/help'
        case 'cp'
            __qga_parse_subcommand 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'version' 'h/help'
        case 'cat'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'version' 'h/help'
        case 'help'
            __qga_parse_subcommand -r 1 'version'
        end
    end
end

function __qga_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __qga_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __qga_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __qga_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__qga_tokens -p)
    if test -z "$(__qga_tokens -t)"
        set -l index (count (__qga_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'qga' -f
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'exec' -d 'Run any agent command and print its result.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'commands' -d 'List the agent commands qga knows, and which ones an agent has.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'shutdown' -d 'Shut the guest down through its agent.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'reboot' -d 'Reboot the guest through its agent.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'fsfreeze' -d 'Show, freeze or thaw the guest\'s filesystems.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'freeze-run' -d 'Freeze the guest\'s filesystems, run a host command, and always thaw.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'snapshot' -d 'Take a quiesced libvirt snapshot of a domain.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'cp' -d 'Copy a file to or from the guest.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'cat' -d 'Print a file of the guest.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga exec" -eq 1' -fka '(__qga_custom_completion ---completion exec -- positional@1 (count (__qga_tokens -pc)) (__qga_tokens -tC))'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga exec" -ge 2' -fka '(__qga_custom_completion ---completion exec -- positional@2 (count (__qga_tokens -pc)) (__qga_tokens -tC))'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" args' -l 'args' -d 'Command arguments as one JSON object.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" no-check' -l 'no-check' -d 'Send the arguments as typed (NAME=VALUE as a string), without checking them against the catalogue.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" describe' -l 'describe' -d 'Print what a command takes and returns, and exit (no target needed).' -rfka '(__qga_custom_completion ---completion exec -- --describe (count (__qga_tokens -pc)) (__qga_tokens -tC))'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" json' -l 'json' -d 'With --describe: print the description as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga exec" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" json' -l 'json' -d 'Print the list as a JSON array (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga commands" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" mode' -l 'mode' -d 'How to go down.' -rfka 'powerdown halt reboot'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" wait' -l 'wait' -d 'Wait until the guest is down (the domain is shut off; for a socket, the agent no longer answers), at most SECONDS.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" fallback' -l 'fallback' -d 'If the agent cannot be reached or does not answer, press the ACPI power button (libvirt domains only).' -rfka 'acpi'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga shutdown" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" wait' -l 'wait' -d 'Wait until the guest has gone down and its agent answers again, at most SECONDS.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" fallback' -l 'fallback' -d 'If the agent cannot be reached or does not answer, press the ACPI power button (libvirt domains only).' -rfka 'acpi'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga reboot" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga fsfreeze" -eq 1' -fka 'status freeze thaw'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze"' -l 'mountpoint' -d 'Freeze only this mount point (repeatable).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" json' -l 'json' -d 'Print the result as one JSON object.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsfreeze" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run"' -l 'mountpoint' -d 'Freeze only this mount point (repeatable).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" max-frozen' -l 'max-frozen' -d 'Thaw after this many seconds frozen, whatever the command is doing.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga freeze-run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" name' -l 'name' -d 'The snapshot\'s name (default: qga-YYYYMMDD-HHMMSS, UTC).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" disk-only' -l 'disk-only' -d 'Snapshot the disks only (external snapshot).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" atomic' -l 'atomic' -d 'All disks or none (VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" allow-unquiesced' -l 'allow-unquiesced' -d 'If the agent is unavailable, take the snapshot without quiescing (says so on stderr).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga snapshot" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga help" version' -l 'version' -d 'Show the version.'
