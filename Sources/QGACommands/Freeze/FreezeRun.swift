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
            command succeeds or fails; qga gets SIGINT, SIGTERM or SIGHUP; or the guest has \
            been frozen for --max-frozen seconds (qga thaws first, then stops the command). \
            What was frozen and for how long goes to stderr.

            Exit status: the host command's; 124 when --max-frozen ran out; 128+N after \
            signal N; 6 if the thaw failed (the guest may still be frozen: it says so); \
            0-5 as for every command when the freeze itself fails (nothing was run).
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp) var target: String

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
        // First, before libvirt or Dispatch start threads that would otherwise take the signal.
        let signals = try SignalWatcher([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD])
        let options = self.agent.callOptions
        let agent = try self.agent.resolve(target).agent

        let frozen: Int
        do {
            frozen = try agent.freeze(mountpoints: mountpoints, options: options)
        } catch {
            // An error reply means the agent did not freeze (qemu-ga thaws what it froze);
            // any other failure leaves the guest's state unknown, so thaw to be safe.
            if case .agentError = error.code { throw error }
            Console.error("qga: the freeze failed (\(error.message)); thawing in case it took effect")
            _ = thawWithRetries(agent, options: options)
            throw error
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
        do {
            // A signal that came during the freeze stops everything before the command starts.
            if let signal = try pendingQuitSignal(signals) {
                ending = .signal(signal)
            } else {
                let process = try ChildProcess(command, ownProcessGroup: true)
                child = process
                waiting: while true {
                    if let status = process.poll() {
                        ending = .exited(status)
                        break
                    }
                    do {
                        switch try signals.next(deadline: deadline) {
                        case nil: break waiting
                        case SIGCHLD: continue
                        case let signal?:
                            ending = .signal(signal)
                            break waiting
                        }
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
        let thawResult = thawWithRetries(agent, options: options)
        let frozenFor = ContinuousClock.now - frozenAt
        if let child, child.poll() == nil { stop(child, signals: signals) }

        switch thawResult {
        case .success(let thawed):
            Console.error("qga: thawed \(thawed) filesystem\(thawed == 1 ? "" : "s"); the guest was frozen for \(format(frozenFor))")
        case .failure(let error):
            throw CommandFailure(code: ExitCodes.stillFrozen, message: """
                THAW FAILED: \(error.message)
                qga: the guest \(agent.label) may still be frozen (for \(format(frozenFor)) so far); \
                thaw it with: qga fsfreeze thaw \(target)
                """)
        }
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

    /// A SIGINT, SIGTERM, SIGHUP or SIGQUIT already received, if any.
    private func pendingQuitSignal(_ signals: SignalWatcher) throws(SystemError) -> Int32? {
        while let signal = try signals.next(deadline: .after(.zero)) {
            if signal != SIGCHLD { return signal }
        }
        return nil
    }

    /// Thaws, trying three times on a fresh connection each time: a thaw must not be lost
    /// to one transient failure or a dropped connection.
    private func thawWithRetries(_ agent: any AgentConnection, options: CallOptions) -> Result<Int, ClientError> {
        var last: ClientError?
        for attempt in 0..<3 {
            if attempt > 0 { usleep(500_000) }
            do throws(ClientError) {
                let connection = attempt == 0 ? agent : try self.agent.resolve(target).agent
                return .success(try connection.thaw(options: options))
            } catch {
                last = error
                Console.error("qga: thaw attempt \(attempt + 1) failed: \(error.message)")
            }
        }
        return .failure(last ?? ClientError(.operationFailed, "thaw failed"))
    }

    /// Stops the host command and everything it started (its process group): SIGTERM,
    /// then SIGKILL after 5 s; gives up waiting 5 s after that.
    private func stop(_ child: ChildProcess, signals: SignalWatcher) {
        child.sendToGroup(SIGTERM)
        for signal in [SIGKILL, 0] {
            let deadline = Deadline.after(seconds: 5)
            while child.poll() == nil, !deadline.hasPassed {
                _ = try? signals.next(deadline: Deadline.earliest(deadline, .after(seconds: 0.1)))
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
