import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// Faults with real agent processes on local sockets (issue 12, item 3): the agent killed in
/// the middle of a command, qga killed while the guest is frozen, qgad killed while frozen,
/// and a full disk under the guest file. The same faults in the VM test bed: scripts/faults.
@Suite struct FaultTests {
    static let emptyFreeze = ["--mountpoint", "/no/such/mountpoint"]

    static func write(_ path: String, bytes: Int) -> Bool {
        let data = CopyTests.randomBytes(bytes)
        return data.count == bytes && FileManager.default.createFile(atPath: path, contents: Data(data))
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The agent is SIGKILLed once the upload's first chunk is in the guest file: qga says
    /// the agent closed the connection, names the partial file it can no longer remove, and
    /// exits 2 at once.
    @Test(arguments: AgentKind.allCases)
    func agentKilledMidCopy(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let host = try TemporaryDirectory("qga-fault")
        defer { host.remove() }
        #expect(Self.write(host.path + "/in", bytes: 128 << 20))
        let guestFile = agent.directory.path + "/dst"
        let cp = try BackgroundProcess(
            try Binaries.path("qga"), ["cp", host.path + "/in", agent.socketPath + ":" + guestFile], mode: .processGroup)
        #expect(poll(seconds: 30) { Self.fileSize(guestFile) > 0 }, "the copy never started: \(cp.stderrSoFar)")
        kill(agent.pid, SIGKILL)
        let result = cp.finish(timeout: 30)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("qga: \(agent.socketPath): the agent closed the connection\n"), "\(result)")
        #expect(result.stderr.contains("qga: \(guestFile) in the guest is left partial ("), "\(result)")
        #expect(result.seconds < 10, "\(result)")
        // The size it reports holds what the guest file has: writes in flight when the agent
        // died may or may not have been written ("between N and M bytes").
        let size = Self.fileSize(guestFile)
        let figures = Self.reportedBytes(result.stderr)
        #expect(figures.map { $0.lowerBound <= size && size <= $0.upperBound } == true, "\(size) bytes in the guest: \(result)")
    }

    /// "(N bytes written)" or "(between N and M bytes written)" in `stderr`.
    static func reportedBytes(_ stderr: String) -> ClosedRange<Int>? {
        guard let open = stderr.range(of: "left partial ("), let close = stderr[open.upperBound...].range(of: " bytes written)")
        else { return nil }
        let words = stderr[open.upperBound..<close.lowerBound].split(separator: " ")
        if words.count == 1, let n = Int(words[0]) { return n...n }
        if words.count == 4, words[0] == "between", words[2] == "and", let a = Int(words[1]), let b = Int(words[3]), a <= b {
            return a...b
        }
        return nil
    }

    /// The agent is SIGKILLed while the guest command runs: `run` exits 255 (qga's own
    /// failure, as ssh) with the reason and the command's guest pid, without waiting for
    /// anything.
    @Test(arguments: AgentKind.allCases)
    func agentKilledMidRun(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let marker = agent.directory.path + "/started"
        // The shell writes its pid, which the agent started and `exec` keeps.
        let run = try BackgroundProcess(
            try Binaries.path("qga"), ["run", agent.socketPath, "--", "/bin/sh", "-c", "echo $$ >\(marker).tmp && mv \(marker).tmp \(marker); exec sleep 30"],
            mode: .processGroup)
        #expect(poll(seconds: 30) { FileManager.default.fileExists(atPath: marker) }, "\(run.stderrSoFar)")
        let pid = (try? String(contentsOfFile: marker, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        kill(agent.pid, SIGKILL)
        let result = run.finish(timeout: 30)
        if let sleeper = Int32(pid) { kill(sleeper, SIGKILL) }
        #expect(result.status == 255, "\(result)")
        #expect(
            result.stderr == "qga: \(agent.socketPath): the agent closed the connection\n"
                + "qga: the command was guest process \(pid); qga lost track of it before it exited, so whether it still runs is unknown\n",
            "\(result)")
        #expect(result.seconds < 10, "\(result)")
    }

    /// freeze-run is SIGKILLed while the guest is frozen, so it cannot thaw: qgad's
    /// --freeze-timeout does, on time, and says so in its log.
    @Test func qgaKilledDuringFreezeRunIsThawedByFreezeTimeout() throws {
        let agent = try AgentProcess(.qgad, ["--freeze-timeout", "2"])
        // The host command outlives qga by a little (it keeps qga's stderr open until then).
        let qga = try BackgroundProcess(
            try Binaries.path("qga"), ["freeze-run", agent.socketPath] + Self.emptyFreeze + ["--", "/bin/sleep", "5"],
            mode: .processGroup)
        #expect(poll(seconds: 20) { qga.stderrSoFar.contains("qga: froze 0 filesystems") }, "\(qga.stderrSoFar)")
        let frozen = Date()
        qga.signal(SIGKILL)
        let client = try agent.connect()
        let status = client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"]
        // Still frozen after the kill, unless the machine was so slow that the timeout came.
        let asked = Date().timeIntervalSince(frozen)
        #expect(status == "frozen" || (asked >= 1.5 && status == "thawed"), "\(String(describing: status)) \(asked) s after the freeze")
        let thawed = poll(seconds: 10) { client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "thawed" }
        #expect(thawed)
        let after = Date().timeIntervalSince(frozen)
        #expect(after >= 1.9 && after < 6, "thawed \(after) s after the freeze, with --freeze-timeout 2")
        #expect(!FileManager.default.fileExists(atPath: agent.directory.path + "/qga.state.isfrozen"))
        // qgad's log is written by its own thread: the line may land just after the thaw.
        var log = ""
        let logged = poll(seconds: 10) {
            log = (try? String(contentsOfFile: agent.directory.path + "/agent.log", encoding: .utf8)) ?? ""
            return log.contains("without a thaw: thawed (--freeze-timeout)")
        }
        #expect(logged, "\(log)")
        #expect(qga.finish(timeout: 10).status == 128 + SIGKILL)
    }

    /// qgad is SIGKILLed while frozen (it ignores SIGTERM then) and started again on the same
    /// state directory: it knows it is frozen, refuses what frozen state refuses, and thaws
    /// on request.
    @Test func qgadRestartedWhileFrozenThawsOnRequest() throws {
        let state = try TemporaryDirectory("qga-fault-state")
        defer { state.remove() }
        let first = try AgentProcess(.qgad, ["-t", state.path])
        let freeze = try Binaries.qga(["fsfreeze", "freeze", first.socketPath] + Self.emptyFreeze)
        #expect(freeze.status == 0, "\(freeze)")
        kill(first.pid, SIGKILL)
        #expect(FileManager.default.fileExists(atPath: state.path + "/qga.state.isfrozen"))

        let second = try AgentProcess(.qgad, ["-t", state.path])
        let status = try Binaries.qga(["fsfreeze", "status", second.socketPath])
        #expect(status.stdoutText == "frozen\n", "\(status)")
        let refused = try Binaries.qga(["exec", second.socketPath, "guest-get-osinfo"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("the agent is in frozen state"), "\(refused)")
        let thaw = try Binaries.qga(["fsfreeze", "thaw", second.socketPath])
        #expect(thaw.status == 0, "\(thaw)")
        #expect(try Binaries.qga(["fsfreeze", "status", second.socketPath]).stdoutText == "thawed\n")
        #expect(!FileManager.default.fileExists(atPath: state.path + "/qga.state.isfrozen"))
    }

    /// The guest's filesystem fills up during an upload (a 1 MiB tmpfs in the agent's own
    /// mount namespace): exit 1 with the agent's ENOSPC error, and no partial file left.
    @Test(.enabled(if: FakeSysfs.usable, "needs root and unshare for a small tmpfs in a private mount namespace"),
        arguments: AgentKind.allCases)
    func diskFullDuringCopy(kind: AgentKind) throws {
        let small = try TemporaryDirectory("qga-fault-small")
        defer { small.remove() }
        let agent = try AgentProcess(
            kind,
            launcher: ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                #"mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@""#, small.path])
        let host = try TemporaryDirectory("qga-fault")
        defer { host.remove() }
        #expect(Self.write(host.path + "/in", bytes: 4 << 20))
        let result = try Binaries.qga(["cp", host.path + "/in", agent.socketPath + ":" + small.path + "/f"], timeout: 60)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr == "qga: GenericError: failed to write to file: No space left on device\n", "\(result)")
        // The guest's view of the directory: the tmpfs, through the agent's mount namespace.
        let inGuest = "/proc/\(agent.pid)/root" + small.path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: inGuest)) == [], "left in the guest's tmpfs")
        let mounts = (try? String(contentsOfFile: "/proc/\(agent.pid)/mounts", encoding: .utf8)) ?? ""
        #expect(mounts.contains(" \(small.path) tmpfs "), "the agent does not see its tmpfs: \(mounts)")
    }
}
