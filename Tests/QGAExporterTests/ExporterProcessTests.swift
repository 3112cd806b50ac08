import Foundation
import Glibc
import QGATestSupport
import Testing

@testable import QGAExporter

/// The value of the series whose line starts with `prefix` (name and labels), if present.
func value(_ text: String, _ prefix: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
        return Double(line.dropFirst(prefix.count + 1))
    }
    return nil
}

@Suite(.serialized) struct ExporterProcessTests {
    /// The built qga-exporter against a real qemu-ga, a real qgad, an agent that accepts and
    /// never answers, and a socket nobody listens on.
    @Test func realAgentsDeadAndHungOnes() throws {
        let qemuGA = try AgentProcess(.qemuGA)
        defer { qemuGA.stop() }
        let qgad = try AgentProcess(.qgad)
        defer { qgad.stop() }
        let silent = try FakeAgent { connection in connection.stall(30) }
        defer { silent.stop() }
        let dead = try TemporaryDirectory("exporter-dead")
        defer { dead.remove() }
        let deadPath = dead.path + "/none.sock"

        let exporter = try BackgroundProcess(
            try Binaries.path("qga-exporter"),
            [
                "--web.listen-address", "127.0.0.1:0", "--interval", "1", "--agent-timeout", "2",
                "--socket", qemuGA.socketPath, "--socket", qgad.socketPath, "--socket", silent.socketPath, "--socket", deadPath,
            ], mode: .processGroup)
        var port: Int?
        #expect(
            poll(seconds: 20) {
                guard let line = exporter.stderrSoFar.split(separator: "\n").first(where: { $0.contains("listening on 127.0.0.1:") }),
                    let text = line.split(separator: ":").last
                else { return false }
                port = Int(text)
                return port != nil
            }, "\(exporter.stderrSoFar)")
        let listening = try #require(port)

        let up = { (path: String) in #"qga_agent_up{connection="socket",domain="\#(path)"}"# }
        var metrics = ""
        // The silent agent costs its 2 s sync timeout each round; the others answer at once.
        let all = poll(seconds: 30) {
            guard let response = try? httpGet(port: listening, "/metrics") else { return false }
            metrics = response.text
            return [qemuGA.socketPath, qgad.socketPath, silent.socketPath, deadPath].allSatisfy { value(metrics, up($0)) != nil }
        }
        #expect(all, "\(metrics)")
        #expect(value(metrics, up(qemuGA.socketPath)) == 1)
        #expect(value(metrics, up(qgad.socketPath)) == 1)
        #expect(value(metrics, up(silent.socketPath)) == 0)
        #expect(value(metrics, up(deadPath)) == 0)
        // The first round's guest-info and fast commands land soon after guest-ping.
        #expect(
            poll(seconds: 20) {
                metrics = (try? httpGet(port: listening, "/metrics"))?.text ?? ""
                return metrics.contains(#"qga_load1{connection="socket",domain="\#(qgad.socketPath)"}"#)
                    && metrics.contains(#"qga_agent_info{connection="socket",domain="\#(qemuGA.socketPath)",version="#)
            }, "\(metrics)")
        #expect(!metrics.contains(#"qga_load1{connection="socket",domain="\#(qemuGA.socketPath)"}"#))
        if let check = try promtoolCheck(metrics) { #expect(check.status == 0, "\(check.stderr)") }

        // Scrapes while the silent agent holds a poll: answered from the store at once.
        var slowest = 0.0
        for _ in 0..<20 {
            let response = try httpGet(port: listening, "/metrics")
            #expect(response.status == 200)
            slowest = max(slowest, response.seconds)
        }
        #expect(slowest < 0.5, "slowest scrape \(slowest) s")

        #expect(try httpGet(port: listening, "/-/healthy").text == "OK\n")
        #expect(try httpGet(port: listening, "/").text.contains(#"href="/metrics""#))
        #expect(try httpGet(port: listening, "/nothing").status == 404)

        exporter.signal(SIGTERM)
        let result = exporter.finish(timeout: 10)
        #expect(result.status == 0, "\(result)")
    }

    @Test func flagsAreValidatedAndABusyPortFails() throws {
        let exporter = try Binaries.path("qga-exporter")
        for bad in [
            ["--web.listen-address", "9942"], ["--interval", "0"], ["--slow-interval", "-1"], ["--agent-timeout", "nan"],
            ["--concurrency", "0"], ["--concurrency", "257"], ["--disable", "guest-ping"], ["--web.telemetry-path", "metrics"],
        ] {
            let result = try QGATestSupport.run(exporter, bad, timeout: 10)
            #expect(result.status == 64, "\(bad): \(result)")
        }
        // A port that is taken: one line on stderr and status 1.
        let taken = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(taken) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(taken, pointer, length) == 0 && listen(taken, 1) == 0 && getsockname(taken, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let result = try QGATestSupport.run(exporter, ["--web.listen-address", "127.0.0.1:\(port)", "--socket", "/nonexistent"], timeout: 10)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("qga-exporter: cannot listen on 127.0.0.1:\(port)"))
    }
}

@Suite struct PollerTests {
    /// In-process: a round over a live qgad, a silent agent and a dead socket ends within the
    /// agent timeout (plus a little), and a render during the round does not wait for it.
    @Test func aHungAgentCostsOnlyItself() throws {
        let qgad = try AgentProcess(.qgad)
        defer { qgad.stop() }
        let silent = try FakeAgent { connection in connection.stall(30) }
        defer { silent.stop() }
        let store = SnapshotStore()
        let poller = Poller(
            config: PollerConfig(
                connections: [], sockets: [qgad.socketPath, silent.socketPath, "/nonexistent/agent.sock"],
                agentTimeout: .seconds(1)),
            store: store)
        let done = DispatchSemaphore(value: 0)
        let started = Date()
        Thread {
            poller.pollOnce()
            done.signal()
        }.start()
        var rendered = 0
        var slowestRender = 0.0
        while done.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            let before = Date()
            _ = Renderer().text(store)
            slowestRender = max(slowestRender, Date().timeIntervalSince(before))
            rendered += 1
        }
        let round = Date().timeIntervalSince(started)
        #expect(round < 5, "the round took \(round) s")
        #expect(rendered > 0 && slowestRender < 0.2, "slowest render \(slowestRender) s")
        let live = try #require(store.snapshot(of: TargetKey(connection: "socket", domain: qgad.socketPath)))
        #expect(live.up == true)
        #expect(live.results["guest-get-fsinfo"] != nil && live.results["guest-get-load"] != nil)
        #expect(store.snapshot(of: TargetKey(connection: "socket", domain: silent.socketPath))?.up == false)
        #expect(store.snapshot(of: TargetKey(connection: "socket", domain: "/nonexistent/agent.sock"))?.up == false)
    }

    /// libvirt's test driver (in-process, no daemon) has one running domain without an
    /// agent; a URI that cannot be opened is counted and tried again each round, never fatal.
    @Test func libvirtTargetsAndAFailingConnection() throws {
        let store = SnapshotStore()
        let lines = Mutex<[String]>([])
        let poller = Poller(
            config: PollerConfig(connections: ["test:///default", "bogus:///x"], sockets: [], agentTimeout: .seconds(1)),
            store: store, log: { line in lines.withLock { $0.append(line) } })
        poller.pollOnce()
        poller.pollOnce()
        let (targets, connections) = store.copy()
        #expect(Array(targets.keys) == [TargetKey(connection: "test:///default", domain: "test")])
        #expect(targets.values.first?.up == false)
        #expect(connections["test:///default"]?.up == true && connections["test:///default"]?.errors == 0)
        #expect(connections["bogus:///x"]?.up == false && connections["bogus:///x"]?.errors == 2)
        // Told once, not every round.
        #expect(lines.withLock { $0.filter { $0.hasPrefix("libvirt bogus:///x: ") }.count } == 1)
        let text = Renderer().text(store)
        #expect(text.contains(#"qga_exporter_libvirt_errors_total{connection="bogus:///x"} 2.0"#))
        #expect(text.contains(#"qga_agent_up{connection="test:///default",domain="test"} 0.0"#))
    }

    /// A scripted agent: frozen filesystems keep the last values and report frozen 1; a
    /// command the agent lacks (CommandNotFound) is left out, not an error; a GenericError
    /// is counted.
    @Test func frozenMissingAndFailingCommands() throws {
        let frozen = Mutex(false)
        let agent = try FakeAgent { connection in
            while let request = connection.nextRequest(timeout: 10) {
                let command = request["execute"]?.string ?? ""
                let reply: String
                switch command {
                case "guest-sync-delimited":
                    let id = request["arguments"]?["id"].map { "\($0)" } ?? "0"
                    connection.send([0xFF] + Array(#"{"return": \#(id)}"#.utf8) + [0x0A])
                    continue
                case "guest-ping": reply = #"{"return": {}}"#
                case "guest-info":
                    let names = ["guest-ping", "guest-info", "guest-fsfreeze-status", "guest-get-fsinfo", "guest-get-users", "guest-get-vcpus"]
                    let list = names.map { #"{"name": "\#($0)", "enabled": true, "success-response": true}"# }.joined(separator: ",")
                    reply = #"{"return": {"version": "9.9", "supported_commands": [\#(list)]}}"#
                case "guest-fsfreeze-status": reply = #"{"return": "\#(frozen.withLock { $0 } ? "frozen" : "thawed")"}"#
                case _ where frozen.withLock({ $0 }):
                    reply = #"{"error": {"class": "GenericError", "desc": "Command \#(command) has been disabled while frozen"}}"#
                case "guest-get-fsinfo":
                    reply = #"{"return": [{"name": "vdb", "mountpoint": "/data", "type": "xfs", "total-bytes": 1000, "used-bytes": 250, "disk": []}]}"#
                case "guest-get-users": reply = #"{"return": [{"user": "root", "login-time": 1.5}]}"#
                case "guest-get-vcpus": reply = #"{"error": {"class": "GenericError", "desc": "broken"}}"#
                default: reply = #"{"error": {"class": "CommandNotFound", "desc": "The command \#(command) has not been found"}}"#
                }
                connection.send(reply + "\n")
            }
        }
        defer { agent.stop() }
        let store = SnapshotStore()
        let key = TargetKey(connection: "socket", domain: agent.socketPath)
        let poller = Poller(config: PollerConfig(connections: [], sockets: [agent.socketPath], agentTimeout: .seconds(2)), store: store)
        poller.pollOnce()
        var snapshot = try #require(store.snapshot(of: key))
        #expect(snapshot.up == true && snapshot.frozen == false)
        #expect(snapshot.results["guest-get-fsinfo"]?.samples.contains(Sample(.filesystemFreeBytes, ["/data", "xfs", "vdb"], 750)) == true)
        #expect(snapshot.results["guest-get-users"]?.samples == [Sample(.users, [], 1)])
        // Not listed by guest-info: never asked. Listed but failing: counted.
        #expect(snapshot.results["guest-get-load"] == nil && snapshot.errors["guest-get-load"] == nil)
        #expect(snapshot.errors["guest-get-vcpus"] == 1 && snapshot.errors["guest-get-users"] == 0)
        let fsinfoAt = try #require(snapshot.results["guest-get-fsinfo"]?.at)

        frozen.withLock { $0 = true }
        poller.pollOnce()
        snapshot = try #require(store.snapshot(of: key))
        #expect(snapshot.frozen == true)
        #expect(snapshot.results["guest-get-fsinfo"]?.at == fsinfoAt)
        #expect(snapshot.errors["guest-get-users"] == 0)
        let text = Renderer().text(store)
        #expect(text.contains(#"qga_filesystems_frozen{connection="socket",domain="\#(agent.socketPath)"} 1.0"#))
        #expect(text.contains(#"qga_filesystem_free_bytes{connection="socket",domain="\#(agent.socketPath)",mountpoint="/data",type="xfs",device="vdb"} 750.0"#))

        // Frozen at its first poll: the slow commands are due again as soon as it thaws, not
        // a slow interval (120 s) later.
        let fresh = SnapshotStore()
        let second = Poller(config: PollerConfig(connections: [], sockets: [agent.socketPath], agentTimeout: .seconds(2)), store: fresh)
        second.pollOnce()
        #expect(fresh.snapshot(of: key)?.frozen == true)
        #expect(fresh.snapshot(of: key)?.results["guest-get-fsinfo"] == nil)
        frozen.withLock { $0 = false }
        second.pollOnce()
        #expect(fresh.snapshot(of: key)?.results["guest-get-fsinfo"]?.samples.contains(Sample(.filesystemFreeBytes, ["/data", "xfs", "vdb"], 750)) == true)
    }
}
