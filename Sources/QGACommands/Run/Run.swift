import ArgumentParser
import Glibc
import QGAClient
import QGALibvirt
import QGAProtocol
import QGASystem
import SystemPackage

/// `qga run TARGET... [-e K=V]... [--timeout S] [--shell] [--kill] -- CMD [ARGS...]`
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in the guest and pass on its output and exit status, as ssh does.",
        usage: """
            qga run [<options>] <target> ... -- <command> [<argument> ...]
            qga run [<options>] --all -- <command> [<argument> ...]
            """,
        discussion: """
            The command runs through guest-exec; qga polls guest-exec-status (from a few \
            milliseconds, backing off to 50 ms for the first second and 200 ms after it) \
            until it exits. Its stdout and stderr then \
            go to qga's stdout and stderr: byte for byte into a pipe or file, and on a \
            terminal with control characters (other than line breaks) and bidi controls \
            escaped, so that the guest cannot act on the terminal; pipe through cat for the \
            exact bytes. The agent sends the output only once the command has exited, and \
            keeps at most 16 MiB of each stream (qga says so on stderr when it cut one); \
            replies of up to 24M are accepted for it, more with --max-reply-size. Through \
            libvirt, which loses a reply over 4 MiB and gives up on the domain's agent at \
            10 MiB, the command runs under a small /bin/sh wrapper that sends its output to \
            new root-only files in the guest's /tmp: up to 3 MiB in all comes \
            back as usual, more is read from the files in chunks (no 16 MiB cap then, except \
            per target with several), and the files are removed. There a command that is \
            not found exits 127, as in a shell; a guest without /bin/sh (Windows) runs the \
            command as it is, its output then limited to what one libvirt reply carries. When \
            stdin is not a terminal, all of it goes to the command as its input, at most \
            48 MiB on a socket and 96 KiB through libvirt (their request limits); more is an \
            error before anything runs. -e replaces the command's environment: the agent \
            passes only the variables given.

            --timeout limits the whole run (default: none); each agent call has the usual \
            30 s. On the timeout qga says so with the guest pid, and with --kill ends the \
            command with SIGKILL through a second guest-exec of kill. qemu-ga reports a \
            command as exited only once its stdout and stderr are closed: a command that \
            leaves a background process holding them counts as running until that process \
            ends, and only --timeout ends the wait. Interrupting qga leaves the command \
            running in the guest.

            Exit status: the command's; 128+N when signal N ended it; 124 when --timeout \
            ran out (with or without --kill); 255 when qga itself failed (the agent cannot \
            be reached, does not answer or refuses the command, or the input is too large); \
            64 for a usage error found before anything ran.

            Several targets (or --all): the command runs on each, at most -j at once; each \
            target's stdout and stderr lines are printed with its name in front (web1: ...), \
            target after target in the order given, and qga's own messages as 'qga: TARGET: \
            ...'. stdin, when not a terminal, goes to every target. The exit status is 0 when \
            the command exited 0 everywhere; otherwise the first failing target's status (as \
            above, 255 for qga's own failure on it), with 'qga: N of M targets failed' on \
            stderr.
            """)

    /// qga's own failures, kept apart from the guest command's statuses as ssh does.
    static let ownFailure: Int32 = 255
    /// `--timeout` ran out, as timeout(1) reports it.
    static let timedOut: Int32 = 124

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @OptionGroup var fanOut: FanOutOptions
    @OptionGroup var words: RunWords

    @Option(
        name: .customShort("e"),
        help: ArgumentHelp("A variable of the command's environment (repeatable); the command gets only these.", valueName: "name=value"))
    var environment: [String] = []

    @Flag(help: "Run the command as /bin/sh -c 'CMD ARGS...' (its words joined with spaces).")
    var shell = false

    @Flag(help: "When --timeout runs out, end the command with SIGKILL.")
    var kill = false

    private var command: [String] { words.command }
    /// The targets, read in `validate`.
    private var targets: [Target] { (try? parsedTargets()) ?? [] }

    private func parsedTargets() throws -> [Target] {
        try words.targetWords.map { word in
            do throws(ClientError) {
                return try Target(parsing: word)
            } catch {
                throw ValidationError("\(word): \(error.message)")
            }
        }
    }

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the guest command after --") }
        for variable in environment where !variable.dropFirst().contains("=") {
            throw ValidationError("-e \(variable): write NAME=VALUE")
        }
        if kill && agent.timeout == nil { throw ValidationError("--kill needs --timeout") }
        try fanOut.check(try parsedTargets())
    }

    func run() throws {
        if fanOut.isFanOut(targets) { return try runMany() }
        let code: Int32
        do {
            code = try runCommand()
        } catch let error as ExitCode {
            throw error
        } catch {
            // The usual translation, with 255 for every failure of qga's own: the codes below
            // 128 belong to the guest command.
            let status = ExitStatus(error)
            for line in [status.message].compactMap({ $0 }) + status.notes { Console.error(line) }
            throw ExitCode(Run.ownFailure)
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// One target: its output straight to qga's; returns the exit status.
    private func runCommand() throws -> Int32 {
        guard let target = targets.first else { throw ValidationError("Missing expected argument '<target> ...'") }
        let connection = try agent.connect(target)
        let input = try readInput(limit: Run.inputLimit(throughLibvirt: connection.throughLibvirt), label: connection.label)
        return try runOn(connection, input: input, output: RunOutput(direct: true))
    }

    /// Runs the command through `connection`; returns its exit status (124 for --timeout).
    private func runOn(_ connection: any AgentConnection, input: [UInt8]?, output: RunOutput) throws -> Int32 {
        // --timeout is the run's limit; each agent call keeps its default.
        var options = agent.callOptions
        options.timeout = nil
        let process = GuestProcess(connection: connection, options: options)

        var spool = connection.throughLibvirt ? OutputSpool() : nil
        let pid: Int
        do {
            pid = try process.start(spool?.wrap(guestCommand, environment: environment) ?? guestCommand, environment: environment, input: input)
        } catch {
            // No /bin/sh in the guest (a Windows guest): the command as it is, its output
            // then limited by what libvirt passes on.
            guard spool != nil, case .agentError = error.code else { throw error }
            spool = nil
            pid = try process.start(guestCommand, environment: environment, input: input)
        }
        let deadline = agent.timeout.map { Deadline.after(seconds: $0) }
        let ended: JSONObject?
        do {
            ended = try process.wait(pid, deadline: deadline)
        } catch let error as ClientError {
            throw Run.lostTrack(of: pid, error, spool: spool)
        }
        guard let status = ended else {
            return try timeOut(pid, process: process, output: output, spool: spool)
        }
        if let spool {
            return try passOn(status, spool: spool, process: process, output: output)
        }
        return try passOn(status, label: connection.label, output: output)
    }

    /// `error`, which ended the wait for guest process `pid`, with a note that names the
    /// process: qga no longer knows whether it runs (the agent died or restarted, or the
    /// guest went down), as `--timeout` names it. No advice to kill it: after a guest
    /// reboot the pid may be another process's.
    static func lostTrack(of pid: Int, _ error: ClientError, spool: OutputSpool? = nil) -> CommandFailure {
        let status = ExitStatus(error)
        let own = { (line: String) in line.hasPrefix("qga: ") ? String(line.dropFirst(5)) : line }
        var notes = status.notes.map(own) + ["the command was guest process \(pid); qga lost track of it before it exited, so whether it still runs is unknown"]
        if let spool {
            notes.append(spool.mayStay)
        }
        return CommandFailure(code: status.code, message: status.message.map(own), notes: notes)
    }

    /// Several targets: each target's output, its lines prefixed with its name, target
    /// after target in the order given; the exit status of the first that failed.
    private func runMany() throws {
        let plan = FanOutPlan(targets: targets, fanOut: fanOut, agent: agent)
        let throughLibvirt = plan.targets.contains { target in
            switch target.place {
            case .given(let given): given.isDomain
            case .domain: true
            case .failed: false
            }
        }
        let input: [UInt8]?
        do {
            input = try readInput(limit: Run.inputLimit(throughLibvirt: throughLibvirt), label: "qga run")
        } catch {
            let status = ExitStatus(error)
            for line in [status.message].compactMap({ $0 }) + status.notes { Console.error(line) }
            throw ExitCode(Run.ownFailure)
        }
        var report = FanOutReport()
        try plan.run({ target, connection -> RunOutput in
            let output = RunOutput(direct: false)
            do {
                output.code = try runOn(connection, input: input, output: output)
            } catch {
                output.failure = ExitStatus(error)
                output.code = Run.ownFailure
            }
            return output
        }, deliver: { target, result in
            switch result {
            case .success(let output):
                try output.print(for: target, report: report)
                report.finished(output.code)
            case .failure(let error):
                report.report(target, ExitStatus(error))
                report.finished(Run.ownFailure)
            }
        })
        try report.finish()
    }

    /// The path and arguments for guest-exec.
    private var guestCommand: [String] {
        shell ? ["/bin/sh", "-c", command.joined(separator: " ")] : command
    }

    /// Reports the timeout, ends the command with --kill, and returns 124.
    private func timeOut(_ pid: Int, process: GuestProcess, output: RunOutput, spool: OutputSpool?) throws -> Int32 {
        let seconds = WaitTime(seconds: agent.timeout)
        output.message("the command did not exit within --timeout \(seconds) s; it is guest process \(pid)")
        if spool == nil {
            output.message("(qemu-ga counts a command as running until its stdout and stderr are closed, also by any background process it left)")
        }
        guard kill else {
            // Under the spool's wrapper, the command is the wrapper's child.
            let how = spool == nil ? "-- kill \(pid)" : "--shell -- 'kill $(cat /proc/\(pid)/task/\(pid)/children)'"
            output.message("it still runs; end it with --kill, or with: qga run TARGET \(how)")
            if let spool {
                output.message("(\(spool.mayStay))")
            }
            return Run.timedOut
        }
        // Through the shell's own kill, which needs no PATH, and with the agent's environment;
        // under the spool's wrapper, the command itself (the wrapper then cleans up).
        let killer = try process.start(spool == nil ? ["/bin/sh", "-c", "kill -KILL \(pid)"] : GuestProcess.shell(OutputSpool.killScript, [String(pid)]))
        // Reap both (the agent keeps an exited process until its status has been read).
        let killed = try process.wait(killer, deadline: Deadline.after(seconds: 10))
        if let killed, killed["exitcode"]?.number?.int == 0 {
            output.message("killed guest process \(pid) (SIGKILL)")
            let ended = try process.wait(pid, deadline: Deadline.after(seconds: 2))
            if let spool, let ended, case .spooled = try spool.outcome(of: ended, label: process.connection.label) {
                remove(spool, with: process, output: output)
            }
        } else {
            let why: String
            if let killed {
                let said = ((try? GuestProcess.output(killed, "err-data", label: "")) ?? nil).map { String(decoding: $0, as: UTF8.self) } ?? ""
                why = said.isEmpty ? "kill failed" : said
            } else {
                why = "kill did not finish within 10 s"
            }
            output.message("could not kill guest process \(pid): \(why)")
        }
        return Run.timedOut
    }

    /// Writes the command's output, reports truncation, and returns its exit status.
    private func passOn(_ status: JSONObject, label: String, output: RunOutput) throws -> Int32 {
        for (member, stdout) in [("out-data", true), ("err-data", false)] {
            guard let bytes = try GuestProcess.output(status, member, label: label) else { continue }
            try output.write(bytes, stdout: stdout)
        }
        for (member, stream) in [("out-truncated", "stdout"), ("err-truncated", "stderr")] where status[member]?.bool == true {
            output.message("the agent cut the command's \(stream) short (it keeps at most 16 MiB)")
        }
        return try GuestProcess.exitCode(status, label: label)
    }

    /// The command's output and exit status from under the spool's wrapper: in the status
    /// reply, or read from the guest's files and then removed.
    private func passOn(_ status: JSONObject, spool: OutputSpool, process: GuestProcess, output: RunOutput) throws -> Int32 {
        let label = process.connection.label
        switch try spool.outcome(of: status, label: label) {
        case .inline:
            return try passOn(status, label: label, output: output)
        case .unspooled(let said):
            throw CommandFailure(
                code: ExitCodes.operationFailed,
                message: "\(label): cannot create \(spool.named) in the guest for the command's output (\(said)); the command did not run")
        case .spooled:
            let code = try GuestProcess.exitCode(status, label: label)
            defer { remove(spool, with: process, output: output) }
            // One target's output streams on; several targets' waits in memory, as much as
            // the agent would have kept.
            let limit = output.direct ? nil : Run.keptOutput
            for (name, stream) in [("out", "stdout"), ("err", "stderr")] {
                var lines = LineChunks()
                let cut = try spool.read(name, connection: process.connection, options: process.options, limit: limit) { bytes in
                    let whole = lines.add(bytes)
                    if !whole.isEmpty { try output.write(whole, stdout: name == "out") }
                }
                let rest = lines.finish()
                if !rest.isEmpty { try output.write(rest, stdout: name == "out") }
                if cut { output.message("qga cut the command's \(stream) short (it keeps at most 16 MiB for each of several targets)") }
            }
            return code
        }
    }

    /// Removes the spool's files, saying so when that failed.
    private func remove(_ spool: OutputSpool, with process: GuestProcess, output: RunOutput) {
        if !spool.remove(with: process) { output.message("could not remove \(spool.named) in the guest") }
    }

    /// Output kept in memory per stream for each of several targets: what the agent keeps.
    static let keptOutput = 16 << 20

    /// Output for a terminal: each line escaped as `Console.terminalSafe` does, the line
    /// breaks kept, so that text reads as text and nothing acts on the terminal.
    static func terminalSafe(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if index > 0 { out.append(0x0A) }
            out += Console.terminalSafe(Array(line))
        }
        return out
    }

    // MARK: Limits

    /// The most stdin that fits one guest-exec request: base64 grows it by 4/3, and the
    /// request must stay within what libvirt delivers intact or the agent's message limit,
    /// with room for the rest of the request.
    static func inputLimit(throughLibvirt: Bool) -> Int {
        let request = throughLibvirt ? LibvirtAgent.maxRequest : Framer.agentMaxMessageSize
        return (request - (64 << 10)) / 4 * 3
    }

    /// All of stdin when it is not a terminal, nil otherwise; an error, before anything
    /// runs, when there is more than `limit`.
    private func readInput(limit: Int, label: String) throws -> [UInt8]? {
        guard !Console.isTerminal(0) else { return nil }
        let stdin = FileDescriptor(rawValue: 0)
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { (buffer) throws(SystemError) in try stdin.readAvailable(into: buffer) }
            guard let count else {
                var pollfd = Glibc.pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                _ = poll(&pollfd, 1, -1)
                continue
            }
            if count == 0 { break }
            input += chunk[..<count]
            guard input.count <= limit else {
                throw CommandFailure(
                    code: Run.ownFailure,
                    message: "\(label): stdin holds more than \(limit) bytes, the most one guest-exec request can carry here; nothing was run",
                    notes: ["copy the data into the guest with guest-file-write and give the command the file instead"])
            }
        }
        return input.isEmpty ? nil : input
    }
}

/// run's positional words: the targets, then the guest command after `--`. ArgumentParser
/// refuses an array of positional arguments followed by another, so both come as one array
/// and `--` on the command line marks where the command starts.
struct RunWords: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "The targets (as for every command; several print each target's lines with its name), then --, then the guest command.",
            valueName: "target"),
        completion: DomainCompletion.names)
    var words: [String] = []

    /// The words after `--` on the command line (as `split` explains).
    var command: [String] { RunWords.split(words, arguments: CommandLine.arguments).command }

    /// The targets' words, before `--`.
    var targetWords: [String] { RunWords.split(words, arguments: CommandLine.arguments).targets }

    /// `words` (every positional word, in order) split where `arguments` (the process's
    /// command line) has its first `--`: as many words as follow it are the command.
    static func split(_ words: [String], arguments: [String]) -> (targets: [String], command: [String]) {
        guard let terminator = arguments.firstIndex(of: "--") else { return (words, []) }
        let count = min(words.count, arguments.count - terminator - 1)
        return (Array(words.dropLast(count)), Array(words.suffix(count)))
    }
}

/// Where one run's output and messages go: straight to qga's stdout and stderr for one
/// target; for several, kept until the target's turn, then printed with its name before
/// each line.
final class RunOutput: @unchecked Sendable {
    private enum Piece {
        case out([UInt8])
        case err([UInt8])
        case message(String)
    }

    /// Straight to qga's stdout and stderr (one target).
    let direct: Bool
    private var pieces: [Piece] = []
    /// The target's exit status.
    var code: Int32 = 0
    /// qga's own failure on this target, reported after its output.
    var failure: ExitStatus?

    init(direct: Bool) { self.direct = direct }

    /// The command's stdout (escaped on a terminal).
    func out(_ bytes: [UInt8]) throws {
        guard direct else { return pieces.append(.out(bytes)) }
        try Console.out(Console.isTerminal(1) ? Run.terminalSafe(bytes) : bytes)
    }

    /// The command's stderr (escaped on a terminal).
    func err(_ bytes: [UInt8]) {
        guard direct else { return pieces.append(.err(bytes)) }
        Console.errorBytes(Console.isTerminal(2) ? Run.terminalSafe(bytes) : bytes)
    }

    /// The command's stdout or stderr.
    func write(_ bytes: [UInt8], stdout: Bool) throws {
        if stdout { try out(bytes) } else { err(bytes) }
    }

    /// A message of qga's own, for stderr.
    func message(_ text: String) {
        guard direct else { return pieces.append(.message(text)) }
        Console.error("qga: \(text)")
    }

    /// Prints what was kept, each line with the target's name in front.
    func print(for target: FanOutTarget, report: FanOutReport) throws {
        let name = Console.escaped(target.label) + Array(": ".utf8)
        for piece in pieces {
            switch piece {
            case .out(let bytes): try Console.out(RunOutput.prefixed(bytes, with: name, terminal: Console.isTerminal(1)))
            case .err(let bytes): Console.errorBytes(RunOutput.prefixed(bytes, with: name, terminal: Console.isTerminal(2)))
            case .message(let text): Console.error("qga: \(target.label): \(text)")
            }
        }
        if let failure { report.report(target, failure) }
    }

    /// `bytes` line by line, each with `prefix` before it and escaped for a terminal; a
    /// last line without a line break gets one.
    static func prefixed(_ bytes: [UInt8], with prefix: [UInt8], terminal: Bool) -> [UInt8] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + lines.count * (prefix.count + 1))
        for line in lines {
            out += prefix
            out += terminal ? Console.terminalSafe(Array(line)) : Array(line)
            out.append(0x0A)
        }
        return out
    }
}
