import Glibc
import QGAClient
import QGAProtocol
import QGASystem

/// A short command run in the guest for `qga cp -r` (a shell script, tar, rm): started with
/// `guest-exec`, then `guest-exec-status` polled with backoff until it exits.
struct GuestCommand {
    /// How the command ended and what it wrote.
    struct Outcome {
        /// The exit code, or 128+N for signal N.
        var status: Int
        var stdout: [UInt8]
        var stderr: [UInt8]

        /// stderr as one line for a message: escaped later by `Console`, cut to a few
        /// hundred characters so that a guest cannot flood the terminal.
        var said: String {
            let text = String(decoding: stderr.prefix(2048), as: UTF8.self).split(whereSeparator: \.isNewline).prefix(4).joined(separator: "; ")
            return text.count > 300 ? String(text.prefix(300)) + "…" : text
        }
    }

    let connection: any AgentConnection
    let options: CallOptions
    /// What the command is for, in messages ("qga cp -r").
    let purpose: String

    /// Runs `/bin/sh -c script` with `arguments` as `$1`... (never put into the script's
    /// text, so a path cannot become shell syntax). `deadline` bounds the wait.
    func shell(_ script: String, _ arguments: [String], deadline: Deadline?) throws -> Outcome {
        try run(["/bin/sh", "-c", script, "sh"] + arguments, deadline: deadline)
    }

    func run(_ argv: [String], deadline: Deadline?) throws -> Outcome {
        let arguments: JSONObject = [
            "path": .string(argv[0]), "arg": .array(argv.dropFirst().map { .string($0) }), "capture-output": true,
        ]
        let reply: JSONValue?
        do {
            reply = try connection.call(Catalogue.Commands.guestExec.name, arguments: arguments, options: options)
        } catch {
            guard case .agentError(let refusal) = error.code else { throw error }
            if refusal.errorClass == "CommandNotFound" {
                throw CommandFailure(code: ExitCodes.agentError, message: "\(purpose) runs tar in the guest through guest-exec, which the agent refuses: \(refusal.desc)")
            }
            throw CommandFailure(code: ExitCodes.agentError, message: "cannot run \(argv[0]) in the guest: \(refusal.desc)")
        }
        guard let pid = reply?["pid"]?.number?.int, pid > 0 else {
            throw ClientError(.protocolViolation, "\(connection.label): guest-exec returned \(reply?.kindName ?? "nothing") without a pid")
        }
        var statusOptions = options
        // Output is a path or a few lines of errors, but the agent may send up to 16 MiB.
        statusOptions.maxReplySize = max(options.maxReplySize, 24 << 20)
        var delay = 0.005
        while true {
            let value = try connection.call(Catalogue.Commands.guestExecStatus.name, arguments: ["pid": .number(JSONNumber(pid))], options: statusOptions)
            guard let status = value?.object, let exited = status["exited"]?.bool else {
                throw ClientError(.protocolViolation, "\(connection.label): guest-exec-status returned \(value?.kindName ?? "nothing") without 'exited'")
            }
            if exited { return try outcome(status) }
            if let deadline, deadline.hasPassed {
                throw CommandFailure(code: ExitCodes.notResponding, message: "\(argv.prefix(3).joined(separator: " ")) did not finish in the guest within the time allowed; it is guest process \(pid)")
            }
            usleep(UInt32(min(delay, deadline.map { max($0.remaining.inSeconds, 0) } ?? delay) * 1_000_000))
            delay = min(delay * 2, 0.2)
        }
    }

    private func outcome(_ status: JSONObject) throws -> Outcome {
        func bytes(_ member: String) throws -> [UInt8] {
            guard let value = status[member] else { return [] }
            guard let text = value.string, let decoded = Base64.decode(text) else {
                throw ClientError(.protocolViolation, "\(connection.label): guest-exec-status's \(member) is not base64")
            }
            return decoded
        }
        let code: Int
        if let signal = status["signal"]?.number?.int, (1...127).contains(signal) {
            code = 128 + signal
        } else if let exit = status["exitcode"]?.number?.int, (0...255).contains(exit) {
            code = exit
        } else {
            throw ClientError(.protocolViolation, "\(connection.label): guest-exec-status reports no valid exit code or signal")
        }
        return Outcome(status: code, stdout: try bytes("out-data"), stderr: try bytes("err-data"))
    }

    // MARK: The archive's temporary file in the guest

    /// The first line of a command's stdout: the path mktemp printed.
    static func firstLine(_ bytes: [UInt8]) -> String? {
        let line = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first.map { String(decoding: $0, as: UTF8.self) }
        guard let line, line.hasPrefix("/"), line.utf8.count < 4096 else { return nil }
        return line
    }

    /// Removes the guest's temporary archive: `rm -f`, or failing that truncates it through
    /// guest-file-open; returns a note for the user when it is left behind.
    func removeTemporary(_ path: String) -> String? {
        if let done = try? run(["rm", "-f", "--", path], deadline: Deadline.after(seconds: 60)), done.status == 0 { return nil }
        if let file = try? GuestFile(agent: connection, options: options, path: path, mode: "w") {
            file.closeQuietly()
            return "the temporary archive \(path) in the guest could not be removed (it is emptied); remove it"
        }
        return "the temporary archive \(path) in the guest could not be removed; remove it"
    }
}
