import ArgumentParser
import Glibc
import QGAProtocol

/// The `qga` command: talk to QEMU guest agents from the host.
public struct QGA: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qga",
        abstract: "Talk to QEMU guest agents, quickly and safely.",
        discussion: """
            TARGET is where the guest's agent is: a libvirt domain (name, UUID or id; \
            -c/--connect picks the libvirt URI, --channel the agent channel), or the host \
            end of the VM's agent channel, a unix socket path (anything containing '/') or \
            unix:PATH.

            Every query, exec and run take several targets, or --all for every running \
            domain; -c may be given several times (a named domain is served by the first \
            URI that has it; --all takes each URI's running domains). At most -j targets \
            run at once per libvirt connection (default 8) and among sockets (default 32). \
            Output follows the order of the targets: one JSON line per target with --json \
            (and for exec), else a table with a TARGET column (failures as 'qga: TARGET: \
            message' on stderr). With several targets the exit status is 0 when all \
            succeeded, else the first failing target's code in the order given (the one it \
            alone would give), after 'qga: N of M targets failed' on stderr.

            Exit status:
              0      success
              1      the agent answered with an error ('qga: CLASS: desc' on stderr)
              2      the agent cannot be reached: no socket, refused, unknown domain,
                     agent not configured or not connected
              3      the agent is not responding: the sync or the command timed out
              4      the agent broke the protocol: a malformed, oversized or
                     unexpected reply
              5      a host-side operation failed: libvirt refused it, a snapshot
                     could not be taken
              6      freeze-run: the thaw failed; the guest may still be frozen
              124    freeze-run: the guest stayed frozen for --max-frozen; qga
                     thawed it and stopped the command
              127    freeze-run: the host command cannot be run
              128+N  freeze-run: qga got signal N and thawed the guest
              64     usage error
            freeze-run otherwise exits with the host command's status.
            """,
        version: Release.version,
        subcommands: [
            Exec.self, Run.self, Copy.self, Cat.self, Commands.self, Shutdown.self, Reboot.self, Wait.self, FSFreeze.self, FreezeRun.self, Snapshot.self,
            Ping.self, Info.self, OSInfo.self, Hostname.self, FSInfo.self, IfAddr.self, Users.self, Timezone.self, VCPUs.self, Disks.self,
            Load.self, Time.self, Stats.self, FSTrim.self, Suspend.self, Passwd.self, SSHKeys.self,
        ])

    public init() {}

    /// Parses the command line, runs the command, and turns every failure into a message on
    /// stderr and one of the documented exit codes: the CLI's only error boundary.
    public static func main() {
        // A vanished reader of stdout must be an error we can handle, not a fatal signal.
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseCommandLine(Array(CommandLine.arguments.dropFirst()))
        } catch {
            exit(withError: error)
        }
        do {
            var command = command
            try command.run()
        } catch {
            let status = ExitStatus(error)
            for line in [status.message].compactMap({ $0 }) + status.notes { Console.error(line) }
            if let passThrough = status.argumentParserError { exit(withError: passThrough) }
            Glibc.exit(status.code)
        }
    }

    /// Parses a command line as `parseAsRoot` does, with the same declarations and parser.
    /// When the first word names a command without subcommands of its own, that command is
    /// parsed on its own first: it skips the root's work, which costs about a sixth of a
    /// `qga exec` on a socket (building the tree of every command, reading each word once
    /// more at the root, and building the command's arguments twice more to look for
    /// passthrough arguments). The root parses everything else, and everything that did not
    /// parse into that command (help, --version, completion scripts, any error), so that
    /// what it prints and how it exits stay the root's.
    public static func parseCommandLine(_ arguments: [String]) throws -> any ParsableCommand {
        if let first = arguments.first,
            let leaf = configuration.subcommands.first(where: {
                $0.configuration.commandName == first || $0.configuration.aliases.contains(first)
            }),
            leaf.configuration.subcommands.isEmpty,
            // As a root, the leaf would answer a custom completion request (the shells send
            // them to qga itself, never after a command's name) by running the completion.
            arguments.dropFirst().first != "---completion",
            let command = try? leaf.parseAsRoot(Array(arguments.dropFirst())),
            ObjectIdentifier(type(of: command)) == ObjectIdentifier(leaf)
        {
            return command
        }
        return try parseAsRoot(arguments)
    }
}
