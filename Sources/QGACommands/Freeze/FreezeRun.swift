import ArgumentParser
import Glibc
import QGAClient
import QGASystem

/// `qga freeze-run TARGET [--mountpoint PATH]... [--max-frozen SECONDS] -- HOST-COMMAND...`
struct FreezeRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze-run",
        abstract: "Freeze the guest's filesystems, run a host command, and always thaw.",
        discussion: """
            For storage-level snapshots (LVM, ZFS, Ceph, a SAN API): the guest's filesystems \
            are frozen while HOST-COMMAND runs, then thawed. qga thaws on every path: the \
            command succeeds or fails; qga gets a signal that would end it (SIGINT, SIGTERM, \
            SIGHUP, SIGUSR1, SIGALRM and the like; also during the freeze, which is then \
            thawed on a fresh connection at once); or the guest has been frozen for \
            --max-frozen seconds (qga thaws first, then stops the command). qga cannot be \
            stopped meanwhile: it ignores SIGTSTP (Ctrl-Z), SIGTTIN and SIGTTOU. When qga is \
            the terminal's foreground job, HOST-COMMAND gets the terminal while it runs. A \
            second signal while thawing gives up waiting for the thaw (exit 6). What was \
            frozen and for how long goes to stderr.

            Exit status: the host command's; 127 when it cannot be run; 124 when \
            --max-frozen ran out; 128+N after signal N; 6 if the thaw failed (the guest \
            may still be frozen: it says so); 0-5 as for every command when the freeze \
            itself fails (nothing was run).
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp, transform: Target.argument) var target: Target

    @Option(name: .customLong("mountpoint"), help: ArgumentHelp("Freeze only this mount point (repeatable).", valueName: "path"))
    var mountpoints: [String] = []

    @Option(help: ArgumentHelp("Thaw after this many seconds frozen, whatever the command is doing.", valueName: "seconds"))
    var maxFrozen: Double = 60

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The host command, after --.", valueName: "host-command"))
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the host command after --") }
        guard maxFrozen > 0, maxFrozen <= 86400 else { throw ValidationError("--max-frozen must be between 0 and 86400 seconds") }
    }

    func run() throws {
        // First, before libvirt or Dispatch start threads that would otherwise take a signal.
        let signals = try SignalPolicy()
        let options = self.agent.callOptions

        // Nothing is frozen yet: a quit signal here just ends qga.
        let agent: any AgentConnection
        switch try signals.run({ () -> Result<any AgentConnection, ClientError> in
            do throws(ClientError) { return .success(try self.agent.connect(target)) } catch { return .failure(error) }
        }) {
        case .signal(let signal):
            throw CommandFailure(code: 128 + signal, message: "interrupted by signal \(signal); nothing was frozen")
        case .done(let result):
            agent = try result.get()
        }

        let frozen: Int
        switch try signals.run({ () -> Result<Int, ClientError> in
            do throws(ClientError) { return .success(try agent.freeze(mountpoints: mountpoints, options: options)) } catch {
                return .failure(error)
            }
        }) {
        case .signal(let signal):
            // The freeze may take effect after all: drop its connection (an agent serves one
            // client at a time) and thaw on a fresh one at once.
            agent.cancel()
            Console.error("qga: interrupted by signal \(signal) during the freeze; thawing")
            let thawed = try thaw(first: nil, label: agent.label, signals: signals, since: nil)
            Console.error("qga: thawed \(thawed) filesystem\(thawed == 1 ? "" : "s")")
            throw CommandFailure(code: 128 + signal, message: "interrupted by signal \(signal); thawed the guest and did not start \(command[0])")
        case .done(.failure(let error)):
            // An error reply means the agent did not freeze (qemu-ga thaws what it froze);
            // any other failure leaves the guest's state unknown, so thaw to be safe.
            if case .agentError = error.code { throw error }
            Console.error("qga: the freeze failed (\(error.message)); thawing in case it took effect")
            _ = try thaw(first: agent, label: agent.label, signals: signals, since: nil)
            throw error
        case .done(.success(let n)):
            frozen = n
        }
        let frozenAt = ContinuousClock.now
        Console.error("qga: froze \(frozen) filesystem\(frozen == 1 ? "" : "s") of \(agent.label)")

        enum Ending {
            case exited(ChildProcess.ExitStatus)
            case frozenTooLong
            case signal(Int32)
            case spawnFailed(SystemError)
            case waitFailed(SystemError)
        }
        var child: ChildProcess?
        var ending: Ending = .frozenTooLong
        let deadline = Deadline.after(seconds: maxFrozen)
        let terminal = foregroundTerminal()
        defer { if let terminal { close(terminal) } }
        do {
            // A signal that came during the freeze stops everything before the command starts.
            if let signal = try signals.pendingQuit() {
                ending = .signal(signal)
            } else {
                // The command runs in its own process group (so that it can be stopped with
                // all it started); when qga has the terminal, so does that group.
                let process = try ChildProcess(command, ownProcessGroup: true, foreground: terminal)
                child = process
                waiting: while true {
                    if let status = process.poll() {
                        ending = .exited(status)
                        break
                    }
                    do {
                        if let signal = try signals.nextQuit(deadline: deadline, wakeOnChild: true) {
                            ending = .signal(signal)
                            break waiting
                        }
                        if deadline.hasPassed { break waiting }
                    } catch {
                        ending = .waitFailed(error)
                        break
                    }
                }
            }
        } catch {
            ending = .spawnFailed(error)
        }

        // Thaw before anything else: the guest's writes are blocked until then.
        let thawResult = Result { try thaw(first: agent, label: agent.label, signals: signals, since: frozenAt) }
        let frozenFor = ContinuousClock.now - frozenAt
        if let child, child.poll() == nil { stop(child, signals: signals) }
        // Take the terminal back from the command's group (SIGTTOU is blocked, so this
        // works from the background).
        if let terminal, child != nil { tcsetpgrp(terminal, getpgrp()) }
        let thawed = try thawResult.get()
        Console.error("qga: thawed \(thawed) filesystem\(thawed == 1 ? "" : "s"); the guest was frozen for \(format(frozenFor))")

        switch ending {
        case .exited(let status):
            if status.shellStatus != 0 { throw ExitCode(status.shellStatus) }
        case .frozenTooLong:
            throw CommandFailure(code: ExitCodes.frozenTooLong, message: "the guest stayed frozen for --max-frozen \(maxFrozen) s; thawed it and stopped \(command[0])")
        case .signal(let signal):
            let what = child == nil ? "did not start \(command[0])" : "stopped \(command[0])"
            throw CommandFailure(code: 128 + signal, message: "interrupted by signal \(signal); thawed the guest and \(what)")
        case .spawnFailed(let error):
            throw CommandFailure(code: 127, message: "cannot run \(command[0]): \(error.errno)")
        case .waitFailed(let error):
            throw CommandFailure(code: ExitCodes.operationFailed, message: "lost track of \(command[0]) (\(error)); thawed the guest and stopped it")
        }
    }

    /// Thaws, trying three times, each attempt after the first on a fresh connection (the
    /// first one too when `first` is nil): a thaw must not be lost to one transient failure
    /// or a dropped connection. Every attempt is bounded by the call's deadlines, and a quit
    /// signal ends the attempts at once. Returns how many filesystems were thawed; throws
    /// exit 6, saying loudly that the guest may still be frozen, when no attempt succeeded.
    private func thaw(first: (any AgentConnection)?, label: String, signals: SignalPolicy, since frozenAt: ContinuousClock.Instant?)
        throws -> Int
    {
        let options = self.agent.callOptions
        var last: ClientError?
        for attempt in 0..<3 {
            if attempt > 0 {
                // Free the channel for the fresh connection.
                first?.cancel()
                if let signal = try? signals.nextQuit(deadline: .after(.milliseconds(500))) {
                    throw stillFrozen(label: label, since: frozenAt, reason: "THAW INTERRUPTED by signal \(signal) after \(attempt) failed attempt\(attempt == 1 ? "" : "s")\(last.map { " (\($0.message))" } ?? "")")
                }
            }
            let connection = attempt == 0 ? first : nil
            let outcome: Interruptible<Result<Int, ClientError>>
            do {
                outcome = try signals.run { () -> Result<Int, ClientError> in
                    do throws(ClientError) {
                        if let connection { return .success(try connection.thaw(options: options)) }
                        return .success(try self.agent.connect(target).thaw(options: options))
                    } catch {
                        return .failure(error)
                    }
                }
            } catch {
                throw stillFrozen(label: label, since: frozenAt, reason: "THAW FAILED: \(error)")
            }
            switch outcome {
            case .signal(let signal):
                throw stillFrozen(label: label, since: frozenAt, reason: "THAW INTERRUPTED by signal \(signal)")
            case .done(.success(let n)):
                return n
            case .done(.failure(let error)):
                last = error
                Console.error("qga: thaw attempt \(attempt + 1) failed: \(error.message)")
            }
        }
        throw stillFrozen(label: label, since: frozenAt, reason: "THAW FAILED: \(last?.message ?? "thaw failed")")
    }

    /// Exit 6, and the message that says the guest may still be frozen and how to thaw it.
    private func stillFrozen(label: String, since frozenAt: ContinuousClock.Instant?, reason: String) -> CommandFailure {
        let soFar = frozenAt.map { " (for \(format(ContinuousClock.now - $0)) so far)" } ?? ""
        return CommandFailure(
            code: ExitCodes.stillFrozen, message: reason,
            notes: ["the guest \(label) may still be frozen\(soFar); thaw it with: qga fsfreeze thaw \(target.argument)"])
    }

    /// Stops the host command and everything it started (its process group): SIGTERM (and
    /// SIGCONT, in case it was stopped), then SIGKILL after 5 s; gives up waiting 5 s after that.
    private func stop(_ child: ChildProcess, signals: SignalPolicy) {
        child.sendToGroup(SIGTERM)
        child.sendToGroup(SIGCONT)
        for signal in [SIGKILL, 0] {
            let deadline = Deadline.after(seconds: 5)
            while child.poll() == nil, !deadline.hasPassed {
                _ = try? signals.nextQuit(deadline: Deadline.earliest(deadline, .after(seconds: 0.1)), wakeOnChild: true)
            }
            if child.poll() != nil || signal == 0 { break }
            child.sendToGroup(signal)
        }
        if child.poll() == nil { Console.error("qga: \(command[0]) (pid \(child.pid)) does not exit") }
    }

    private func format(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        let hundredths = Int64(atto / 10_000_000_000_000_000)
        return "\(s).\(hundredths < 10 ? "0" : "")\(hundredths) s"
    }
}
