import Foundation
import QGAProtocol
import QGATestSupport
import Testing

@testable import QGAExporter

/// A store with one target per agent, filled from the canned replies as the poller would.
func cannedStore(_ agents: [(String, [String: String])]) throws -> SnapshotStore {
    let store = SnapshotStore()
    store.setTargets(agents.map { TargetKey(connection: "socket", domain: $0.0) })
    let now = ContinuousClock.now
    for (name, replies) in agents {
        try store.update(TargetKey(connection: "socket", domain: name)) { snapshot in
            snapshot.up = true
            snapshot.pingSeconds = 0.001
            for command in ["guest-info", "guest-fsfreeze-status"] + Decode.slowCommands.dropFirst() + Decode.fastCommands {
                let reply = try JSONParser.parse(Array(try #require(replies[command]).utf8))
                if let value = reply["return"] {
                    snapshot.record(command, value, at: now)
                    snapshot.errors[command, default: 0] += 0
                }
            }
        }
    }
    return store
}

extension SnapshotStore {
    /// `update` for a body that throws (test setup only).
    func update(_ key: TargetKey, _ body: (inout TargetSnapshot) throws -> Void) throws {
        var failure: (any Error)?
        update(key) { snapshot in
            do { try body(&snapshot) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// The rendered lines, sorted (families and series come out in hash order).
func sortedLines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init).sorted()
}

/// Runs `promtool check metrics` on `text` when Debian's prometheus is installed; nil otherwise.
func promtoolCheck(_ text: String) throws -> (status: Int32, stderr: String)? {
    let promtool = "/usr/bin/promtool"
    guard FileManager.default.isExecutableFile(atPath: promtool) else { return nil }
    let result = try QGATestSupport.run(promtool, ["check", "metrics"], stdin: Array(text.utf8))
    return (result.status, result.stderr)
}

@Suite struct RenderTests {
    @Test func cannedAgentsRenderEveryFamilyOnce() throws {
        let store = try cannedStore([("/run/qemu-ga.sock", Canned.qemuGA), ("/run/qgad.sock", Canned.qgad)])
        let text = Renderer().text(store)
        let lines = sortedLines(text)
        // One HELP and one TYPE per family, from the table.
        for metric in Metric.allCases where text.contains("\n\(metric.name){") || text.hasPrefix("\(metric.name) ") {
            #expect(lines.filter { $0 == "# TYPE \(metric.name) \(metric.kind == .counter ? "counter" : "gauge")" }.count == 1)
            #expect(lines.filter { $0 == "# HELP \(metric.name) \(metric.help)" }.count == 1)
        }
        #expect(lines.contains("qga_exporter_targets 2.0"))
        #expect(lines.contains(#"qga_agent_up{connection="socket",domain="/run/qgad.sock"} 1.0"#))
        #expect(lines.contains(#"qga_agent_info{connection="socket",domain="/run/qemu-ga.sock",version="7.2.22"} 1.0"#))
        #expect(
            lines.contains(
                #"qga_filesystem_size_bytes{connection="socket",domain="/run/qemu-ga.sock",mountpoint="/",type="ext4",device="vda"} 101443186688.0"#
            ))
        #expect(lines.contains(#"qga_filesystems_frozen{connection="socket",domain="/run/qgad.sock"} 0.0"#))
        #expect(lines.contains(#"qga_poll_errors_total{connection="socket",domain="/run/qgad.sock",command="guest-get-load"} 0"#))
        // qemu-ga 7.2 has no guest-get-load: its load is left out, not an error.
        #expect(lines.contains { $0.hasPrefix(#"qga_load1{connection="socket",domain="/run/qgad.sock"}"#) })
        #expect(!lines.contains { $0.hasPrefix(#"qga_load1{connection="socket",domain="/run/qemu-ga.sock"}"#) })
        // Prometheus would rename these.
        #expect(!text.contains("instance=") && !text.contains("job="))
        if let check = try promtoolCheck(text) { #expect(check.status == 0, "\(check.stderr)") }
    }

    @Test func vanishedTargetsAndDeadAgents() throws {
        let store = try cannedStore([("/a.sock", Canned.qgad), ("/b.sock", Canned.qemuGA)])
        // One renderer across scrapes, as the server keeps it.
        let renderer = Renderer()
        #expect(renderer.text(store).contains("/a.sock"))
        store.setTargets([TargetKey(connection: "socket", domain: "/b.sock"), TargetKey(connection: "socket", domain: "/c.sock")])
        store.update(TargetKey(connection: "socket", domain: "/c.sock")) {
            $0.up = false
            $0.errors["guest-ping"] = 3
        }
        let text = renderer.text(store)
        #expect(!text.contains("/a.sock"))
        let lines = sortedLines(text)
        #expect(lines.contains(#"qga_agent_up{connection="socket",domain="/c.sock"} 0.0"#))
        #expect(lines.contains(#"qga_poll_errors_total{connection="socket",domain="/c.sock",command="guest-ping"} 3.0"#))
        #expect(!lines.contains { $0.hasPrefix(#"qga_agent_ping_seconds{connection="socket",domain="/c.sock"}"#) })
        // A target not polled yet has no series at all.
        store.setTargets([TargetKey(connection: "socket", domain: "/d.sock")])
        #expect(sortedLines(renderer.text(store)).filter { !$0.hasPrefix("#") } == ["qga_exporter_targets 1.0"])
        if let check = try promtoolCheck(renderer.text(store)) { #expect(check.status == 0, "\(check.stderr)") }
    }

    /// A counter follows the guest's absolute value, down too (the guest rebooted).
    @Test func countersAreSetFromTheGuest() throws {
        let store = SnapshotStore()
        let key = TargetKey(connection: "socket", domain: "/a.sock")
        store.setTargets([key])
        let renderer = Renderer()
        let line = #"qga_disk_reads_completed_total{connection="socket",domain="/a.sock",device="vda"}"#
        for reads in [500, 700, 3] {
            store.update(key) {
                $0.up = true
                $0.record(
                    "guest-get-diskstats",
                    .array([.object(["name": .string("vda"), "stats": .object(["read-ios": .number(JSONNumber(reads))])])]),
                    at: .now)
            }
            #expect(sortedLines(renderer.text(store)).contains("\(line) \(Double(reads))"))
        }
    }

    @Test func hostileLabelsAreEscapedAndBounded() throws {
        let store = SnapshotStore()
        let key = TargetKey(connection: "qemu:///system", domain: "vm \"1\"\\\n")
        store.setTargets([key])
        let long = String(repeating: "é", count: 1000)
        let fsinfo = JSONValue.array([
            .object([
                "name": .string("vd\"a\n"), "mountpoint": .string(long), "type": .string("ext4\\"),
                "total-bytes": .number(JSONNumber(100)), "used-bytes": .number(JSONNumber(40)),
            ]),
            // The same labels twice: written once.
            .object([
                "name": .string("vd\"a\n"), "mountpoint": .string(long), "type": .string("ext4\\"),
                "total-bytes": .number(JSONNumber(100)), "used-bytes": .number(JSONNumber(40)),
            ]),
        ])
        store.update(key) {
            $0.up = true
            $0.record("guest-get-fsinfo", fsinfo, at: .now)
        }
        let text = Renderer().text(store)
        let size = try #require(text.split(separator: "\n").first { $0.hasPrefix("qga_filesystem_size_bytes{") })
        #expect(size.contains(#"domain="vm \"1\"\\\n""#))
        #expect(size.contains("mountpoint=\"\(String(repeating: "é", count: Renderer.maxLabelLength))\""))
        #expect(text.components(separatedBy: "qga_filesystem_size_bytes{").count == 2)
        if let check = try promtoolCheck(text) { #expect(check.status == 0, "\(check.stderr)") }
    }
}
