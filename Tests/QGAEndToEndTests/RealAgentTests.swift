import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// `qga` against Debian's real qemu-ga on a unix-listen socket.
@Suite struct RealAgentTests {
    @Test func ping() throws {
        let agent = try AgentProcess(.qemuGA)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == "{}\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func guestInfoListsCommandsInTheAgentsOrder() throws {
        let agent = try AgentProcess(.qemuGA)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-info"])
        #expect(result.status == 0, "\(result)")
        let info = try JSONParser.parse(result.stdout)
        #expect(info.object?.keys == ["version", "supported_commands"])
        let names = info["supported_commands"]?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(names.contains("guest-sync-delimited"))
        // Pretty-printed with two-space indent, one member per line.
        #expect(result.stdoutText.hasPrefix("{\n  \"version\": \""))
    }

    @Test func osinfoAndHostName() throws {
        let agent = try AgentProcess(.qemuGA)
        let os = try Binaries.qga(["exec", agent.socketPath, "guest-get-osinfo"])
        #expect(os.status == 0, "\(os)")
        #expect(try JSONParser.parse(os.stdout)["machine"] != nil)
        let host = try Binaries.qga(["exec", "unix:" + agent.socketPath, "guest-get-host-name", "--compact"])
        #expect(host.status == 0, "\(host)")
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let expected = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(host.stdoutText == #"{"host-name":"\#(expected)"}"# + "\n")
    }

    @Test func unknownCommandExitsOne() throws {
        let agent = try AgentProcess(.qemuGA)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-no-such-thing"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        // Sent all the same (newer agents have commands the catalogue lacks), with one warning.
        #expect(result.stderr == """
            qga: warning: guest-no-such-thing is not in the catalogue (QEMU \(Catalogue.schemaVersion)'s schema); sending it unchecked
            qga: CommandNotFound: The command guest-no-such-thing has not been found

            """)
    }

    @Test func blockedCommandExitsOne() throws {
        let agent = try AgentProcess(.qemuGA, ["-b", "guest-get-osinfo"])
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-get-osinfo"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("qga: CommandNotFound: "))
        #expect(result.stderr.contains("has been disabled"))
    }

    @Test func badArgumentExitsOneWithNoCheck() throws {
        let agent = try AgentProcess(.qemuGA)
        let unexpected = try Binaries.qga(["exec", agent.socketPath, "guest-ping", "foo:=1", "--no-check"])
        #expect(unexpected.status == 1, "\(unexpected)")
        #expect(unexpected.stderr == "qga: GenericError: Parameter 'foo' is unexpected\n")
        let wrongType = try Binaries.qga(["exec", agent.socketPath, "guest-file-close", "handle=abc", "--no-check"])
        #expect(wrongType.status == 1, "\(wrongType)")
        #expect(wrongType.stderr.hasPrefix("qga: GenericError: "))
    }

    /// A misspelt, missing or mistyped argument is refused before qga connects: the socket
    /// does not exist, and the usage error (64) wins over "unreachable" (2).
    @Test(arguments: [
        (["guest-file-open", "pth=/etc/hostname"], "guest-file-open has no argument 'pth' (did you mean 'path'?)"),
        (["guest-file-read"], "guest-file-read: handle is required (int)"),
        (["guest-file-read", "handle=abc"], "handle=abc: handle must be an int"),
        ([#"{"execute":"guest-file-close","arguments":{"handle":"1"}}"#], "handle must be an int, not a string"),
    ])
    func schemaUsageErrorsComeBeforeConnecting(words: [String], message: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let result = try Binaries.qga(["exec", dir.path + "/nothing.sock"] + words)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stderr.contains("Arguments of "), "\(result)")
        #expect(!result.stderr.contains("no agent socket"))
    }

    /// NAME=VALUE reaches the real agent converted: qemu-ga takes handle=N, count=N.
    @Test func convertedArgumentsWorkWithTheRealAgent() throws {
        let agent = try AgentProcess(.qemuGA)
        let path = agent.directory.path + "/converted.txt"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("abc".utf8)))
        let open = try Binaries.qga(["exec", agent.socketPath, "guest-file-open", "path=\(path)"])
        #expect(open.status == 0, "\(open)")
        let handle = open.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let read = try Binaries.qga(["exec", agent.socketPath, "guest-file-read", "handle=\(handle)", "count=2", "--compact"])
        #expect(read.status == 0, "\(read)")
        #expect(read.stdoutText == #"{"count":2,"buf-b64":"YWI=","eof":false}"# + "\n")
        #expect(try Binaries.qga(["exec", agent.socketPath, "guest-file-close", "handle=\(handle)"]).status == 0)
    }

    @Test func commandsMarksWhatTheAgentHasEnabled() throws {
        let agent = try AgentProcess(.qemuGA, ["-b", "guest-get-osinfo"])
        let result = try Binaries.qga(["commands", agent.socketPath, "--json", "--compact"])
        #expect(result.status == 0, "\(result)")
        let rows = try #require(try JSONParser.parse(result.stdout).array)
        let row = { (name: String) in rows.first { $0["name"]?.string == name } }
        #expect(row("guest-ping")?["enabled"] == .bool(true))
        #expect(row("guest-get-osinfo")?["supported"] == .bool(true))
        #expect(row("guest-get-osinfo")?["enabled"] == .bool(false))
        let table = try Binaries.qga(["commands", agent.socketPath])
        #expect(table.stdoutText.split(separator: "\n").contains { $0.hasPrefix("guest-get-osinfo ") && $0.hasSuffix(" disabled") })
    }

    @Test func fileRoundTripThroughNamedArguments() throws {
        let agent = try AgentProcess(.qemuGA)
        let path = agent.directory.path + "/round-trip.txt"
        let payload = Array("héllo\u{0}\nworld \u{1b}[31m".utf8)
        func qga(_ args: [String]) throws -> JSONValue {
            let result = try Binaries.qga(["exec", agent.socketPath] + args + ["--compact"])
            #expect(result.status == 0, "\(args): \(result)")
            return try JSONParser.parse(result.stdout)
        }
        let handle = try #require(try qga(["guest-file-open", "path=\(path)", "mode=w+"]).number?.text)
        let written = try qga([
            "guest-file-write", "handle:=\(handle)", "buf-b64=\(Data(payload).base64EncodedString())",
        ])
        #expect(written["count"]?.number?.int == payload.count)
        let seek = try qga(["guest-file-seek", "--args", #"{"handle": \#(handle), "offset": 0, "whence": "set"}"#])
        #expect(seek["position"] == 0)
        let read = try qga(["guest-file-read", "handle:=\(handle)", "count:=4096"])
        #expect(read["count"]?.number?.int == payload.count)
        #expect(read["buf-b64"]?.string.flatMap { Data(base64Encoded: $0) } == Data(payload))
        #expect(try qga(["guest-file-close", "handle:=\(handle)"]) == .object([:]))
        #expect(FileManager.default.contents(atPath: path) == Data(payload))
    }

    @Test func virshStyleRequestAndRawReply() throws {
        let agent = try AgentProcess(.qemuGA)
        let result = try Binaries.qga(["exec", agent.socketPath, #"{"execute":"guest-ping","id":"abc"}"#, "--raw"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == #"{"return": {}, "id": "abc"}"# + "\n")
    }

    @Test func secondClientAfterAHalfRequest() throws {
        let agent = try AgentProcess(.qemuGA)
        // A client leaves half a request in the agent's parser and goes away.
        let fd = try #require(connectUnix(agent.socketPath))
        let half = Array(#"{"execute": "guest-file-open", "arguments": {"path": "/x"#.utf8)
        _ = half.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        usleep(100_000)
        close(fd)
        let result = try Binaries.qga(["exec", agent.socketPath, "guest-ping"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == "{}\n")
    }

    @Test func missingSocketExitsTwo() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let result = try Binaries.qga(["exec", dir.path + "/nothing.sock", "guest-ping"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("no agent socket"))
    }

    @Test func refusedSocketExitsTwo() throws {
        let agent = try AgentProcess(.qemuGA)
        let path = agent.socketPath
        agent.stop()
        // The socket file of a stopped listener: nobody accepts any more.
        _ = try? FileManager.default.createDirectory(atPath: agent.directory.path, withIntermediateDirectories: true)
        let result = try Binaries.qga(["exec", path, "guest-ping"])
        #expect(result.status == 2, "\(result)")
    }

    @Test(arguments: [
        ["exec"],
        ["exec", "/tmp/x.sock"],
        ["exec", "/tmp/x.sock", "guest-ping", "novalue"],
        ["exec", "/tmp/x.sock", "guest-ping", "a:=[1,"],
        ["exec", "/tmp/x.sock", "guest-ping", "a=1", "a=2"],
        ["exec", "/tmp/x.sock", "{\"execute\":1}"],
        ["exec", "/tmp/x.sock", "guest-ping", "--args", "[1]"],
        ["exec", "/tmp/x.sock", "guest-ping", "--compact", "--raw"],
        ["exec", "/tmp/x.sock", "guest-ping", "--timeout", "0"],
        ["exec", "/tmp/x.sock", "guest-ping", "--max-reply-size", "12Q"],
        ["exec", "vsock:x:1", "guest-ping"],
        ["frobnicate"],
    ])
    func usageErrorsExitSixtyFour(arguments: [String]) throws {
        let result = try Binaries.qga(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(!result.stderr.isEmpty)
    }
}
