import ArgumentParser
import Glibc

/// The `qga` command: talk to QEMU guest agents from the host.
public struct QGA: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qga",
        abstract: "Talk to QEMU guest agents, quickly and safely.",
        discussion: """
            TARGET is the host end of a VM's guest agent channel: a unix socket path \
            (anything containing '/'), or unix:PATH.

            Exit status:
              0   success
              1   the agent answered with an error (printed as 'qga: CLASS: desc')
              2   the agent cannot be reached (no socket, refused, unknown domain, agent \
            not configured or not connected)
              3   the agent is not responding (sync or command timeout)
              4   the agent broke the protocol (malformed, oversized or unexpected reply)
              64  usage error
            """,
        version: "0.1.0",
        subcommands: [Exec.self, Commands.self, Shutdown.self, Reboot.self, FSFreeze.self, FreezeRun.self, Snapshot.self])

    public init() {}

    /// Parses the command line, runs the command, and turns every failure into a message on
    /// stderr and one of the documented exit codes: the CLI's only error boundary.
    public static func main() {
        // A vanished reader of stdout must be an error we can handle, not a fatal signal.
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(normalizeWait(Array(CommandLine.arguments.dropFirst())))
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
}
