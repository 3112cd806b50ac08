import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// The typed queries (`qga ping`, `info`, `osinfo`, ...) against Debian's qemu-ga and qgad:
/// each one's human view, and `--json` as the agent's value unchanged.
@Suite struct QueryTests {
    static let kinds: [AgentKind] = [.qemuGA, .qgad]

    /// Queries whose value does not change between two calls, with their agent command.
    static let stable: [(String, String)] = [
        ("ping", "guest-ping"), ("info", "guest-info"), ("osinfo", "guest-get-osinfo"), ("hostname", "guest-get-host-name"),
        ("timezone", "guest-get-timezone"), ("vcpus", "guest-get-vcpus"), ("disks", "guest-get-disks"), ("users", "guest-get-users"),
    ]

    /// `--json` prints what `qga exec` prints for the command: the agent's value, pretty or
    /// (with --compact) on one line, through the same printer.
    @Test(arguments: kinds)
    func jsonIsTheAgentsValueUnchanged(_ kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        for (query, command) in Self.stable {
            for layout in [[], ["--compact"]] {
                let typed = try Binaries.qga([query, agent.socketPath, "--json"] + layout)
                let exec = try Binaries.qga(["exec", agent.socketPath, command] + layout)
                #expect(typed.status == 0, "\(query): \(typed)")
                #expect(typed.stdoutText == exec.stdoutText, "\(query) \(layout)")
                #expect(typed.stderr.isEmpty, "\(query): \(typed)")
            }
        }
        // Values that move between calls (byte counts, packet counters) keep their shape.
        for (query, command) in [("fsinfo", "guest-get-fsinfo"), ("ifaddr", "guest-network-get-interfaces")] {
            let typed = try Binaries.qga([query, agent.socketPath, "--json", "--compact"])
            #expect(typed.status == 0, "\(query): \(typed)")
            let value = try JSONParser.parse(typed.stdout)
            #expect(value.array?.isEmpty == false, "\(query)")
            #expect(typed.stdoutText.hasPrefix("[{\"name\":"), "\(command): \(typed.stdoutText)")
        }
    }

    @Test(arguments: kinds)
    func humanViews(_ kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        func human(_ query: String) throws -> [String] {
            let result = try Binaries.qga([query, agent.socketPath])
            #expect(result.status == 0, "\(query): \(result)")
            #expect(result.stderr.isEmpty, "\(query): \(result)")
            var lines = result.stdoutText.components(separatedBy: "\n")
            #expect(lines.last == "", "\(query) ends with a newline")
            lines.removeLast()
            #expect(!lines.contains { $0.hasSuffix(" ") }, "\(query): no trailing spaces")
            return lines
        }
        func json(_ command: String) throws -> JSONValue {
            try JSONParser.parse(try Binaries.qga(["exec", agent.socketPath, command, "--compact"]).stdout)
        }

        #expect(try human("ping") == ["ok"])

        let info = try human("info")
        let version = try json("guest-info")["version"]?.string ?? "?"
        #expect(info.prefix(3) == ["version: \(version)", "", "COMMAND                           ENABLED  REPLIES"])
        #expect(info.contains("guest-ping                        yes      yes"))
        #expect(info.contains("guest-shutdown                    yes      no"))

        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        #expect(try human("hostname") == [String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)])

        let os = try human("osinfo")
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        // Names padded to the longest, kernel-release:.
        #expect(os.contains("machine:        \(machine)"), "\(os)")
        #expect(os.first?.hasPrefix("pretty-name:    ") == true, "\(os)")

        let fs = try human("fsinfo")
        #expect(fs.first?.split(separator: " ") == ["MOUNT", "TYPE", "SIZE", "USED", "USE%", "DISKS"])
        let root = try #require(try json("guest-get-fsinfo").array?.first { $0["mountpoint"]?.string == "/" })
        let rootLine = try #require(fs.first { $0.hasPrefix("/ ") })
        let fields = rootLine.split(separator: " ").map(String.init)
        #expect(fields.count >= 5, "\(rootLine)")
        #expect(fields[1] == root["type"]?.string)
        #expect(fields[2].last.map { "KMGTPE".contains($0) } == true, "size as df -h: \(rootLine)")
        #expect(fields[4].hasSuffix("%"), "\(rootLine)")

        let interfaces = try human("ifaddr")
        #expect(interfaces.first?.split(separator: " ") == ["NAME", "HWADDR", "ADDRESSES"])
        #expect(interfaces.contains { $0.hasPrefix("lo ") && $0.contains(" 127.0.0.1/8") }, "\(interfaces)")

        let zone = try json("guest-get-timezone")
        let offset = zone["offset"]?.number?.int ?? 0
        let utc = "UTC\(offset < 0 ? "-" : "+")" + String(format: "%02d:%02d", abs(offset) / 3600, abs(offset) % 3600 / 60)
        #expect(try human("timezone") == [zone["zone"]?.string.map { "\($0) (\(utc))" } ?? utc])

        let cpus = try human("vcpus")
        #expect(cpus.first == "CPU  ONLINE  CAN-OFFLINE")
        #expect(cpus.count == (try json("guest-get-vcpus").array?.count ?? 0) + 1)

        let disks = try human("disks")
        #expect(disks.first?.split(separator: " ") == ["NAME", "TYPE", "DEPENDS", "BUS", "SERIAL"])
        #expect(disks.count == (try json("guest-get-disks").array?.count ?? 0) + 1)

        let users = try human("users")
        #expect(users.first == "USER  LOGIN (UTC)")
        #expect(users.count == (try json("guest-get-users").array?.count ?? 0) + 1)
    }

    /// qgad has guest-get-load (QEMU 10.0); Debian's qemu-ga 7.2 does not, and the message
    /// says which command, the QEMU that added it and the agent's version.
    @Test func loadOrWhyNot() throws {
        let qgad = try AgentProcess(.qgad)
        let load = try Binaries.qga(["load", qgad.socketPath])
        #expect(load.status == 0, "\(load)")
        #expect(load.stdoutText.range(of: #"^load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d\n$"#, options: .regularExpression) != nil, "\(load)")
        let loadJSON = try Binaries.qga(["load", qgad.socketPath, "--json", "--compact"])
        #expect(loadJSON.stdoutText.hasPrefix(#"{"load1m":"#), "\(loadJSON)")

        let qemuGA = try AgentProcess(.qemuGA)
        let version = try JSONParser.parse(try Binaries.qga(["exec", qemuGA.socketPath, "guest-info"]).stdout)["version"]?.string ?? "?"
        for arguments in [[], ["--json"]] {
            let missing = try Binaries.qga(["load", qemuGA.socketPath] + arguments)
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stdout.isEmpty)
            #expect(missing.stderr == "qga: \(qemuGA.socketPath): the agent has no guest-get-load (added in QEMU 10.0); it is version \(version)\n")
        }
    }

    /// An agent that answers CommandNotFound and does not list the command: the message
    /// names it, the QEMU version that added it and the agent's version.
    @Test func missingCommandOnAnOldAgent() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"error": {"class": "CommandNotFound", "desc": "The command guest-get-osinfo has not been found"}}"# + "\n")
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(#"{"return": {"version": "2.5.0", "supported_commands": [{"name": "guest-ping", "enabled": true, "success-response": true}]}}"# + "\n")
        }
        let result = try Binaries.qga(["osinfo", agent.socketPath])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "qga: \(agent.socketPath): the agent has no guest-get-osinfo (added in QEMU 2.10); it is version 2.5.0\n")
    }

    /// A command the agent has but disabled (--block-rpcs) is not "missing": the agent's
    /// own error stands, and `info` shows it disabled.
    @Test func disabledCommandKeepsTheAgentsError() throws {
        let agent = try AgentProcess(.qemuGA, ["-b", "guest-get-osinfo"])
        let result = try Binaries.qga(["osinfo", agent.socketPath])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("qga: CommandNotFound: "), "\(result)")
        #expect(result.stderr.contains("has been disabled"), "\(result)")
        let info = try Binaries.qga(["info", agent.socketPath])
        #expect(info.stdoutText.contains("\nguest-get-osinfo                  no       yes\n"), "\(info)")
    }

    /// What the guest sends reaches the terminal escaped, and the columns are measured on
    /// the escaped text, so that they still line up.
    @Test func guestTextIsEscapedAndAligned() throws {
        let agent = try FakeAgent { connection in
            connection.answerSync()
            _ = connection.nextRequest()
            connection.send(
                #"{"return": [{"name": "e\u001b[2Jx", "hardware-address": "00:11", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "10.0.0.1\n", "prefix": 8}]}, {"name": "lo", "hardware-address": "00:00"}]}"#
                    + "\n")
        }
        let result = try Binaries.qga(["ifaddr", agent.socketPath])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdout.contains(0x1B))
        #expect(result.stdoutText == #"""
            NAME         HWADDR  ADDRESSES
            e\u001b[2Jx  00:11   10.0.0.1\n/8
            lo           00:00

            """#)
    }

    /// --raw is exec's; the queries refuse it before connecting.
    @Test func rawIsRefused() throws {
        let result = try Binaries.qga(["hostname", "/nonexistent/agent.sock", "--raw"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--raw goes with exec only"), "\(result)")
    }
}
