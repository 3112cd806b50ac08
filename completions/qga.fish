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
        case 'run'
            __qga_parse_subcommand -r 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'e=+' 'shell' 'kill' 'version' 'h/help'
        case 'cp'
            __qga_parse_subcommand 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'r/recursive' 'version' 'h/help'
        case 'cat'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'version' 'h/help'
        case 'commands'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'shutdown'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mode=' 'wait=' 'fallback=' 'version' 'h/help'
        case 'reboot'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'wait=' 'fallback=' 'version' 'h/help'
        case 'wait'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'version' 'h/help'
        case 'fsfreeze'
            __qga_parse_subcommand 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mountpoint=+' 'json' 'version' 'h/help'
        case 'freeze-run'
            __qga_parse_subcommand -r 2 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'mountpoint=+' 'max-frozen=' 'version' 'h/help'
        case 'snapshot'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'name=' 'disk-only' 'atomic' 'allow-unquiesced' 'version' 'h/help'
        case 'ping'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'info'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'osinfo'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'hostname'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'fsinfo'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'ifaddr'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'users'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'timezone'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'vcpus'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'disks'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
        case 'load'
            __qga_parse_subcommand 1 'c/connect=' 'channel=' 'sync-timeout=' 'timeout=' 'max-reply-size=' 'compact' 'raw' 'color=' 'json' 'version' 'h/help'
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
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'run' -d 'Run a command in the guest and pass on its output and exit status, as ssh does.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'cp' -d 'Copy a file, or with -r a directory, to or from the guest.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'cat' -d 'Print a file of the guest.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'commands' -d 'List the agent commands qga knows, and which ones an agent has.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'shutdown' -d 'Shut the guest down through its agent.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'reboot' -d 'Reboot the guest through its agent.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'wait' -d 'Wait until the guest\'s agent answers.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'fsfreeze' -d 'Show, freeze or thaw the guest\'s filesystems.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'freeze-run' -d 'Freeze the guest\'s filesystems, run a host command, and always thaw.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'snapshot' -d 'Take a quiesced libvirt snapshot of a domain.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'ping' -d 'Check that the agent answers.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'info' -d 'Show the agent\'s version and its commands.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'osinfo' -d 'Show the guest\'s operating system.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'hostname' -d 'Show the guest\'s host name.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'fsinfo' -d 'Show the guest\'s mounted filesystems, as df -h does.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'ifaddr' -d 'Show the guest\'s network interfaces and addresses, as ip -br addr does.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'users' -d 'Show the users logged in to the guest.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'timezone' -d 'Show the guest\'s time zone.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'vcpus' -d 'Show the guest\'s virtual CPUs and whether each is online.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'disks' -d 'Show the guest\'s disks and partitions.'
complete -c 'qga' -n '__qga_should_offer_completions_for_positional "qga" -eq 1' -fa 'load' -d 'Show the guest\'s load averages.'
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
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run"' -s 'e' -d 'A variable of the command\'s environment (repeatable); the command gets only these.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" shell' -l 'shell' -d 'Run the command as /bin/sh -c \'CMD ARGS...\' (its words joined with spaces).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" kill' -l 'kill' -d 'When --timeout runs out, end the command with SIGKILL.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" R r recursive' -s 'r' -s 'R' -l 'recursive' -d 'Copy a directory and everything in it (through tar in the guest).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cp" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga cat" h help' -s 'h' -l 'help' -d 'Show help information.'
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
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga wait" h help' -s 'h' -l 'help' -d 'Show help information.'
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
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ping" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga osinfo" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga hostname" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga fsinfo" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga ifaddr" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga users" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga timezone" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga vcpus" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga disks" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" c connect' -s 'c' -l 'connect' -d 'libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" channel' -l 'channel' -d 'The domain\'s agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" sync-timeout' -l 'sync-timeout' -d 'Seconds to wait for the agent to answer the sync before each command.' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" timeout' -l 'timeout' -d 'Seconds to wait for the command\'s reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" max-reply-size' -l 'max-reply-size' -d 'Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).' -rfka ''
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" compact' -l 'compact' -d 'Print the result on one line (for scripts).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" raw' -l 'raw' -d 'Print the agent\'s reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" color' -l 'color' -d 'Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.' -rfka 'auto always never'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" json' -l 'json' -d 'Print the agent\'s value unchanged, as JSON (on one line with --compact).'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" version' -l 'version' -d 'Show the version.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga load" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'qga' -n '__qga_should_offer_completions_for_flags_or_options "qga help" version' -l 'version' -d 'Show the version.'
