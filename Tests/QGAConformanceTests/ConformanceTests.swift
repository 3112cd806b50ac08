import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// One protocol suite, run against Debian's qemu-ga and against qgad, modelled on the
/// behaviours QEMU's tests/unit/test-qga.c checks. Where qgad deliberately differs, the
/// test says so.
@Suite struct ConformanceTests {
    static let agents = AgentKind.allCases

    func error(_ value: JSONValue?) -> (String, String)? {
        guard let e = value?["error"], let c = e["class"]?.string, let d = e["desc"]?.string else { return nil }
        return (c, d)
    }

    @Test(arguments: agents) func syncDelimited(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        #expect(client.sync(id: 123_456_789), "\(kind) did not answer guest-sync-delimited after 0xFF")
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }

    @Test(arguments: agents) func syncEchoesTheId(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        #expect(client.call(#"{"execute":"guest-sync","arguments":{"id":9007199254740991}}"#)?["return"]?.number?.text == "9007199254740991")
        #expect(client.call(#"{"execute":"guest-sync","arguments":{"id":-5}}"#)?["return"] == .number(JSONNumber(-5)))
    }

    @Test(arguments: agents) func pingAndIdEcho(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let reply = client.call(#"{"execute":"guest-ping","id":{"a":[1,"x"]}}"#)
        #expect(reply?["return"] == .object([:]))
        #expect(reply?["id"] == ["a": [1, "x"]])
        // Several requests in one write, and no newline needed.
        client.send(#"{"execute":"guest-ping","id":1}{"execute":"guest-ping","id":2}"#)
        #expect(client.reply()?.value?["id"] == 1)
        #expect(client.reply()?.value?["id"] == 2)
    }

    @Test(arguments: agents) func unknownCommand(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let e = error(client.call(#"{"execute":"guest-no-such"}"#))
        #expect(e?.0 == "CommandNotFound")
        #expect(e?.1 == "The command guest-no-such has not been found")
    }

    @Test(arguments: agents) func badAndUnexpectedArguments(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        #expect(error(client.call(#"{"execute":"guest-ping","arguments":{"foo":1}}"#))?.1 == "Parameter 'foo' is unexpected")
        #expect(error(client.call(#"{"execute":"guest-sync","arguments":{}}"#))?.1 == "Parameter 'id' is missing")
        #expect(error(client.call(#"{"execute":"guest-sync","arguments":{"id":"x"}}"#))?.1
            == "Invalid parameter type for 'id', expected: integer")
        #expect(error(client.call(#"{"execute":"guest-ping","arguments":[]}"#))?.1 == "QMP input member 'arguments' must be an object")
        #expect(error(client.call(#"{"execute":"guest-ping","bogus":1}"#))?.1 == "QMP input member 'bogus' is unexpected")
        #expect(error(client.call(#"{"execute":5}"#))?.1 == "QMP input member 'execute' must be a string")
    }

    @Test(arguments: agents) func nonObjectInput(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        #expect(error(client.call("[1, 2]"))?.1 == "QMP input must be a JSON object")
        #expect(error(client.call(#""text""#))?.1 == "QMP input must be a JSON object")
    }

    @Test(arguments: agents) func guestInfoListsEveryCommand(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let info = client.call(#"{"execute":"guest-info"}"#)?["return"]
        #expect(info?["version"]?.string != nil)
        let commands = info?["supported_commands"]?.array ?? []
        let ping = commands.first { $0["name"] == "guest-ping" }
        #expect(ping?["enabled"] == true)
        #expect(ping?["success-response"] == true)
        #expect(commands.first { $0["name"] == "guest-shutdown" }?["success-response"] == false)
    }

    @Test(arguments: agents) func vcpusAndFreezeStatus(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let cpus = client.call(#"{"execute":"guest-get-vcpus"}"#)?["return"]?.array ?? []
        #expect(!cpus.isEmpty)
        #expect(cpus.allSatisfy { $0["logical-id"]?.number != nil && $0["online"]?.bool != nil })
        #expect(client.call(#"{"execute":"guest-fsfreeze-status"}"#)?["return"] == "thawed")
    }

    @Test(arguments: agents) func fileCommands(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let path = agent.directory.path + "/file.txt"
        let handle = try #require(client.call(#"{"execute":"guest-file-open","arguments":{"path":"\#(path)","mode":"w+"}}"#)?["return"]?.number?.int)
        #expect(handle >= 1000)
        let written = client.call(#"{"execute":"guest-file-write","arguments":{"handle":\#(handle),"buf-b64":"aGVsbG8gd29ybGQ="}}"#)?["return"]
        #expect(written?["count"] == 11)
        let seek = client.call(#"{"execute":"guest-file-seek","arguments":{"handle":\#(handle),"offset":6,"whence":"set"}}"#)?["return"]
        #expect(seek?["position"] == 6)
        let read = client.call(#"{"execute":"guest-file-read","arguments":{"handle":\#(handle),"count":100}}"#)?["return"]
        #expect(read?["count"] == 5)
        #expect(read?["buf-b64"] == "d29ybGQ=")
        #expect(read?["eof"] == true)
        #expect(error(client.call(#"{"execute":"guest-file-read","arguments":{"handle":\#(handle),"count":-1}}"#))?.1
            == "value '-1' is invalid for argument count")
        #expect(client.call(#"{"execute":"guest-file-close","arguments":{"handle":\#(handle)}}"#)?["return"] == .object([:]))
        #expect(error(client.call(#"{"execute":"guest-file-read","arguments":{"handle":\#(handle)}}"#))?.1
            == "handle '\(handle)' has not been found")
        // The counter is persisted in the state directory.
        #expect(try String(contentsOfFile: agent.directory.path + "/qga.state", encoding: .utf8).contains("fd_counter=\(handle + 1)"))
    }

    @Test(arguments: agents) func execWithStdinExitCodeAndStderr(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let started = client.call(#"{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","cat; echo err >&2; exit 3"],"input-data":"aW5wdXQ=","capture-output":true}}"#)
        let pid = try #require(started?["return"]?["pid"]?.number?.int)
        var status: JSONValue?
        for _ in 0..<100 {
            status = client.call(#"{"execute":"guest-exec-status","arguments":{"pid":\#(pid)}}"#)?["return"]
            if status?["exited"] == true { break }
            usleep(50_000)
        }
        #expect(status?["exitcode"] == 3)
        #expect(status?["out-data"] == "aW5wdXQ=")
        #expect(status?["err-data"] == "ZXJyCg==")
        // Collected once: the entry is gone afterwards.
        #expect(error(client.call(#"{"execute":"guest-exec-status","arguments":{"pid":\#(pid)}}"#)) != nil)
        let missing = error(client.call(#"{"execute":"guest-exec","arguments":{"path":"/nonexistent/program"}}"#))
        #expect(missing?.0 == "GenericError")
    }

    @Test(arguments: agents) func blockRPCsFromTheCommandLine(kind: AgentKind) throws {
        let agent = try AgentProcess(kind, ["-b", "guest-get-osinfo,guest-get-host-name"])
        let client = try agent.connect()
        let e = error(client.call(#"{"execute":"guest-get-osinfo"}"#))
        #expect(e?.0 == "CommandNotFound")
        #expect(e?.1.hasPrefix("Command guest-get-osinfo has been disabled") == true)
        let info = client.call(#"{"execute":"guest-info"}"#)?["return"]?["supported_commands"]?.array ?? []
        #expect(info.first { $0["name"] == "guest-get-host-name" }?["enabled"] == false)
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }

    @Test(arguments: agents) func blockRPCsFromTheConfigFile(kind: AgentKind) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let conf = dir.path + "/qemu-ga.conf"
        try "[general]\nblock-rpcs=guest-get-timezone\n".write(toFile: conf, atomically: true, encoding: .utf8)
        // QGA_CONF: qemu-ga 7.2 has no -c option yet (qgad takes both).
        let agent = try AgentProcess(kind, environment: ["QGA_CONF": conf])
        let client = try agent.connect()
        #expect(error(client.call(#"{"execute":"guest-get-timezone"}"#))?.1.hasPrefix("Command guest-get-timezone has been disabled") == true)
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }

    @Test(arguments: agents) func garbageThenARequest(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        client.send(#"garbage {"execute":"guest-ping","id":"after"}"#)
        var replies: [JSONValue] = []
        while let reply = client.reply(timeout: 2) {
            if let value = reply.value { replies.append(value) }
            if value(replies.last)?["id"] == "after" { break }
        }
        #expect(replies.first.flatMap { error($0) }?.1.hasPrefix("JSON parse error") == true)
        #expect(replies.last?["return"] == .object([:]))
    }

    func value(_ v: JSONValue?) -> JSONValue? { v }

    @Test(arguments: agents) func nestingOver1024IsRefusedAndTheAgentRecovers(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        client.send(String(repeating: "[", count: 1100) + String(repeating: "]", count: 1100))
        let first = client.reply()?.value
        #expect(error(first)?.1 == "JSON nesting depth limit exceeded")
        // qemu-ga then complains about the rest of the input; qgad skips it (deliberately).
        #expect(client.sync(), "\(kind) did not recover after deep nesting")
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }

    @Test(arguments: agents) func aMessageOver64MiBIsRefused(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        let big = Array(#"{"execute":"guest-ping","arguments":{"x":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 65 << 20)
            + Array(#""}}"#.utf8)
        client.send(big)
        var sawLimit = false
        while let reply = client.reply(timeout: 10) {
            if error(reply.value)?.1.contains("limit exceeded") == true {
                sawLimit = true
                break
            }
        }
        #expect(sawLimit, "\(kind) did not refuse a 65 MiB message")
        #expect(client.sync(timeout: 20), "\(kind) did not recover after a 65 MiB message")
    }

    @Test(arguments: agents) func aClientThatLeavesHalfARequest(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        do {
            let first = try agent.connect()
            first.send(#"{"execute":"guest-file-open","arguments":{"path":"/x"#)
            usleep(100_000)
        }
        let second = try agent.connect()
        #expect(second.sync())
        #expect(second.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }
}
