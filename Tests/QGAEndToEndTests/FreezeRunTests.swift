import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// freeze-run against a scripted agent, for the failures a real guest will not produce on
/// demand. (The real guest runs in QGAVMTests.)
@Suite struct FreezeRunTests {
    /// An agent that syncs, then answers each request with `answer(command, connection number)`;
    /// nil means stay silent. It records the commands it got.
    /// A silent agent stays so for `silence` seconds; `events` records each request as
    /// "N: command" and a client that leaves during a silence as "N: left".
    final class Script: @unchecked Sendable {
        let received = Mutex<[String]>([])
        let events = Mutex<[String]>([])
        let connections = Mutex(0)
        let answer: @Sendable (String, Int) -> String?
        let silence: Double
        init(silence: Double = 10, _ answer: @escaping @Sendable (String, Int) -> String?) {
            self.answer = answer
            self.silence = silence
        }

        func agent() throws -> FakeAgent {
            try FakeAgent { [self] connection in
                let number = connections.withLock { n in
                    n += 1
                    return n
                }
                while connection.answerSync() != nil {
                    guard let request = connection.nextRequest(), let name = request["execute"]?.string else { return }
                    received.withLock { $0.append(name) }
                    events.withLock { $0.append("\(number): \(name)") }
                    guard let reply = answer(name, number) else {
                        let start = Date()
                        connection.stall(silence)
                        if Date().timeIntervalSince(start) < silence - 1 { events.withLock { $0.append("\(number): left") } }
                        return
                    }
                    connection.send(reply + "\n")
                }
            }
        }
    }

    @Test func reportsWhatItFrozeAndExitsWithTheCommandsStatus() throws {
        let script = Script { _, _ in #"{"return": 2}"# }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/sh", "-c", "exit 7"])
        #expect(result.status == 7, "\(result)")
        #expect(result.stderr.contains("froze 2 filesystems"))
        #expect(result.stderr.contains("thawed 2 filesystems; the guest was frozen for"))
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
    }

    @Test func aCommandThatCannotRunExits127AfterTheThaw() throws {
        let script = Script { _, _ in #"{"return": 1}"# }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/nonexistent/command"])
        #expect(result.status == 127, "\(result)")
        #expect(result.stderr.contains("cannot run /nonexistent/command"), "\(result)")
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
    }

    @Test func aFreezeThatTimesOutIsFollowedByAThawAndNothingRuns() throws {
        // The first connection never answers the freeze; later ones answer the thaw.
        let script = Script { name, connection in connection == 1 ? nil : (name == "guest-fsfreeze-thaw" ? #"{"return": 1}"# : nil) }
        let agent = try script.agent()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let marker = dir.path + "/ran"
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--timeout", "1", "--", "/bin/touch", marker])
        #expect(result.status == 3, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the host command ran although the freeze failed")
        #expect(script.received.withLock { $0 }.contains("guest-fsfreeze-thaw"))
    }

    @Test func aFreezeRefusedByTheAgentIsNotThawed() throws {
        // Someone else's freeze: the agent refuses ours, and qga must not thaw theirs.
        let script = Script { _, _ in #"{"error": {"class": "GenericError", "desc": "the agent is already in frozen state"}}"# }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/true"])
        #expect(result.status == 1, "\(result)")
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze"])
    }

    @Test func aFailedThawIsLoudAndExitsSix() throws {
        let script = Script { name, _ in
            name == "guest-fsfreeze-freeze" ? #"{"return": 1}"# : #"{"error": {"class": "GenericError", "desc": "nope"}}"#
        }
        let agent = try script.agent()
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--", "/bin/true"])
        #expect(result.status == 6, "\(result)")
        #expect(result.stderr.contains("qga: THAW FAILED: GenericError: nope\n"))
        #expect(result.stderr.contains("\nqga: the guest \(agent.socketPath) may still be frozen"))
        // Three attempts, each on a fresh connection after the first.
        #expect(script.received.withLock { $0 }.filter { $0 == "guest-fsfreeze-thaw" }.count == 3)
    }

    // MARK: signals, stops and the terminal (issue 8, item 18)

    /// freeze-run with `arguments` in its own process group, once it has frozen.
    func startFrozen(_ agent: FakeAgent, _ arguments: [String], script: Script) throws -> BackgroundProcess {
        let qga = try BackgroundProcess(try Binaries.path("qga"), ["freeze-run", agent.socketPath] + arguments, mode: .processGroup)
        #expect(poll(seconds: 20) { qga.stderrSoFar.contains("qga: froze 1 filesystem") }, "\(qga.stderrSoFar)")
        return qga
    }

    static let thawsAndFreezes: @Sendable (String, Int) -> String? = { _, _ in #"{"return": 1}"# }

    /// Every signal whose default action ends a process is a request to quit: qga thaws,
    /// stops the command and exits 128+N (it used to die of SIGUSR1 and the like, frozen).
    @Test(arguments: [SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPWR, __libc_current_sigrtmin() + 3])
    func everyFatalSignalThawsFirst(signal: Int32) throws {
        let script = Script(Self.thawsAndFreezes)
        let agent = try script.agent()
        let qga = try startFrozen(agent, ["--", "/bin/sleep", "30"], script: script)
        qga.signal(signal)
        let result = qga.finish(timeout: 20)
        #expect(result.status == 128 + signal, "\(result)")
        #expect(result.stderr.contains("qga: interrupted by signal \(signal); thawed the guest and "), "\(result)")
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
    }

    /// SIGPIPE is ignored, as in every qga command: the run goes on.
    @Test func sigpipeIsIgnored() throws {
        let script = Script(Self.thawsAndFreezes)
        let agent = try script.agent()
        let qga = try startFrozen(agent, ["--", "/bin/sleep", "30"], script: script)
        qga.signal(SIGPIPE)
        qga.signal(SIGTERM)
        let result = qga.finish(timeout: 20)
        #expect(result.status == 128 + SIGTERM, "\(result)")
        #expect(script.received.withLock { $0 }.last == "guest-fsfreeze-thaw")
    }

    /// Ctrl-Z (and SIGTTIN, SIGTTOU) must not stop qga while the guest is frozen: it stays
    /// on duty and thaws at --max-frozen.
    @Test func stopSignalsDoNotStopItWhileFrozen() throws {
        let script = Script(Self.thawsAndFreezes)
        let agent = try script.agent()
        let qga = try startFrozen(agent, ["--max-frozen", "2", "--", "/bin/sleep", "30"], script: script)
        for signal in [SIGTSTP, SIGTTIN, SIGTTOU] { qga.signal(signal) }
        let thawed = poll(seconds: 10) { script.received.withLock { $0 }.contains("guest-fsfreeze-thaw") }
        #expect(thawed, "qga did not thaw at --max-frozen; its state: \(qga.state.map(String.init) ?? "gone")")
        if !thawed { qga.signal(SIGCONT) }
        let result = qga.finish(timeout: 20)
        #expect(result.status == 124, "\(result)")
        #expect(result.stderr.contains("qga: not stopping (SIGTSTP) while the guest may be frozen"), "\(result)")
    }

    /// A signal during a freeze that takes long is acted on at once: the freeze's connection
    /// is dropped (an agent serves one client at a time), the thaw goes on a fresh one.
    @Test func aSignalDuringASlowFreezeThawsAtOnce() throws {
        let script = Script(silence: 60) { name, _ in name == "guest-fsfreeze-thaw" ? #"{"return": 0}"# : nil }
        let agent = try script.agent()
        let qga = try BackgroundProcess(
            try Binaries.path("qga"), ["freeze-run", agent.socketPath, "--", "/bin/true"], mode: .processGroup)
        #expect(poll(seconds: 20) { script.received.withLock { $0 } == ["guest-fsfreeze-freeze"] })
        qga.signal(SIGINT)
        #expect(poll(seconds: 10) { script.received.withLock { $0 }.contains("guest-fsfreeze-thaw") })
        let result = qga.finish(timeout: 20)
        #expect(result.status == 128 + SIGINT, "\(result)")
        #expect(result.stderr.contains("qga: interrupted by signal \(SIGINT) during the freeze; thawing"), "\(result)")
        #expect(result.stderr.contains("thawed the guest and did not start /bin/true"), "\(result)")
        #expect(script.events.withLock { $0 } == ["1: guest-fsfreeze-freeze", "1: left", "2: guest-fsfreeze-thaw"])
    }

    /// The freeze's reply comes after the timeout (so the guest is frozen) and every thaw
    /// fails: exit 6 and say the guest may be frozen, not exit 3.
    @Test func aLateFreezeReplyAndAFailedThawExitSix() throws {
        let agent = try FakeAgent { connection in
            while connection.answerSync() != nil {
                guard let name = connection.nextRequest()?["execute"]?.string else { return }
                if name == "guest-fsfreeze-freeze" {
                    // Answer only after qga gave up waiting.
                    connection.stall(2)
                    connection.send(#"{"return": 1}"# + "\n")
                } else {
                    connection.send(#"{"error": {"class": "GenericError", "desc": "cannot thaw"}}"# + "\n")
                }
            }
        }
        let result = try Binaries.qga(["freeze-run", agent.socketPath, "--timeout", "1", "--sync-timeout", "1", "--", "/bin/true"])
        #expect(result.status == 6, "\(result)")
        #expect(result.stderr.contains("qga: THAW FAILED: GenericError: cannot thaw\n"), "\(result)")
        #expect(result.stderr.contains("\nqga: the guest \(agent.socketPath) may still be frozen"), "\(result)")
    }

    /// A host command that reads the terminal gets it while it runs (it runs in a process
    /// group of its own, which a shell's terminal would otherwise stop with SIGTTIN).
    @Test func theHostCommandCanReadTheTerminal() throws {
        let script = Script(Self.thawsAndFreezes)
        let agent = try script.agent()
        let qga = try BackgroundProcess(
            try Binaries.path("qga"),
            ["freeze-run", agent.socketPath, "--max-frozen", "5", "--", "/bin/sh", "-c", #"read line; echo "got $line""#],
            mode: .terminal)
        #expect(poll(seconds: 20) { qga.stderrSoFar.contains("qga: froze 1 filesystem") })
        qga.type("hello\n")
        let result = qga.finish(timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("got hello"), "\(result)")
        #expect(script.received.withLock { $0 } == ["guest-fsfreeze-freeze", "guest-fsfreeze-thaw"])
    }
}
