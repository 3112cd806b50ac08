import Glibc
import QGAClient
import QGALibvirt
import QGAProtocol
import QGASystem

/// A process in the guest, run through `guest-exec` and awaited through `guest-exec-status`
/// polled with backoff: the one runner behind `qga run` and the guest commands of `qga cp`.
struct GuestProcess {
    /// How a process ended and what it wrote, read from a `guest-exec-status` reply that
    /// says it exited.
    struct Ended {
        /// The exit code, or 128+N for signal N (`GuestProcess.exitCode`).
        let code: Int32
        /// Captured stdout and stderr (empty when the agent sent none).
        let stdout: [UInt8]
        let stderr: [UInt8]

        init(_ status: JSONObject, label: String) throws {
            stdout = try GuestProcess.output(status, "out-data", label: label) ?? []
            stderr = try GuestProcess.output(status, "err-data", label: label) ?? []
            code = try GuestProcess.exitCode(status, label: label)
        }

        /// stderr as one line for a message: escaped later by `Console`, cut to a few
        /// hundred characters so that a guest cannot flood the terminal.
        var said: String {
            let text = String(decoding: stderr.prefix(2048), as: UTF8.self).split(whereSeparator: \.isNewline).prefix(4).joined(separator: "; ")
            return text.count > 300 ? String(text.prefix(300)) + "…" : text
        }
    }

    /// A status reply carries up to 16 MiB of each stream, base64-encoded (4/3).
    static let statusReplySize = 24 << 20

    let connection: any AgentConnection
    /// The options of each agent call; status replies may be as large as `statusReplySize`.
    let options: CallOptions

    init(connection: any AgentConnection, options: CallOptions) {
        self.connection = connection
        self.options = options
    }

    private var statusOptions: CallOptions {
        var raised = options
        raised.maxReplySize = max(options.maxReplySize, GuestProcess.statusReplySize)
        return raised
    }

    /// Starts `argv` with its output captured: with only `environment` as its environment
    /// when that is not empty, and `input` as its stdin. Returns the guest pid.
    func start(_ argv: [String], environment: [String] = [], input: [UInt8]? = nil) throws(ClientError) -> Int {
        guard let path = argv.first else { throw ClientError(.invalidRequest, "no command to run in the guest") }
        var arguments: JSONObject = ["path": .string(path), "arg": .array(argv.dropFirst().map { .string($0) })]
        if !environment.isEmpty { arguments.append(key: "env", value: .array(environment.map { .string($0) })) }
        if let input { arguments.append(key: "input-data", value: .string(Base64.encode(input))) }
        arguments.append(key: "capture-output", value: true)
        let reply = try connection.call(Catalogue.Commands.guestExec.name, arguments: arguments, options: options)
        guard let pid = reply?["pid"]?.number?.int, pid > 0 else {
            throw ClientError(.protocolViolation, "\(connection.label): guest-exec returned \(reply?.kindName ?? "nothing") without a pid")
        }
        return pid
    }

    /// Polls guest-exec-status, from 5 ms backing off to 50 ms for the first second and
    /// 200 ms after it, until the process has exited (the reply) or `deadline` passes (nil).
    /// A short command then waits at most 50 ms past its exit, not up to twice its run time;
    /// a poll costs the agent little. The agent forgets a process once it has reported it
    /// exited.
    func wait(_ pid: Int, deadline: Deadline?) throws -> JSONObject? {
        let statusOptions = statusOptions
        let patient = Deadline.after(seconds: 1)
        var delay = 0.005
        while true {
            let reply: JSONValue?
            do {
                reply = try connection.call(Catalogue.Commands.guestExecStatus.name, arguments: ["pid": .number(JSONNumber(pid))], options: statusOptions)
            } catch {
                throw GuestProcess.explainedLibvirtLimit(error, on: connection) ?? error
            }
            guard let status = reply?.object, let exited = status["exited"]?.bool else {
                throw ClientError(.protocolViolation, "\(connection.label): guest-exec-status returned \(reply?.kindName ?? "nothing") without 'exited'")
            }
            if exited { return status }
            var pause = delay
            if let deadline {
                if deadline.hasPassed { return nil }
                pause = min(pause, deadline.remaining.inSeconds)
            }
            usleep(UInt32(max(pause, 0) * 1_000_000))
            delay = min(delay * 2, patient.hasPassed ? 0.2 : 0.05)
        }
    }

    /// The argv that runs `/bin/sh -c script` with `arguments` as `$1`... (never put into
    /// the script's text, so that a path cannot become shell syntax).
    static func shell(_ script: String, _ arguments: [String]) -> [String] {
        ["/bin/sh", "-c", script, "sh"] + arguments
    }

    // MARK: Reading a status reply

    /// A base64 member's bytes: nil when the member is absent, an error when it is not base64.
    static func output(_ status: JSONObject, _ member: String, label: String) throws -> [UInt8]? {
        guard let value = status[member] else { return nil }
        guard let text = value.string, let bytes = Base64.decode(text) else {
            throw ClientError(.protocolViolation, "\(label): guest-exec-status's \(member) is not base64")
        }
        return bytes
    }

    /// The exit status as a shell reports it: the exit code (0 to 255), or 128+N when
    /// signal N (1 to 127) ended the process; anything else is the agent's error.
    static func exitCode(_ status: JSONObject, label: String) throws -> Int32 {
        if let signal = status["signal"]?.number?.int {
            guard (1...127).contains(signal) else {
                throw ClientError(.protocolViolation, "\(label): guest-exec-status reports signal \(signal)")
            }
            return 128 + Int32(signal)
        }
        if let exitcode = status["exitcode"]?.number?.int {
            guard (0...255).contains(exitcode) else {
                throw ClientError(.protocolViolation, "\(label): guest-exec-status reports exit code \(exitcode)")
            }
            return Int32(exitcode)
        }
        throw ClientError(.protocolViolation, "\(label): guest-exec-status reports neither an exit code nor a signal")
    }

    // MARK: Limits

    /// A clearer error for a status reply that libvirt could not pass on. It carries the
    /// output, and libvirt fails it in one of two ways: past its 4 MiB RPC string it cannot
    /// encode the reply; at 10 MiB it stops reading and marks the domain's agent as failed
    /// until it reconnects to it (a domain restart; measured on libvirt 9.0). The agent has
    /// dropped the output either way.
    static func explainedLibvirtLimit(_ error: ClientError, on connection: any AgentConnection) -> CommandFailure? {
        guard connection.throughLibvirt, let cause = error.cause as? LibvirtError else { return nil }
        var notes = [
            "run it through the agent's own socket (the socket path, or --channel for the domain's other agent channel), or send its output to a guest file and fetch that with qga cp"
        ]
        if cause.message.contains("No complete agent response") {
            notes.insert(
                "libvirt now refuses every agent command for this domain until it reconnects to the agent (restarting the domain does)",
                at: 0)
        } else if !cause.message.contains("Unable to encode message payload") {
            return nil
        }
        return CommandFailure(
            code: ExitCodes.operationFailed,
            message: "\(connection.label): the command's output is too large to pass through libvirt (\(cause.message)); the agent has dropped it",
            notes: notes)
    }
}
