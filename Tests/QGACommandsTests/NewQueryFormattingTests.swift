import ArgumentParser
import Glibc
import QGAClient
import QGAProtocol
import SystemPackage
import Testing

@testable import QGACommands

/// A connection that records each request and answers it from `replies` by command: a
/// reply's JSON text, or nil for silence (a command that replies only on error).
final class ScriptedConnection: AgentConnection {
    var requests: [String] = []
    let replies: [String: String?]
    var label: String { "scripted" }

    init(_ replies: [String: String?]) { self.replies = replies }

    func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        requests.append(String(decoding: request.encoded, as: UTF8.self))
        guard let reply = replies[request.execute] else { throw ClientError(.protocolViolation, "unexpected \(request.execute)") }
        guard let reply else { return nil }
        let raw = Array(reply.utf8)
        do { return Reply(incoming: try Incoming(JSONParser.parse(raw)), raw: raw) } catch {
            throw ClientError(.protocolViolation, error.message)
        }
    }
}

private func parse(_ json: String) throws -> JSONValue { try JSONParser.parse(Array(json.utf8)) }

/// The typed queries added last (time, stats, fstrim, suspend, passwd, ssh-keys), in
/// process: the exact requests they send, and their human views of well- and ill-shaped
/// guest values.
@Suite struct NewQueryFormattingTests {
    // MARK: time

    @Test(arguments: [
        ("2026-12-02T15:00:00Z", Int64(1_796_223_600_000_000_000)),
        ("2026-12-02t15:00:00z", 1_796_223_600_000_000_000),
        ("2026-12-02 16:00:00.25+01:00", 1_796_223_600_250_000_000),
        ("2026-12-02T10:30-0430", 1_796_223_600_000_000_000),
        ("2024-02-29T00:00:00.123456789999Z", 1_709_164_800_123_456_789),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("@1796223600", 1_796_223_600_000_000_000),
        ("@-1.5", -1_500_000_000),
        ("@0", 0),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
    ])
    func setTimesAreParsed(_ text: String, _ nanoseconds: Int64) throws {
        #expect(try ClockTime.nanoseconds(text) == nanoseconds)
    }

    @Test(arguments: [
        "2026-12-02T15:00:00", "2026-12-02", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-02T24:00:00Z",
        "2026-12-02T15:00:00+25:00", "2026-12-02T15:00:00Zjunk", "2262-04-12T00:00:00Z", "1677-01-01T00:00:00Z",
        "@", "@1.", "@99999999999999", "@1e9", "now", "", "２０２６-12-02T15:00:00Z",
    ])
    func badSetTimesAreRefused(_ text: String) {
        #expect(throws: ValidationError.self) { try ClockTime.nanoseconds(text) }
    }

    @Test func setSyncAndFromRTCExcludeEachOther() {
        #expect(throws: (any Error).self) { try Time.parse(["/tmp/a.sock", "--set", "@0", "--sync"]) }
        #expect(throws: (any Error).self) { try Time.parse(["/tmp/a.sock", "--sync", "--from-rtc"]) }
    }

    /// The exact requests: guest-set-time (with the time, the host's clock, or nothing),
    /// then guest-get-time to read the result back.
    @Test func timeRequests() throws {
        let replies: [String: String?] = ["guest-set-time": #"{"return": {}}"#, "guest-get-time": #"{"return": 1796223600000000000}"#]
        func requests(_ arguments: [String]) throws -> [String] {
            let connection = ScriptedConnection(replies)
            let command = try Time.parse(["/tmp/a.sock"] + arguments)
            let value = try command.value(on: connection, arguments: try command.agentArguments(), options: CallOptions())
            #expect(value == .number(JSONNumber(Int64(1_796_223_600_000_000_000))))
            return connection.requests
        }
        #expect(try requests([]) == [#"{"execute":"guest-get-time"}"#])
        #expect(try requests(["--set", "2026-12-02T15:00:00Z"])
            == [#"{"execute":"guest-set-time","arguments":{"time":1796223600000000000}}"#, #"{"execute":"guest-get-time"}"#])
        #expect(try requests(["--from-rtc"]) == [#"{"execute":"guest-set-time"}"#, #"{"execute":"guest-get-time"}"#])

        let before = ClockTime.hostNanoseconds()
        let sync = try requests(["--sync"])
        let after = ClockTime.hostNanoseconds()
        let sent = try #require(try parse(sync[0])["arguments"]?["time"]?.number?.int64)
        #expect((before...after).contains(sent))
        #expect(sync[1] == #"{"execute":"guest-get-time"}"#)
    }

    @Test func timeView() throws {
        let lines = ClockTime.lines(guest: 1_796_223_601_250_400_000, host: 1_796_223_600_000_000_000)
        #expect(lines.count == 3)
        #expect(lines[0] == "utc:    2026-12-02 15:00:01.250 UTC")
        #expect(lines[1].hasPrefix("local:  "))
        #expect(lines[2] == "offset: +1.250 s (the guest is ahead of this host)")
        #expect(ClockTime.offset(0, from: 250_000_000) == "-0.250 s (the guest is behind this host)")
        #expect(ClockTime.offset(5, from: 5) == "+0.000 s")
        #expect(ClockTime.calendar(-1, local: false) == "1969-12-31 23:59:59.999 UTC")
        // The guest's clock at either end of what it can send: no trap.
        #expect(ClockTime.offset(Int64.min, from: Int64.max).hasPrefix("-18446744074 s"))
        #expect(ClockTime.offset(Int64.max, from: Int64.min).hasPrefix("+18446744074 s"))
        #expect(ClockTime.calendar(Int64.min, local: false) == "1677-09-21 00:12:43.145 UTC")

        let command = try Time.parse(["/tmp/a.sock"])
        for bad in [#""1""#, "1e30", "1.5", "18446744073709551616", "null", "{}"] {
            #expect(throws: ClientError.self, "\(bad)") { try command.human(try parse(bad), label: "x") }
        }
    }

    // MARK: stats

    @Test func cpuStatsTable() throws {
        let command = try CPUStats.parse(["/tmp/a.sock"])
        let value = try parse(#"""
            [{"type": "linux", "cpu": 0, "user": 10, "nice": 0, "system": 123456789012345678901234567890, "idle": 4, "iowait": 5},
             {"type": "linux", "cpu": 1, "user": 1, "nice": 2, "system": 3, "idle": 4},
             {"type": "z\u001b[0m", "cpu": 2}]
            """#)
        #expect(try command.human(value, label: "x").lines == [
            #"CPU  USER  NICE                          SYSTEM  IDLE  IOWAIT"#,
            #"  0    10     0  123456789012345678901234567890     4       5"#,
            #"  1     1     2                               3     4"#,
            #"  2"#,
        ])
        for bad in [#"{}"#, #"[{"cpu": 0}]"#, #"[{"type": "linux"}]"#, #"[{"type": "linux", "cpu": 0, "user": "10"}]"#] {
            #expect(throws: ClientError.self, "\(bad)") { try command.human(try parse(bad), label: "x") }
        }
    }

    @Test func diskStatsTable() throws {
        let command = try DiskStats.parse(["/tmp/a.sock"])
        let value = try parse(#"""
            [{"name": "vda", "major": 254, "minor": 0, "stats": {"read-ios": 7, "write-ios": 18446744073709551615, "ios-pgr": 0}},
             {"name": "sd\nb", "major": 8, "minor": 16, "stats": {}}]
            """#)
        #expect(try command.human(value, label: "x").lines == [
            "NAME   MAJ:MIN  READS  READ-SECTORS                WRITES  WRITE-SECTORS  DISCARDS  FLUSHES  IN-FLIGHT  IO-MS",
            "vda    254:0        7                18446744073709551615                                            0",
            #"sd\nb  8:16"#,
        ])
        for bad in [#"[{"name": "vda", "major": 1, "minor": 0}]"#, #"[{"name": 1, "major": 1, "minor": 0, "stats": {}}]"#,
                    #"[{"name": "vda", "major": 1, "minor": 0, "stats": {"read-ios": [1]}}]"#] {
            #expect(throws: ClientError.self, "\(bad)") { try command.human(try parse(bad), label: "x") }
        }
    }

    // MARK: fstrim

    @Test func fstrimTableAndMinimum() throws {
        let command = try FSTrim.parse(["/tmp/a.sock", "--minimum", "64K"])
        #expect(try command.agentArguments() == ["minimum": .number(JSONNumber(65536))])
        #expect(try FSTrim.parse(["/tmp/a.sock"]).agentArguments() == nil)
        let value = try parse(#"""
            {"paths": [{"path": "/", "trimmed": 1610612736}, {"path": "/boot", "trimmed": -5},
                       {"path": "/huge", "trimmed": 1e30}, {"path": "/x\u202e", "error": "Operation not\nsupported"}]}
            """#)
        #expect(try command.human(value, label: "x").lines == [
            "PATH      TRIMMED  ERROR",
            "/            1.5G",
            "/boot          -5",
            "/huge        1e30",
            #"/x\u202e           Operation not\nsupported"#,
        ])
        #expect(throws: ClientError.self) { try command.human(try parse(#"[]"#), label: "x") }
        #expect(throws: ClientError.self) { try command.human(try parse(#"{"paths": [{"trimmed": 1}]}"#), label: "x") }
    }

    // MARK: suspend

    /// Each mode sends its own command; the agent's silence is success, an empty object.
    @Test(arguments: SuspendMode.allCases)
    func suspendSendsTheModesCommand(_ mode: SuspendMode) throws {
        let connection = ScriptedConnection(["guest-suspend-\(mode.rawValue)": nil])
        let command = try Suspend.parse([mode.rawValue, "/tmp/a.sock"])
        #expect(try command.value(on: connection, arguments: try command.agentArguments(), options: CallOptions()) == .object([:]))
        #expect(connection.requests == [#"{"execute":"guest-suspend-\#(mode.rawValue)"}"#])
        #expect(try command.human(.object([:]), label: "x").lines == [])
    }

    /// Silence from a command that should reply is still a protocol violation.
    @Test func silenceIsSuccessOnlyForCommandsWithoutAReply() {
        let connection = ScriptedConnection(["guest-get-time": nil])
        #expect(throws: ClientError.self) { try Time.query("guest-get-time", on: connection, options: CallOptions()) }
    }

    // MARK: passwd

    @Test func passwordTravelsBase64Encoded() throws {
        #expect(Passwd.arguments(user: "alice", password: Array("s3cr:t é".utf8), crypted: false)
            == ["username": "alice", "password": .string(Base64.encode(Array("s3cr:t é".utf8))), "crypted": false])
        #expect(Passwd.arguments(user: "bob", password: Array("$6$salt$hash".utf8), crypted: true)["crypted"] == true)
        let command = try Passwd.parse(["alice", "/tmp/a.sock", "--crypted"])
        #expect(command.user == "alice" && command.crypted)
        #expect(throws: (any Error).self) { try Passwd.parse(["", "/tmp/a.sock"]) }
    }

    /// From stdin: the first line, without `\n` or `\r\n`; nothing more is needed.
    @Test(arguments: [
        ("s3cret\nsecond line\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("no newline", "no newline"), ("\n", ""),
        ("  spaces kept \n", "  spaces kept "),
    ])
    func firstLineOfStdin(_ input: String, _ expected: String) throws {
        let (reader, writer) = try FileDescriptor.closeOnExecPipe()
        defer { try? reader.close() }
        try writer.writeFully(Array(input.utf8))
        try writer.close()
        #expect(try PasswordInput.firstLine(of: reader) == Array(expected.utf8))
    }

    @Test func badPasswordsAreRefusedWithoutQuotingThem() throws {
        for bad: [UInt8] in [[], Array("a\u{0}b".utf8), [UInt8](repeating: 0x61, count: PasswordInput.maxLength + 1)] {
            do {
                _ = try PasswordInput.checked(bad)
                Issue.record("accepted \(bad.count) bytes")
            } catch let failure as CommandFailure {
                #expect(failure.code == ExitCodes.usage)
                #expect(failure.message?.contains("a\u{0}b") == false)
            }
        }
        #expect(try PasswordInput.checked(Array("ok".utf8)) == Array("ok".utf8))
    }

    // MARK: ssh-keys

    @Test func keyFilesSkipBlankLinesAndComments() {
        let text = "  ssh-ed25519 AAAA one \n\n# a comment\r\n\t# indented comment\nssh-rsa BBBB two\r\n   \n"
        #expect(KeyInput.lines(text) == ["ssh-ed25519 AAAA one", "ssh-rsa BBBB two"])
    }

    @Test func sshKeyRequests() throws {
        let add = try SSHKeysAdd.parse(["alice", "/tmp/a.sock", "-k", "k1", "-k", "k 2", "--reset"])
        #expect(try add.agentArguments() == ["username": "alice", "keys": ["k1", "k 2"], "reset": true])
        let plain = try SSHKeysAdd.parse(["alice", "/tmp/a.sock", "-k", "k1"])
        #expect(try plain.agentArguments() == ["username": "alice", "keys": ["k1"]])
        #expect(try SSHKeysAdd.parse(["alice", "/tmp/a.sock", "--reset"]).agentArguments() == ["username": "alice", "keys": [], "reset": true])
        #expect(throws: (any Error).self) { try SSHKeysAdd.parse(["alice", "/tmp/a.sock"]) }
        #expect(throws: (any Error).self) { try SSHKeysRemove.parse(["alice", "/tmp/a.sock"]) }
        #expect(try SSHKeysRemove.parse(["alice", "/tmp/a.sock", "-k", "k1"]).agentArguments() == ["username": "alice", "keys": ["k1"]])
        #expect(try SSHKeysList.parse(["alice", "/tmp/a.sock"]).agentArguments() == ["username": "alice"])
        // Several targets after the user: the same request for each.
        let many = try SSHKeysList.parse(["alice", "/tmp/a.sock", "/tmp/b.sock"])
        #expect(many.options.targets.count == 2)
    }

    @Test func keyListIsOneKeyPerLineAndEscapedWhenPrinted() throws {
        let list = try SSHKeysList.parse(["alice", "/tmp/a.sock"])
        let lines = try list.human(try parse(#"{"keys": ["ssh-ed25519 AAAA a", "evil\n\u001b[2Jkey"]}"#), label: "x").lines
        #expect(lines == ["ssh-ed25519 AAAA a", "evil\n\u{1B}[2Jkey"])
        // Console.line writes each through this: one line, nothing for the terminal to act on.
        #expect(String(decoding: Console.escaped(lines[1]), as: UTF8.self) == #"evil\n\u001b[2Jkey"#)
        for bad in [#"{}"#, #"{"keys": [1]}"#, #"["k"]"#] {
            #expect(throws: ClientError.self, "\(bad)") { try list.human(try parse(bad), label: "x") }
        }
    }
}
