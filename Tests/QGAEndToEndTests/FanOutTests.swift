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

/// `--all` and several `-c` through libvirt's own test driver (`test:///FILE`, in-process,
/// no daemon): its domains run from the start, and those whose agent channel is a unix
/// socket other than org.qemu.guest_agent.0 are reached directly at qgad agents.
@Suite struct FanOutLibvirtTests {
    /// A test-driver node with a domain per agent (named `vm-0`, `vm-1`, ...) and one
    /// without an agent channel (`vm-none`); returns its URI.
    static func node(_ agents: [AgentProcess], in directory: TemporaryDirectory) throws -> String {
        func domain(_ name: String, _ devices: String) -> String {
            "<domain type='test'><name>\(name)</name><memory>65536</memory><os><type>hvm</type></os><devices>\(devices)</devices></domain>"
        }
        var xml = "<node>"
        for (index, agent) in agents.enumerated() {
            xml += domain(
                "vm-\(index)",
                "<channel type='unix'><source mode='bind' path='\(agent.socketPath)'/><target type='virtio' name='org.qemu.guest_agent.1'/></channel>")
        }
        xml += domain("vm-none", "") + "</node>"
        let path = directory.path + "/node.xml"
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        return "test://" + path
    }

    @Test func allIsEveryRunningDomainInNameOrder() throws {
        let agents = try (0..<3).map { _ in try AgentProcess(.qgad) }
        let directory = try TemporaryDirectory("fanout-node")
        defer { directory.remove() }
        let uri = try Self.node(agents, in: directory)

        let json = try Binaries.qga(["hostname", "--all", "-c", uri, "--json"])
        #expect(json.status == 2, "\(json)")
        #expect(json.stderr == "qga: 1 of 4 targets failed\n")
        let lines = json.stdout.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
        #expect(lines.map { $0["target"]?.string } == ["vm-0", "vm-1", "vm-2", "vm-none"])
        #expect(lines.prefix(3).allSatisfy { $0["return"]?["host-name"]?.string != nil })
        #expect(lines.last?["error"]?["exit"]?.number?.int == 2)
        #expect(lines.last?["error"]?["desc"]?.string?.contains("not configured") == true)

        let human = try Binaries.qga(["ping", "--all", "-c", uri])
        #expect(human.stdoutText == "TARGET  PING\nvm-0    ok\nvm-1    ok\nvm-2    ok\n", "\(human)")
        #expect(human.stderr.hasPrefix("qga: vm-none: QEMU guest agent is not configured"), "\(human)")

        let run = try Binaries.qga(["run", "--all", "-c", uri, "--", "echo", "hi"])
        #expect(run.status == 255, "\(run)")
        #expect(run.stdoutText == "vm-0: hi\nvm-1: hi\nvm-2: hi\n")
    }

    @Test func severalConnectionsServeEachDomainFromTheFirstThatHasIt() throws {
        let agents = try (0..<2).map { _ in try AgentProcess(.qgad) }
        let directory = try TemporaryDirectory("fanout-node")
        defer { directory.remove() }
        let uri = try Self.node(agents, in: directory)
        // test:///default has one domain, "test", and none of ours.
        let result = try Binaries.qga(["ping", "vm-1", "vm-0", "nowhere", "-c", "test:///default", "-c", uri, "--json"])
        #expect(result.status == 2, "\(result)")
        let lines = result.stdout.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
        #expect(lines.map { $0["target"]?.string } == ["vm-1", "vm-0", "nowhere"])
        #expect(lines.prefix(2).allSatisfy { $0["connect"]?.string == uri && $0["return"] == .object([:]) })
        #expect(lines.last?["error"]?["desc"]?.string == "domain 'nowhere' not found on test:///default, \(uri)")

        let all = try Binaries.qga(["ping", "--all", "-c", "test:///default", "-c", uri])
        #expect(all.status == 2, "\(all)")
        #expect(all.stdoutText.contains("vm-0 (\(uri))  ok"), "\(all)")
        #expect(all.stderr.contains("qga: test (test:///default): QEMU guest agent is not configured"), "\(all)")
        #expect(all.stderr.hasSuffix("qga: 2 of 4 targets failed\n"), "\(all)")

        // One target with several -c prints as one target always has.
        let one = try Binaries.qga(["ping", "vm-0", "-c", "test:///default", "-c", uri])
        #expect(one.status == 0 && one.stdoutText == "ok\n", "\(one)")
    }

    /// Completion lists the connection's domains (all defined ones), and nothing, quickly,
    /// when libvirt cannot be reached.
    @Test func completionListsDomainNames() throws {
        let directory = try TemporaryDirectory("fanout-node")
        defer { directory.remove() }
        let uri = try Self.node([], in: directory)
        let listed = try Binaries.qga(["---completion", "ping", "--", "positional@0", "2", "0", "qga", "ping"], environment: ["LIBVIRT_DEFAULT_URI": uri])
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stdoutText == "vm-none\n")
        let named = try Binaries.qga(["---completion", "run", "--", "positional@0", "4", "0", "qga", "run", "-c", uri])
        #expect(named.stdoutText == "vm-none\n", "\(named)")
        let unreachable = try Binaries.qga(
            ["---completion", "exec", "--", "positional@0", "2", "0", "qga", "exec"],
            environment: ["LIBVIRT_DEFAULT_URI": "qemu+unix:///system?socket=" + directory.path + "/none"], timeout: 10)
        #expect(unreachable.status == 0 && unreachable.stdout.isEmpty, "\(unreachable)")
    }
}

/// Many targets of one libvirt URI share one connection (virConnect is thread-safe): the
/// fake libvirtd sees one client, whatever the number of targets.
@Suite struct FanOutConnectionTests {
    @Test func oneConnectionPerURI() throws {
        let agent = try AgentProcess(.qgad)
        let xml = """
            <domain type='kvm' id='1'><name>vm</name><devices>
              <channel type='unix'><source mode='bind' path='\(agent.socketPath)'/><target type='virtio' name='org.qemu.guest_agent.1'/></channel>
            </devices></domain>
            """
        let libvirtd = try FakeLibvirtd(xml: xml) { _, _ in false }
        let result = try Binaries.qga(["ping", "-c", libvirtd.uri, "-j", "4"] + Array(repeating: "vm", count: 8), timeout: 60)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText.split(separator: "\n").count == 9, "\(result)")
        let connections = Set(libvirtd.calls.withLock { $0.map(\.connection) })
        #expect(connections == [1], "\(connections)")
        #expect(libvirtd.procedures(on: 1).count { $0 == FakeLibvirtd.Procedure.connectOpen } == 1)
        #expect(libvirtd.procedures(on: 1).count { $0 == FakeLibvirtd.Procedure.domainLookupByName } == 8)
    }
}
