import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// Many agents at once: 64 socket targets (qgad instances, and a few dead ones: an agent
/// killed with its socket left behind, a path with nothing there, an agent that never
/// answers), through queries, exec and run; and -j's bound seen from the agents' side.
@Suite(.serialized) struct FanOutEndToEndTests {
    /// The 64 targets in the order given, with the exit code each alone gives.
    struct Targets {
        var paths: [String] = []
        var codes: [Int32] = []
        /// The agents, stopped when the targets are released.
        var live: [AgentProcess] = []
        var keep: [AnyObject] = []
    }

    /// Live agents with dead ones among them at fixed places.
    static func targets() throws -> Targets {
        var targets = Targets()
        targets.live = try (0..<60).map { _ in try AgentProcess(.qgad) }
        // Killed: its socket file stays, and nothing listens on it (refused: exit 2).
        let killed = try AgentProcess(.qgad)
        kill(killed.pid, SIGKILL)
        _ = waitForExit(killed.pid, timeout: 10)
        // Silent: accepts and never answers (exit 3 at --sync-timeout).
        let silent = try FakeAgent { connection in connection.stall(30) }
        targets.keep = [killed, silent]
        let dead: [Int: (String, Int32)] = [
            5: (killed.socketPath, 2), 17: ("/nonexistent/qga-fanout.sock", 2), 40: (silent.socketPath, 3),
            63: (killed.directory.path + "/missing.sock", 2),
        ]
        var next = 0
        for index in 0..<64 {
            if let (path, code) = dead[index] {
                targets.paths.append(path)
                targets.codes.append(code)
            } else {
                targets.paths.append(targets.live[next].socketPath)
                targets.codes.append(0)
                next += 1
            }
        }
        return targets
    }

    @Test func pingSixtyFourAgentsWithSomeDead() throws {
        let targets = try Self.targets()
        let result = try Binaries.qga(["ping", "--sync-timeout", "2"] + targets.paths, timeout: 60)
        // The first failing target in argument order gives the code; one summary line.
        #expect(result.status == 2, "\(result)")
        var lines = result.stdoutText.components(separatedBy: "\n")
        #expect(lines.removeLast() == "")
        let answered = targets.paths.indices.filter { targets.codes[$0] == 0 }.map { targets.paths[$0] }
        let width = answered.map { $0.count }.max() ?? 0
        #expect(lines.first == "TARGET" + String(repeating: " ", count: width - 6) + "  PING")
        #expect(lines.dropFirst().map { $0.split(separator: " ").map(String.init) } == answered.map { [$0, "ok"] })
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(errors.count == 5, "\(result.stderr)")
        #expect(errors.last == "qga: 4 of 64 targets failed")
        for (index, path) in targets.paths.enumerated() where targets.codes[index] != 0 {
            #expect(errors.contains { $0.hasPrefix("qga: \(path): ") }, "\(path): \(result.stderr)")
        }
        // Messages come in the targets' order.
        let order = errors.dropLast().compactMap { line in targets.paths.firstIndex { line.hasPrefix("qga: \($0): ") } }
        #expect(order == order.sorted())
    }

    @Test func jsonLinesInTheTargetsOrder() throws {
        let targets = try Self.targets()
        let result = try Binaries.qga(["hostname", "--json", "--sync-timeout", "2"] + targets.paths, timeout: 60)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr == "qga: 4 of 64 targets failed\n")
        let lines = result.stdout.split(separator: 0x0A).map { try? JSONParser.parse(Array($0)) }
        #expect(lines.count == 64)
        for (index, line) in lines.enumerated() {
            let keys = line?.object?.keys ?? []
            #expect(line?["target"]?.string == targets.paths[index])
            if targets.codes[index] == 0 {
                #expect(keys == ["target", "return"])
                #expect(line?["return"]?["host-name"]?.string != nil)
            } else {
                #expect(keys == ["target", "error"])
                #expect(line?["error"]?.object?.keys == ["class", "desc", "exit"])
                #expect(line?["error"]?["exit"]?.number?.int == Int(targets.codes[index]), "\(String(describing: line))")
                #expect(line?["error"]?["class"]?.string == (targets.codes[index] == 2 ? "Unreachable" : "NotResponding"))
            }
        }
    }

    @Test func execAndRunOnEveryTarget() throws {
        let live = try (0..<8).map { _ in try AgentProcess(.qgad) }
        let paths = live.map(\.socketPath)
        let exec = try Binaries.qga(["exec"] + paths + ["guest-get-timezone", "--compact"])
        #expect(exec.status == 0, "\(exec)")
        let values = exec.stdout.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
        #expect(values.map { $0["target"]?.string } == paths)
        #expect(values.allSatisfy { $0["return"]?["offset"] != nil })
        // -t names targets, and the first word is the command.
        let named = try Binaries.qga(["exec", "-t", paths[0], "-t", "/nonexistent/x.sock", "guest-ping"])
        #expect(named.status == 2, "\(named)")
        #expect(named.stdoutText.hasPrefix(#"{"target":"\#(paths[0])","return":{}}"#))

        let run = try Binaries.qga(["run"] + paths + ["--", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(run.status == 3, "\(run)")
        #expect(run.stdoutText == paths.map { "\($0): out\n" }.joined())
        #expect(run.stderr == paths.map { "\($0): err\n" }.joined() + "qga: 8 of 8 targets failed\n")
        let mixed = try Binaries.qga(["run", paths[0], "/nonexistent/x.sock", paths[1], "--", "true"])
        #expect(mixed.status == 255, "\(mixed)")
        #expect(mixed.stderr.hasSuffix("qga: 1 of 3 targets failed\n"), "\(mixed)")
        #expect(mixed.stderr.hasPrefix("qga: /nonexistent/x.sock: "), "\(mixed)")
    }

    /// One target alone prints as it always has: no TARGET column, no summary.
    @Test func oneTargetIsUnchanged() throws {
        let agent = try AgentProcess(.qgad)
        let path = agent.socketPath
        let ping = try Binaries.qga(["ping", path])
        #expect(ping.status == 0 && ping.stdoutText == "ok\n" && ping.stderr.isEmpty, "\(ping)")
        let dead = try Binaries.qga(["ping", "/nonexistent/x.sock"])
        #expect(dead.status == 2)
        #expect(dead.stderr == "qga: /nonexistent/x.sock: no agent socket here (is the VM running, with a guest agent channel?)\n")
    }

    /// Agents that hold each ping until `jobs` of them are inside at once: qga must reach
    /// the bound (or the agents would wait for good) and never pass it.
    @Test(arguments: [1, 3, 8])
    func jobsBoundsHowManyRunAtOnce(_ jobs: Int) throws {
        let gate = Gate(size: jobs)
        let agents = try (0..<(jobs * 4)).map { _ in
            try FakeAgent { connection in
                connection.answerSync()
                guard connection.nextRequest() != nil else { return }
                gate.arriveAndWait()
                // Out before the reply: the next ping can only come after it.
                gate.leave()
                connection.send(#"{"return": {}}"# + "\n")
            }
        }
        let result = try Binaries.qga(["ping", "-j", "\(jobs)"] + agents.map(\.socketPath), timeout: 60)
        #expect(result.status == 0, "\(result)")
        #expect(gate.peak == jobs)
        #expect(gate.timedOut == false)
    }
}

/// Lets waiters through `size` at a time, and records the most inside at once.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private let size: Int
    private var waiting = 0
    private var inside = 0
    private var generation = 0
    private(set) var peak = 0
    private(set) var timedOut = false

    init(size: Int) { self.size = size }

    /// Waits until `size` have arrived together (at most 20 s, then lets it through).
    func arriveAndWait() {
        condition.lock()
        defer { condition.unlock() }
        inside += 1
        peak = max(peak, inside)
        waiting += 1
        let mine = generation
        if waiting == size {
            waiting = 0
            generation += 1
            condition.broadcast()
            return
        }
        let end = Date().addingTimeInterval(20)
        while generation == mine {
            if !condition.wait(until: end) {
                timedOut = true
                return
            }
        }
    }

    func leave() {
        condition.lock()
        inside -= 1
        condition.unlock()
    }
}
