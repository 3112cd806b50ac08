import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// QEMU's JSON dialect and limits, and qemu-ga's config file and option rules, checked
/// against Debian's qemu-ga and qgad alike. Where qgad deliberately differs, the test says so.
@Suite struct ParserAndConfigTests {
    static let agents = AgentKind.allCases

    /// `{"execute":"guest-ping","arguments":{"a":[[0],…]}}`: 4 tokens per `[0],`, 13 more.
    static func amplifying(_ count: Int) -> [UInt8] {
        Array(#"{"execute":"guest-ping","arguments":{"a":["#.utf8)
            + Array(repeating: Array("[0],".utf8), count: count - 1).flatMap { $0 } + Array("[0]]}}".utf8)
    }

    @Test(arguments: agents) func singleQuotedRequests(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        #expect(client.call(#"{'execute':'guest-ping'}"#)?["return"] == .object([:]))
        let reply = client.call(#"{'execute': 'guest-ping', 'id': 'it"s \'q\''}"#)
        #expect(reply?["id"] == .string(#"it"s 'q'"#))
        #expect(client.call(#"{"execute":"guest-ping","id":"a\'b"}"#)?["id"] == "a'b")
    }

    @Test(arguments: agents) func byteFEResetsThePartialRequest(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        client.send(Array(#"{"execute":"guest-ping","id":1"#.utf8) + [0xFE] + Array(#"{"execute":"guest-ping","id":2}"#.utf8))
        var first = client.reply()?.value
        if kind == .qemuGA {
            // qemu-ga complains about the byte ("stray"); qgad treats it as 0xFF, silently.
            #expect(first?["error"]?["desc"]?.string?.hasPrefix("JSON parse error, stray") == true)
            first = client.reply()?.value
        }
        #expect(first?["return"] == .object([:]))
        #expect(first?["id"] == 2)
    }

    @Test(arguments: agents) func tokenLimitIsQEMUs(kind: AgentKind) throws {
        let agent = try AgentProcess(kind)
        let client = try agent.connect()
        // 524284 × [0] is 2097149 tokens: parsed (and refused for its argument).
        client.send(Self.amplifying(524_284))
        #expect(client.reply(timeout: 30)?.value?["error"]?["desc"] == "Parameter 'a' is unexpected")
        // 524285 × [0] is 2097153 tokens: one too many.
        client.send(Self.amplifying(524_285))
        let refused = client.reply(timeout: 30)?.value
        #expect(refused?["error"]?["class"] == "GenericError")
        #expect(refused?["error"]?["desc"] == "JSON token count limit exceeded")
        // Both carry on (qemu-ga lexes the rest of the message; qgad skips it).
        #expect(client.call(#"{"execute":"guest-ping","id":7}"#, timeout: 30)?["id"] == 7)
    }

    // MARK: Config file and options

    /// Runs `binary -D` with `QGA_CONF` holding `text` (or naming `path`).
    func dump(_ kind: AgentKind, config text: String?, path: String? = nil, _ arguments: [String] = []) throws -> ProcessResult {
        let dir = try TemporaryDirectory("conf")
        defer { dir.remove() }
        let file = path ?? dir.path + "/qemu-ga.conf"
        if let text { try text.write(toFile: file, atomically: true, encoding: .utf8) }
        let binary = kind == .qgad ? try Binaries.path("qgad") : "/usr/sbin/qemu-ga"
        return try run(binary, ["-m", "unix-listen", "-p", "/x", "-D"] + arguments, environment: ["QGA_CONF": file])
    }

    static let badConfigs = [
        "[general]\ndaemon=yes\n", "[general]\nverbose=yes\n", "[general]\nretry-path=TRUE\n", "[general]\nverbose=\n",
        "[general]\nverbose=true # comment\n", "[general\nverbose=true\n", "daemon=false\n", "[general]\nverbose\n",
        "[general]\n=true\n", "[]\n", "[other]\nnot a pair\n[general]\n", "[general]\npath=a\\qb\n", "[general]\nkey]=1\n",
    ]

    @Test(arguments: agents) func configMistakesAreFatal(kind: AgentKind) throws {
        for text in Self.badConfigs {
            let result = try dump(kind, config: text)
            #expect(result.status == 1, "\(kind) took \(text.debugDescription): \(result)")
            #expect(result.stderr.contains("error loading configuration from path"), "\(kind): \(result.stderr)")
        }
        // A directory as QGA_CONF: "not a regular file".
        let dir = try TemporaryDirectory("confdir")
        defer { dir.remove() }
        let result = try dump(kind, config: nil, path: dir.path)
        #expect(result.status == 1, "\(kind): \(result)")
        #expect(result.stderr.lowercased().contains("not a regular file"))
    }

    @Test(arguments: agents) func configAsGLibReadsIt(kind: AgentKind) throws {
        // Booleans 1/0, CRLF, indentation, spaces around '=', other groups, locale keys.
        let text = "# comment\r\n [other]\nanything = goes\n[general] \r\n  daemon = 0\nverbose= 1 \nretry-path[de]=x\nretry-path=false\n"
        let result = try dump(kind, config: text)
        #expect(result.status == 0, "\(kind): \(result)")
        #expect(result.stdoutText.contains("daemon=false\n"))
        #expect(result.stdoutText.contains("verbose=true\n"))
        // A missing file is no mistake: the defaults apply.
        #expect(try dump(kind, config: nil).status == 0)
    }

    @Test(arguments: agents) func deprecatedBlacklist(kind: AgentKind) throws {
        let key = try dump(kind, config: "[general]\nblacklist=guest-ping,guest-info\n")
        #expect(key.status == 0, "\(kind): \(key)")
        #expect(key.stdoutText.contains("block-rpcs=") && key.stdoutText.contains("guest-ping") && key.stdoutText.contains("guest-info"))
        #expect(key.stderr.contains("deprecated"))
        let option = try dump(kind, config: nil, ["--blacklist=guest-exec", "--blacklist", "guest-ping"])
        #expect(option.status == 0, "\(kind): \(option)")
        #expect(option.stdoutText.contains("block-rpcs=guest-exec,guest-ping\n") || option.stdoutText.contains("block-rpcs=guest-ping,guest-exec\n"))
    }

    @Test(arguments: agents) func questionMarkListsTheCommands(kind: AgentKind) throws {
        let binary = kind == .qgad ? try Binaries.path("qgad") : "/usr/sbin/qemu-ga"
        // qemu-ga 7.2 has no -a; newer ones take "?" there too.
        let spellings = [["-b", "?"], ["--blacklist", "?"], ["--blacklist=?"], ["--block-rpcs=?"], ["-b", "help"]]
            + (kind == .qgad ? [["-a", "?"], ["--allow-rpcs=help"]] : [])
        for arguments in spellings {
            let result = try run(binary, arguments, environment: ["QGA_CONF": "/nonexistent"], timeout: 10)
            #expect(result.status == 0, "\(kind) \(arguments): \(result)")
            #expect(result.stdoutText.split(separator: "\n").contains("guest-ping"), "\(kind) \(arguments)")
        }
    }

    @Test func freezeTimeoutIsAFiniteRange() throws {
        let qgad = try Binaries.path("qgad")
        for bad in ["inf", "1e300", "1e16", "-1", "nan", "", "0x10", "31536001", " 5"] {
            let option = try run(qgad, ["-m", "unix-listen", "-p", "/x", "-D", "--freeze-timeout", bad], environment: ["QGA_CONF": "/nonexistent"])
            #expect(option.status == 1 && option.stderr.contains("invalid freeze timeout"), "--freeze-timeout \(bad.debugDescription): \(option)")
            // A keyfile value loses its leading blanks, as GLib reads it: " 5" is 5 there.
            guard !bad.hasPrefix(" ") else { continue }
            let key = try dump(.qgad, config: "[general]\nfreeze-timeout=\(bad)\n")
            #expect(key.status == 1 && key.stderr.contains("invalid freeze timeout"), "freeze-timeout=\(bad.debugDescription): \(key)")
        }
        let ok = try run(qgad, ["-m", "unix-listen", "-p", "/x", "-D", "--freeze-timeout=31536000"], environment: ["QGA_CONF": "/nonexistent"])
        #expect(ok.status == 0 && ok.stdoutText.contains("freeze-timeout=31536000"))
    }
}
