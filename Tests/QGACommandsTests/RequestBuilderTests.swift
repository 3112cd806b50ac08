import QGAClient
import QGAProtocol
import Testing

@testable import QGACommands

@Suite struct RequestBuilderTests {
    func build(_ command: String, _ arguments: [String] = [], args: String? = nil, check: Bool = true) throws -> String {
        try String(
            decoding: RequestBuilder.build(command: command, arguments: arguments, argsJSON: args, check: check).encoded, as: UTF8.self)
    }

    /// The usage error's message, or nil when the words build a request.
    func refusal(_ command: String, _ arguments: [String] = [], args: String? = nil) -> String? {
        do {
            _ = try RequestBuilder.build(command: command, arguments: arguments, argsJSON: args)
            return nil
        } catch {
            #expect(error.code == .invalidRequest)
            return error.message
        }
    }

    @Test func namedArgumentsKeepTheirOrderAndTypes() throws {
        #expect(try build("guest-file-open", ["path=/etc/hostname", "mode=r"])
            == #"{"execute":"guest-file-open","arguments":{"path":"/etc/hostname","mode":"r"}}"#)
        #expect(try build("guest-exec", ["path=/bin/ls", #"arg:=["-l","a=b"]"#, "capture-output:=true"])
            == #"{"execute":"guest-exec","arguments":{"path":"/bin/ls","arg":["-l","a=b"],"capture-output":true}}"#)
        #expect(try build("guest-file-read", ["handle:=18446744073709551615"], check: false)
            == #"{"execute":"guest-file-read","arguments":{"handle":18446744073709551615}}"#)
    }

    @Test func valuesAreConvertedToTheSchemasTypes() throws {
        #expect(try build("guest-file-read", ["handle=1000", "count=65536"])
            == #"{"execute":"guest-file-read","arguments":{"handle":1000,"count":65536}}"#)
        #expect(try build("guest-exec", ["path=/bin/ls", "capture-output=true"])
            == #"{"execute":"guest-exec","arguments":{"path":"/bin/ls","capture-output":true}}"#)
        #expect(try build("guest-exec", ["path=/bin/ls", "capture-output=stdout"])
            == #"{"execute":"guest-exec","arguments":{"path":"/bin/ls","capture-output":"stdout"}}"#)
        // GuestFileWhence: int or QGASeek.
        #expect(try build("guest-file-seek", ["handle=3", "offset=-2", "whence=end"])
            == #"{"execute":"guest-file-seek","arguments":{"handle":3,"offset":-2,"whence":"end"}}"#)
        #expect(try build("guest-file-seek", ["handle=3", "offset=0", "whence=1"])
            == #"{"execute":"guest-file-seek","arguments":{"handle":3,"offset":0,"whence":1}}"#)
        // A str argument keeps digits as text; an array argument takes one element per word.
        #expect(try build("guest-file-open", ["path=1000"]) == #"{"execute":"guest-file-open","arguments":{"path":"1000"}}"#)
        #expect(try build("guest-exec", ["path=/bin/ls", "arg=-l", "arg=a=b", "env=X=1"])
            == #"{"execute":"guest-exec","arguments":{"path":"/bin/ls","arg":["-l","a=b"],"env":["X=1"]}}"#)
    }

    @Test func noCheckSendsArgumentsAsTyped() throws {
        #expect(try build("guest-file-read", ["handle=1000", "bogus=1"], check: false)
            == #"{"execute":"guest-file-read","arguments":{"handle":"1000","bogus":"1"}}"#)
        #expect(try build(#"{"execute":"guest-file-read","arguments":{"handle":"x"}}"#, check: false)
            == #"{"execute":"guest-file-read","arguments":{"handle":"x"}}"#)
    }

    @Test func unknownCommandsPassThroughUnchecked() throws {
        #expect(try build("guest-from-the-future", ["n=1", "j:=[1]"])
            == #"{"execute":"guest-from-the-future","arguments":{"n":"1","j":[1]}}"#)
    }

    @Test func misspeltArgumentNamesTheValidOnes() throws {
        let message = try #require(refusal("guest-file-open", ["pth=/etc/hostname"]))
        #expect(message == """
            guest-file-open has no argument 'pth' (did you mean 'path'?)
            Arguments of guest-file-open:
              path  str
              mode  str, optional
            """)
        #expect(refusal("guest-ping", ["x=1"])?.hasSuffix("guest-ping takes no arguments.") == true)
    }

    @Test(arguments: [
        // NAME=VALUE that does not convert.
        ("guest-file-read", ["handle=abc"], nil, "handle=abc: handle must be an int"),
        ("guest-file-read", ["handle=1.0"], nil, "handle=1.0: handle must be an int"),
        ("guest-exec", ["path=/bin/ls", "capture-output=maybe"], nil, "capture-output must be bool or GuestExecCaptureOutputMode"),
        ("guest-exec", ["path=/bin/ls", "input-data:=5"], nil, "guest-exec: input-data must be a str, not a number"),
        // Missing, unknown, and nested mismatches in NAME:=JSON, --args and the virsh form.
        ("guest-file-read", [], nil, "guest-file-read: handle is required (int)"),
        ("guest-file-read", ["handle:=18446744073709551615"], nil, "handle must be an int, not 18446744073709551615"),
        ("guest-file-read", [], #"{"handle":1,"cnt":2}"#, "guest-file-read has no argument 'cnt' (did you mean 'count'?)"),
        ("guest-exec", ["path=/bin/ls", #"arg:=["-l",1]"#], nil, "guest-exec: arg[1] must be a str, not a number"),
        ("guest-exec", ["path=/bin/ls", #"arg:="-l""#], nil, "guest-exec: arg must be an array of str, not a string"),
        ("guest-set-vcpus", [#"vcpus:=[{"logical-id":0}]"#], nil, "guest-set-vcpus: vcpus[0].online is required (bool)"),
        ("guest-set-vcpus", [#"vcpus:=[{"logical-id":0,"online":true,"x":1}]"#], nil, "vcpus[0] has no member 'x'"),
        ("guest-set-vcpus", [#"vcpus:=[{"logical-id":"0","online":true}]"#], nil, "vcpus[0].logical-id must be an int, not a string"),
        (#"{"execute":"guest-file-close","arguments":{"handle":"1"}}"#, [], nil, "guest-file-close: handle must be an int, not a string"),
        (#"{"execute":"guest-file-close"}"#, [], nil, "guest-file-close: handle is required (int)"),
    ] as [(String, [String], String?, String)])
    func refusesWhatDoesNotFitTheSchema(command: String, arguments: [String], args: String?, expected: String) throws {
        let message = try #require(refusal(command, arguments, args: args))
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("Arguments of "), "\(message)")
    }

    @Test func integerRanges() {
        #expect(SchemaCheck.integer("255", .uint8) != nil)
        #expect(SchemaCheck.integer("256", .uint8) == nil)
        #expect(SchemaCheck.integer("-1", .uint64) == nil)
        #expect(SchemaCheck.integer("18446744073709551615", .uint64)?.text == "18446744073709551615")
        #expect(SchemaCheck.integer("-9223372036854775808", .int)?.text == "-9223372036854775808")
        #expect(SchemaCheck.integer("9223372036854775808", .int) == nil)
        #expect(SchemaCheck.integer("1e3", .int) == nil)
        #expect(SchemaCheck.integer("-", .int) == nil)
        #expect(throws: SchemaCheck.Mismatch.self) { try SchemaCheck.check(.number(JSONNumber(70000)), against: .named("uint16"), at: "x") }
    }

    @Test func valuesMayContainEqualsAndBeEmpty() throws {
        #expect(try build("x", ["a=b=c", "e="]) == #"{"execute":"x","arguments":{"a":"b=c","e":""}}"#)
        #expect(try build("x", ["a:=\"b:=c\""]) == #"{"execute":"x","arguments":{"a":"b:=c"}}"#)
    }

    @Test func argsObjectMergesWithNamedArguments() throws {
        #expect(try build("x", ["b=2"], args: #"{"a": 1}"#) == #"{"execute":"x","arguments":{"a":1,"b":"2"}}"#)
        #expect(try build("guest-ping") == #"{"execute":"guest-ping"}"#)
    }

    @Test func wholeRequestsPassThrough() throws {
        #expect(try build(#"{"execute":"guest-info","id":"x"}"#) == #"{"execute":"guest-info","id":"x"}"#)
    }

    @Test(arguments: [
        ("x", ["novalue"], nil), ("x", ["=v"], nil), ("x", [":=1"], nil), ("x", ["a:=nope"], nil),
        ("x", ["a=1", "a=2"], nil), ("x", ["a=1"], #"{"a":2}"#), ("guest-exec", ["path=/a", "path=/b"], nil),
        ("guest-exec", ["path=/a", "arg=x"], #"{"arg":["y"]}"#), ("guest-exec", ["path=/a", "arg:=[]", "arg=x"], nil), ("x", [], "[1]"), ("x", [], "{"),
        (#"{"execute":"x"}"#, ["a=1"], nil), (#"{"execute":1}"#, [], nil), (#"{"nope":1}"#, [], nil),
        ("has space", [], nil), ("", [], nil),
    ] as [(String, [String], String?)])
    func refusesBadInput(command: String, arguments: [String], args: String?) {
        #expect(throws: ClientError.self) { try build(command, arguments, args: args) }
    }
}

@Suite struct CatalogueCommandTests {
    @Test func describeShowsArgumentsReplyAndTypes() throws {
        let info = try #require(Catalogue.info("guest-exec"))
        let text = Describe.text(info)
        #expect(text.prefix(4) == ["guest-exec", "  since:    QEMU 2.5", "  on:       Linux, Windows", "  replies:  yes, with GuestExec"])
        #expect(text.contains("  path            str"))
        #expect(text.contains("  capture-output  GuestExecCaptureOutput  optional"))
        #expect(text.contains("GuestExecCaptureOutputMode: one of none, stdout, stderr, separated, merged (not on Windows)"))
        #expect(text.contains("GuestExec:"))
        let shutdown = Describe.text(try #require(Catalogue.info("guest-shutdown")))
        #expect(shutdown.contains("  replies:  no reply on success (only errors are answered)"))
        let json = Describe.json(info)
        #expect(json["arguments"]?.array?.count == 5)
        #expect(json["success-response"] == .bool(true))
        #expect(json["types"]?.array?.compactMap { $0["name"]?.string } == ["GuestExecCaptureOutput", "GuestExecCaptureOutputMode", "GuestExec"])
    }

    /// Unions: described by their common members and branches, checked with the members of
    /// the branch the discriminator picks (`guest-get-cpustats` returns `[GuestCpuStats]`).
    @Test func unionsAreDescribedAndChecked() throws {
        let info = try #require(Catalogue.info("guest-get-cpustats"))
        let text = Describe.text(info)
        #expect(text.contains("GuestCpuStats:"))
        #expect(text.contains("  type  GuestCpuStatsType"))
        #expect(text.contains("  and when type is linux: the members of GuestLinuxCpuStats"))
        let union = try #require(Describe.json(info)["types"]?.array?.first { $0["name"] == "GuestCpuStats" })
        #expect(union["members"]?.array?.compactMap { $0["name"]?.string } == ["type"])
        #expect(union["discriminator"] == "type")

        let stats = TypeRef.named("GuestCpuStats")
        let linux: JSONValue = ["type": "linux", "cpu": 0, "user": 1, "nice": 2, "system": 3, "idle": 4]
        #expect(throws: Never.self) { try SchemaCheck.check(linux, against: stats, at: "s") }
        #expect(throws: SchemaCheck.Mismatch(path: "s.idle", problem: "is required (uint64)")) {
            try SchemaCheck.check(["type": "linux", "cpu": 0, "user": 1, "nice": 2, "system": 3], against: stats, at: "s")
        }
        #expect(throws: SchemaCheck.Mismatch.self) { try SchemaCheck.check(["type": "windows"], against: stats, at: "s") }
    }

    @Test func commandListMarksWhatTheAgentHas() throws {
        let info: JSONValue = [
            "version": "7.2.0",
            "supported_commands": [
                ["name": "guest-ping", "enabled": true, "success-response": true],
                ["name": "guest-exec", "enabled": false, "success-response": true],
                ["name": "guest-newer", "enabled": true, "success-response": false],
            ],
        ]
        let rows = CommandRow.rows(offered: try Offered.list(info, from: "t"))
        #expect(rows.count == Catalogue.commands.count + 1)
        #expect(rows.last?.name == "guest-newer")
        let table = CommandRow.table(rows, withAgent: true)
        #expect(table[0].split(separator: " ") == ["COMMAND", "SINCE", "LINUX", "WINDOWS", "REPLIES", "AGENT"])
        let line = { (name: String) in table.first { $0.hasPrefix(name + " ") }?.split(separator: " ").map(String.init) }
        #expect(line("guest-ping") == ["guest-ping", "0.15.0", "yes", "yes", "yes", "enabled"])
        #expect(line("guest-exec") == ["guest-exec", "2.5", "yes", "yes", "yes", "disabled"])
        #expect(line("guest-shutdown") == ["guest-shutdown", "0.15.0", "yes", "yes", "no", "-"])
        #expect(line("guest-newer") == ["guest-newer", "?", "?", "?", "no", "enabled"])
        #expect(line("guest-get-devices")?[2...3] == ["no", "yes"])
        #expect(rows.first { $0.name == "guest-exec" }?.json(withAgent: true)["enabled"] == .bool(false))
        #expect(throws: ClientError.self) { try Offered.list(["supported_commands": [["name": 1]]], from: "t") }
    }

    /// A name the agent sent with control characters is printed escaped, and the columns
    /// after it still line up with the header's.
    @Test func commandTableLinesUpAroundEscapedNames() throws {
        let info: JSONValue = ["supported_commands": [["name": "x\u{1B}[2J\u{202E}", "enabled": true]]]
        let table = CommandRow.table(CommandRow.rows(offered: try Offered.list(info, from: "t")), withAgent: true)
        let printed = table.map { String(decoding: Console.escaped($0), as: UTF8.self) }
        let column = try #require(printed.first?.range(of: "SINCE")?.lowerBound.utf16Offset(in: printed[0]))
        let last = try #require(printed.last)
        #expect(last.hasPrefix("x\\u001b[2J\\u202e "))
        #expect(last.utf16.count > column && Array(last.utf16)[column - 1] == 0x20 && Array(last.utf16)[column] == UInt16(UInt8(ascii: "?")))
    }

    @Test func completionOffersArgumentsOfTheCommandOnTheLine() {
        #expect(Completion.argumentCompletions(words: ["qga", "exec", "/s", "guest-file-open"], prefix: "")
            == ["path=", "mode="])
        #expect(Completion.argumentCompletions(words: ["qga", "exec", "/s", "guest-file-open", "path=/x"], prefix: "")
            == ["mode="])
        #expect(Completion.argumentCompletions(words: ["qga", "exec", "/s", "guest-exec", "arg=-l"], prefix: "a")
            == ["arg="])
        #expect(Completion.argumentCompletions(words: ["qga", "exec", "/s", "guest-exec"], prefix: "capture-output=s")
            == ["capture-output=stdout", "capture-output=stderr", "capture-output=separated"])
        #expect(Completion.argumentCompletions(words: ["qga", "exec", "/s"], prefix: "").isEmpty)
    }
}

@Suite struct OptionParsingTests {
    @Test func byteSizes() {
        #expect(ByteSize(argument: "1048576")?.bytes == 1 << 20)
        #expect(ByteSize(argument: "64K")?.bytes == 64 << 10)
        #expect(ByteSize(argument: "16M")?.bytes == 16 << 20)
        #expect(ByteSize(argument: "16MiB")?.bytes == 16 << 20)
        #expect(ByteSize(argument: "1g")?.bytes == 1 << 30)
        #expect(ByteSize(argument: "12Q") == nil)
        #expect(ByteSize(argument: "-1") == nil)
        #expect(ByteSize(bytes: 16 << 20).description == "16M")
    }

    @Test func targets() throws {
        #expect(try Target(parsing: "/run/vm.sock") == .unix(path: "/run/vm.sock"))
        #expect(try Target(parsing: "./vm.sock") == .unix(path: "./vm.sock"))
        #expect(try Target(parsing: "unix:vm.sock") == .unix(path: "vm.sock"))
        #expect(try Target(parsing: "vsock:3:1234") == .vsock(cid: 3, port: 1234))
        #expect(try Target(parsing: "myvm") == .domain("myvm"))
        #expect(throws: ClientError.self) { try Target(parsing: "vsock:3") }
        #expect(throws: ClientError.self) { try Target(parsing: "unix:") }
    }

    @Test func exitCodesForEveryClientError() {
        let cases: [(ClientError.Code, Int32)] = [
            (.agentError(AgentError(errorClass: "GenericError", desc: "x")), 1), (.unreachable, 2),
            (.notResponding, 3), (.protocolViolation, 4), (.invalidRequest, 64),
        ]
        for (code, status) in cases {
            #expect(ExitStatus(ClientError(code, "m")).code == status)
        }
    }

    @Test func stderrMessagesAreSanitised() {
        #expect(Console.escaped("a\u{1b}[2Jb\u{9b}c\nd\r\u{202E}") == Array(#"a\u001b[2Jb\u009bc\nd\r\u202e"#.utf8))
        #expect(Console.escaped("plain é") == Array("plain é".utf8))
    }
}
