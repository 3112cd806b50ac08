import Glibc
import QGAClient
import QGAProtocol
import QGASystem

/// A short command run in the guest for `qga cp` (a shell script, tar, rm) through the one
/// runner, `GuestProcess`, with the agent's refusal of guest-exec explained for cp.
struct GuestCommand {
    let connection: any AgentConnection
    var options: CallOptions
    /// What the command is for, in messages ("qga cp -r").
    let purpose: String

    /// Runs `/bin/sh -c script` with `arguments` as `$1`... (never put into the script's
    /// text, so a path cannot become shell syntax). `deadline` bounds the wait.
    func shell(_ script: String, _ arguments: [String], deadline: Deadline?) throws -> GuestProcess.Ended {
        try run(GuestProcess.shell(script, arguments), deadline: deadline)
    }

    func run(_ argv: [String], deadline: Deadline?) throws -> GuestProcess.Ended {
        let process = GuestProcess(connection: connection, options: options)
        let pid: Int
        do {
            pid = try process.start(argv)
        } catch {
            guard case .agentError(let refusal) = error.code else { throw error }
            if refusal.errorClass == "CommandNotFound" {
                throw CommandFailure(code: ExitCodes.agentError, message: "\(purpose) runs tar in the guest through guest-exec, which the agent refuses: \(refusal.desc)")
            }
            throw CommandFailure(code: ExitCodes.agentError, message: "cannot run \(argv[0]) in the guest: \(refusal.desc)")
        }
        guard let status = try process.wait(pid, deadline: deadline) else {
            throw CommandFailure(code: ExitCodes.notResponding, message: "\(argv.prefix(3).joined(separator: " ")) did not finish in the guest within the time allowed; it is guest process \(pid)")
        }
        return try GuestProcess.Ended(status, label: connection.label)
    }

    // MARK: The archive's temporary file in the guest

    /// The first line of a command's stdout: the path mktemp printed.
    static func firstLine(_ bytes: [UInt8]) -> String? {
        let line = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first.map { String(decoding: $0, as: UTF8.self) }
        guard let line, line.hasPrefix("/"), line.utf8.count < 4096 else { return nil }
        return line
    }

    /// Removes the guest file `path` with `rm -f` when it is a regular file (not a symbolic
    /// link, directory, device or FIFO: what stands there then is not what qga wrote, and
    /// is left alone). True when nothing is left at `path`; false when it is left (guest-exec
    /// refused or failed, rm failed, or `deadline` seconds passed).
    func removeFile(_ path: String, deadline seconds: Double = 10) -> Bool {
        var quick = self
        // A short wait per call too: after a failed copy the agent may be slow or gone.
        quick.options.timeout = min(options.timeout ?? .seconds(seconds), .seconds(seconds))
        let removed = try? quick.shell(
            """
            f=$1
            if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then exit 3; fi
            rm -f -- "$f"
            """, [path], deadline: Deadline.after(seconds: seconds))
        return removed?.code == 0
    }

    /// Removes the guest's temporary archive, or failing that truncates it through
    /// guest-file-open; returns a note for the user when it is left behind.
    func removeTemporary(_ path: String) -> String? {
        if removeFile(path, deadline: 60) { return nil }
        if let file = try? GuestFile(agent: connection, options: options, path: path, mode: "w") {
            file.closeQuietly()
            return "the temporary archive \(path) in the guest could not be removed (it is emptied); remove it"
        }
        return "the temporary archive \(path) in the guest could not be removed; remove it"
    }
}
