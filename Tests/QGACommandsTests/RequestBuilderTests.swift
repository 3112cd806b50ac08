import QGAClient
import QGAProtocol
import Testing

@testable import QGACommands

@Suite struct RequestBuilderTests {
    func build(_ command: String, _ arguments: [String] = [], args: String? = nil) throws -> String {
        try String(decoding: RequestBuilder.build(command: command, arguments: arguments, argsJSON: args).encoded, as: UTF8.self)
    }

    @Test func namedArgumentsKeepTheirOrderAndTypes() throws {
        #expect(try build("guest-file-open", ["path=/etc/hostname", "mode=r"])
            == #"{"execute":"guest-file-open","arguments":{"path":"/etc/hostname","mode":"r"}}"#)
        #expect(try build("guest-exec", ["path=/bin/ls", #"arg:=["-l","a=b"]"#, "capture-output:=true"])
            == #"{"execute":"guest-exec","arguments":{"path":"/bin/ls","arg":["-l","a=b"],"capture-output":true}}"#)
        #expect(try build("guest-file-read", ["handle:=18446744073709551615"])
            == #"{"execute":"guest-file-read","arguments":{"handle":18446744073709551615}}"#)
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
        ("x", ["a=1", "a=2"], nil), ("x", ["a=1"], #"{"a":2}"#), ("x", [], "[1]"), ("x", [], "{"),
        (#"{"execute":"x"}"#, ["a=1"], nil), (#"{"execute":1}"#, [], nil), (#"{"nope":1}"#, [], nil),
        ("has space", [], nil), ("", [], nil),
    ] as [(String, [String], String?)])
    func refusesBadInput(command: String, arguments: [String], args: String?) {
        #expect(throws: ClientError.self) { try build(command, arguments, args: args) }
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
