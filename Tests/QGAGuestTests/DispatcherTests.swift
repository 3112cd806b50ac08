import Foundation
import QGAProtocol
import QGATestSupport
import Testing

@testable import QGAGuest

/// A GuestAgent on a temporary state directory, driven through `handle(_:)` as the server
/// loop drives it: request bytes in, reply bytes out, no socket.
private final class Dispatcher {
    let statedir: TemporaryDirectory
    let agent: GuestAgent

    /// `frozen`: starts as a restarted qemu-ga does when it finds the frozen marker (no
    /// filesystem is frozen for it).
    init(frozen: Bool = false) throws {
        statedir = try TemporaryDirectory("qgad-dispatch")
        var config = Config()
        config.statedir = statedir.path
        if frozen {
            #expect(FileManager.default.createFile(atPath: GuestAgent.frozenMarker(statedir: statedir.path), contents: nil))
        }
        agent = GuestAgent(config: config, log: Log(verbose: false))
    }

    deinit { statedir.remove() }

    /// The reply to `request`, nil when the agent sends none.
    func call(_ request: String) throws -> JSONValue? {
        guard let out = agent.handle(Array(request.utf8)) else { return nil }
        #expect(out.bytes.last == 0x0A)
        return try JSONParser.parse(out.bytes)
    }

    /// The `return` of a request that must succeed.
    func value(_ request: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let reply = try call(request)
        #expect(reply?["error"] == nil, "\(request): \(String(describing: reply))", sourceLocation: sourceLocation)
        return try #require(reply?["return"], sourceLocation: sourceLocation)
    }

    /// The `desc` of a request that must fail with a GenericError.
    func error(_ request: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let reply = try call(request)
        #expect(reply?["error"]?["class"]?.string == "GenericError", "\(request)", sourceLocation: sourceLocation)
        return try #require(reply?["error"]?["desc"]?.string, "\(request)", sourceLocation: sourceLocation)
    }
}

/// qgad's command table against the catalogue.
@Suite struct CatalogueCoverageTests {
    private func holdsOnLinux(_ info: CommandInfo) -> Bool { info.condition?.holdsOnLinux ?? true }

    @Test func everyLinuxCommandHasAHandlerAndEveryHandlerAnEntry() {
        let handled = GuestAgent.allHandlers.map(\.info.name)
        #expect(Set(handled).count == handled.count, "a command is registered twice")
        let notImplemented = Set(GuestAgent.notImplemented.map(\.command.name))
        let listed = Set(GuestAgent.listedThoughNotLinux.map(\.command.name))
        for info in Catalogue.commands where holdsOnLinux(info) && !notImplemented.contains(info.name) {
            #expect(handled.contains(info.name), "\(info.name) is a Linux command of the catalogue without a handler")
        }
        for handler in GuestAgent.allHandlers {
            #expect(Catalogue.info(handler.info.name) == handler.info, "\(handler.info.name) is not the catalogue's entry")
            if !holdsOnLinux(handler.info) {
                #expect(listed.contains(handler.info.name), "\(handler.info.name) is not a Linux command")
            }
        }
        // The exceptions themselves name catalogue commands, and stay exceptions.
        for name in notImplemented {
            #expect(Catalogue.info(name) != nil && !handled.contains(name), "\(name)")
        }
        for name in listed {
            #expect(Catalogue.info(name).map { !holdsOnLinux($0) } == true && handled.contains(name), "\(name)")
        }
    }

    @Test func guestInfoListsExactlyTheHandlersWithTheCataloguesReplyFlag() throws {
        let dispatcher = try Dispatcher()
        let list = try #require(try dispatcher.value(#"{"execute": "guest-info"}"#)["supported_commands"]?.array)
        #expect(list.compactMap { $0["name"]?.string } == GuestAgent.allHandlers.map(\.info.name))
        for entry in list {
            let name = try #require(entry["name"]?.string)
            let info = try #require(Catalogue.info(name))
            #expect(entry["success-response"]?.bool == info.successResponse, "\(name)")
            #expect(entry["enabled"]?.bool == (name != "guest-get-devices"), "\(name)")
        }
        #expect(list.contains { $0["name"]?.string == "guest-shutdown" && $0["success-response"]?.bool == false })
    }
}

/// Every command family through the dispatcher: a success and the schema's argument errors.
/// Only commands that are harmless on the host run; the others are stopped by their
/// arguments before their handler runs.
@Suite struct DispatcherTests {
    @Test func systemFamily() throws {
        let d = try Dispatcher()
        #expect(try d.value(#"{"execute": "guest-ping"}"#) == .object([:]))
        #expect(try d.value(#"{"execute": "guest-sync", "arguments": {"id": 42}}"#) == .number(JSONNumber(42)))
        let delimited = try #require(d.agent.handle(Array(#"{"execute": "guest-sync-delimited", "arguments": {"id": 7}}"#.utf8)))
        #expect(delimited.delimited)
        #expect(try d.value(#"{"execute": "guest-get-time"}"#).number?.int64 ?? 0 > 0)
        #expect(try d.value(#"{"execute": "guest-get-host-name"}"#)["host-name"]?.string != nil)
        #expect(try d.value(#"{"execute": "guest-get-timezone"}"#)["offset"] != nil)
        #expect(try d.value(#"{"execute": "guest-get-osinfo"}"#)["kernel-release"] != nil)
        #expect(try d.value(#"{"execute": "guest-get-users"}"#).array != nil)
        #expect(try d.value(#"{"execute": "guest-get-load"}"#)["load1m"] != nil)

        #expect(try d.error(#"{"execute": "guest-sync"}"#) == "Parameter 'id' is missing")
        #expect(try d.error(#"{"execute": "guest-sync", "arguments": {"id": "1"}}"#) == "Invalid parameter type for 'id', expected: integer")
        #expect(try d.error(#"{"execute": "guest-ping", "arguments": {"id": 1}}"#) == "Parameter 'id' is unexpected")
        // Stopped by the schema check: nothing is shut down, suspended or set.
        #expect(try d.error(#"{"execute": "guest-shutdown", "arguments": {"mode": 1}}"#) == "Invalid parameter type for 'mode', expected: string")
        #expect(try d.error(#"{"execute": "guest-set-time", "arguments": {"time": "now"}}"#) == "Invalid parameter type for 'time', expected: integer")
        for name in ["guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid"] {
            #expect(try d.error(#"{"execute": "\#(name)", "arguments": {"now": true}}"#) == "Parameter 'now' is unexpected")
        }
    }

    @Test func fileFamily() throws {
        let d = try Dispatcher()
        let path = d.statedir.path + "/file"
        let handle = try #require(try d.value(#"{"execute": "guest-file-open", "arguments": {"path": "\#(path)", "mode": "w+"}}"#).number?.int64)
        let written = try d.value(#"{"execute": "guest-file-write", "arguments": {"handle": \#(handle), "buf-b64": "aGVsbG8="}}"#)
        #expect(written["count"]?.number?.int64 == 5)
        #expect(try d.value(#"{"execute": "guest-file-flush", "arguments": {"handle": \#(handle)}}"#) == .object([:]))
        let seek = try d.value(#"{"execute": "guest-file-seek", "arguments": {"handle": \#(handle), "offset": 1, "whence": "set"}}"#)
        #expect(seek["position"]?.number?.int64 == 1)
        let read = try d.value(#"{"execute": "guest-file-read", "arguments": {"handle": \#(handle), "count": 100}}"#)
        #expect(read["buf-b64"]?.string == "ZWxsbw==")
        #expect(read["eof"]?.bool == true)
        // whence as a number: the alternate's integer branch.
        #expect(try d.value(#"{"execute": "guest-file-seek", "arguments": {"handle": \#(handle), "offset": 0, "whence": 0}}"#)["position"]?.number?.int64 == 0)

        #expect(try d.error(#"{"execute": "guest-file-open", "arguments": {"mode": "r"}}"#) == "Parameter 'path' is missing")
        #expect(try d.error(#"{"execute": "guest-file-read", "arguments": {"handle": "\#(handle)"}}"#) == "Invalid parameter type for 'handle', expected: integer")
        // Declared members first: a missing one is named before an unexpected one.
        #expect(try d.error(#"{"execute": "guest-file-read", "arguments": {"bogus": 1}}"#) == "Parameter 'handle' is missing")
        #expect(try d.error(#"{"execute": "guest-file-read", "arguments": {"handle": \#(handle), "bogus": 1}}"#) == "Parameter 'bogus' is unexpected")
        #expect(try d.error(#"{"execute": "guest-file-seek", "arguments": {"handle": \#(handle), "offset": 0, "whence": "middle"}}"#) == "Parameter 'whence' does not accept value 'middle'")
        #expect(try d.error(#"{"execute": "guest-file-seek", "arguments": {"handle": \#(handle), "offset": 0, "whence": true}}"#) == "Invalid parameter type for 'whence', expected: GuestFileWhence")
        #expect(try d.error(#"{"execute": "guest-file-seek", "arguments": {"handle": \#(handle), "offset": 0, "whence": 1.5}}"#) == "Invalid parameter type for 'whence', expected: integer")
        #expect(try d.value(#"{"execute": "guest-file-close", "arguments": {"handle": \#(handle)}}"#) == .object([:]))
        #expect(try d.error(#"{"execute": "guest-file-close", "arguments": {"handle": \#(handle)}}"#) == "handle '\(handle)' has not been found")
    }

    /// guest-file-read writes its reply straight into a reused buffer: the bytes must be what
    /// the printer writes for the same value (qemu-ga's layout), whatever the size and the id,
    /// reply after reply.
    @Test func fileReadRepliesAreThePrintersBytes() throws {
        let d = try Dispatcher()
        let path = d.statedir.path + "/data"
        var content: [UInt8] = []
        var state: UInt32 = 1
        for _ in 0..<(1 << 20) + 100 {
            state = state &* 1_103_515_245 &+ 12345
            content.append(UInt8(truncatingIfNeeded: state >> 16))
        }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content)))
        let handle = try #require(try d.value(#"{"execute": "guest-file-open", "arguments": {"path": "\#(path)"}}"#).number?.int64)
        var offset = 0
        let ids: [String?] = [nil, "1", #""a \"quoted\" id""#, #"{"x": [1, 2]}"#, "-0.5e3"]
        for (n, count) in [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 100_003, 1 << 20, 1000].enumerated() {
            let id = ids[n % ids.count]
            let request = #"{"execute": "guest-file-read", "arguments": {"handle": \#(handle), "count": \#(count)}"#
                + (id.map { #", "id": \#($0)"# } ?? "") + "}"
            let reply = try #require(d.agent.handle(Array(request.utf8))).bytes
            let got = min(count, content.count - offset)
            var object: JSONObject = ["return": [
                "count": .number(JSONNumber(got)), "buf-b64": .string(Base64.encode(content[offset..<offset + got])),
                "eof": .bool(count > 0 && got < count),
            ]]
            if let id { object.append(key: "id", value: try JSONParser.parse(id)) }
            #expect(reply == JSONPrinter(layout: .spaced).bytes(.object(object)) + [0x0A], "count \(count)")
            offset += got
        }
        // Writes decode into the same kind of buffer; the file ends up with what was sent.
        let copy = d.statedir.path + "/copy"
        let out = try #require(try d.value(#"{"execute": "guest-file-open", "arguments": {"path": "\#(copy)", "mode": "w"}}"#).number?.int64)
        for range in [0..<3, 3..<100_003, 100_003..<content.count] {
            let written = try d.value(
                #"{"execute": "guest-file-write", "arguments": {"handle": \#(out), "buf-b64": "\#(Base64.encode(content[range]))"}}"#)
            #expect(written == ["count": .number(JSONNumber(range.count)), "eof": false])
        }
        #expect(try d.value(#"{"execute": "guest-file-close", "arguments": {"handle": \#(out)}}"#) == .object([:]))
        #expect(try d.value(#"{"execute": "guest-file-close", "arguments": {"handle": \#(handle)}}"#) == .object([:]))
        #expect(FileManager.default.contents(atPath: copy) == Data(content))
    }

    @Test func freezeFamily() throws {
        let d = try Dispatcher()
        #expect(try d.value(#"{"execute": "guest-fsfreeze-status"}"#) == .string("thawed"))
        // Stopped by the schema check: nothing is frozen or trimmed.
        #expect(try d.error(#"{"execute": "guest-fsfreeze-freeze-list", "arguments": {"mountpoints": ["/", 1]}}"#) == "Invalid parameter type for 'mountpoints[1]', expected: string")
        #expect(try d.error(#"{"execute": "guest-fsfreeze-freeze-list", "arguments": {"mountpoints": "/"}}"#) == "Invalid parameter type for 'mountpoints', expected: array")
        #expect(try d.error(#"{"execute": "guest-fstrim", "arguments": {"minimum": "1"}}"#) == "Invalid parameter type for 'minimum', expected: integer")
        #expect(try d.error(#"{"execute": "guest-fsfreeze-freeze", "arguments": {"all": true}}"#) == "Parameter 'all' is unexpected")
    }

    @Test func frozenAgentRunsOnlyTheCataloguesAllowlist() throws {
        let d = try Dispatcher(frozen: true)
        #expect(try d.value(#"{"execute": "guest-fsfreeze-status"}"#) == .string("frozen"))
        for info in d.agent.handlers.map(\.info) where info.successResponse && info.name != "guest-fsfreeze-thaw" {
            let reply = try d.call(#"{"execute": "\#(info.name)", "arguments": {"unexpected": 1}}"#)
            if info.allowedWhileFrozen {
                // Reached the argument check.
                #expect(reply?["error"]?["desc"]?.string?.hasPrefix("Parameter") == true, "\(info.name)")
            } else if info.name != "guest-get-devices" {
                #expect(reply?["error"]?["desc"]?.string == "Command \(info.name) has been disabled: the agent is in frozen state")
            }
        }
        #expect(try d.value(#"{"execute": "guest-ping"}"#) == .object([:]))
    }

    @Test func execFamily() throws {
        let d = try Dispatcher()
        for (capture, expected) in [("true", "aGkK"), (#""merged""#, "aGkK")] {
            let started = try d.value(
                #"{"execute": "guest-exec", "arguments": {"path": "/bin/echo", "arg": ["hi"], "capture-output": \#(capture)}}"#)
            let pid = try #require(started["pid"]?.number?.int64)
            let deadline = ContinuousClock.now + .seconds(20)
            var status = try d.value(#"{"execute": "guest-exec-status", "arguments": {"pid": \#(pid)}}"#)
            while status["exited"]?.bool == false && ContinuousClock.now < deadline {
                status = try d.value(#"{"execute": "guest-exec-status", "arguments": {"pid": \#(pid)}}"#)
            }
            #expect(status["exitcode"]?.number?.int64 == 0)
            #expect(status["out-data"]?.string == expected)
        }

        #expect(try d.error(#"{"execute": "guest-exec", "arguments": {"path": "/bin/true", "capture-output": "sideways"}}"#) == "Parameter 'capture-output' does not accept value 'sideways'")
        #expect(try d.error(#"{"execute": "guest-exec", "arguments": {"path": "/bin/true", "capture-output": 1}}"#) == "Invalid parameter type for 'capture-output', expected: GuestExecCaptureOutput")
        #expect(try d.error(#"{"execute": "guest-exec", "arguments": {"path": "/bin/true", "arg": "x"}}"#) == "Invalid parameter type for 'arg', expected: array")
        #expect(try d.error(#"{"execute": "guest-exec", "arguments": {"path": "/bin/true", "args": []}}"#) == "Parameter 'args' is unexpected")
        #expect(try d.error(#"{"execute": "guest-exec-status"}"#) == "Parameter 'pid' is missing")
    }

    @Test func hardwareFamily() throws {
        let d = try Dispatcher()
        #expect(try d.value(#"{"execute": "guest-get-vcpus"}"#).array?.isEmpty == false)
        #expect(try d.value(#"{"execute": "guest-get-cpustats"}"#).array?.isEmpty == false)
        #expect(try d.value(#"{"execute": "guest-get-diskstats"}"#).array != nil)
        // Stopped by the schema check, element by element: nothing is set.
        #expect(try d.error(#"{"execute": "guest-set-vcpus", "arguments": {"vcpus": [{"logical-id": 0}]}}"#) == "Parameter 'vcpus[0].online' is missing")
        #expect(try d.error(#"{"execute": "guest-set-vcpus", "arguments": {"vcpus": [{"logical-id": 0, "online": true, "x": 1}]}}"#) == "Parameter 'vcpus[0].x' is unexpected")
        #expect(try d.error(#"{"execute": "guest-set-vcpus", "arguments": {"vcpus": [1]}}"#) == "Invalid parameter type for 'vcpus[0]', expected: object")
        #expect(try d.error(#"{"execute": "guest-set-memory-blocks", "arguments": {"mem-blks": [{"phys-index": "0", "online": true}]}}"#) == "Parameter 'mem-blks[0].phys-index' expects uint64")
        #expect(try d.error(#"{"execute": "guest-get-disks", "arguments": {"all": true}}"#) == "Parameter 'all' is unexpected")
    }

    @Test func networkFamily() throws {
        let d = try Dispatcher()
        let interfaces = try #require(try d.value(#"{"execute": "guest-network-get-interfaces"}"#).array)
        #expect(interfaces.contains { $0["name"]?.string == "lo" })
        #expect(try d.value(#"{"execute": "guest-network-get-route"}"#).array != nil)
        #expect(try d.error(#"{"execute": "guest-network-get-interfaces", "arguments": {"name": "lo"}}"#) == "Parameter 'name' is unexpected")
    }

    @Test func userFamily() throws {
        let d = try Dispatcher()
        // nobody's home does not exist: nothing to remove, nothing written.
        #expect(try d.value(#"{"execute": "guest-ssh-remove-authorized-keys", "arguments": {"username": "nobody", "keys": []}}"#) == .object([:]))
        #expect(try d.error(#"{"execute": "guest-ssh-get-authorized-keys", "arguments": {"username": "qga-no-such-user"}}"#) == "failed to lookup user 'qga-no-such-user': Success")
        // Stopped by the schema check: no password is set.
        #expect(try d.error(#"{"execute": "guest-set-user-password", "arguments": {"username": "nobody", "password": "eA==", "crypted": "no"}}"#) == "Invalid parameter type for 'crypted', expected: boolean")
        #expect(try d.error(#"{"execute": "guest-ssh-add-authorized-keys", "arguments": {"username": "nobody"}}"#) == "Parameter 'keys' is missing")
        #expect(try d.error(#"{"execute": "guest-ssh-add-authorized-keys", "arguments": {"username": "nobody", "keys": [true]}}"#) == "Invalid parameter type for 'keys[0]', expected: string")
    }
}

/// Inputs the libFuzzer targets (Fuzz/, scripts/fuzz) found, each kept as a test.
@Suite struct ConfigFuzzRegressionTests {
    /// FuzzConfig: `-D` printed strings raw, so a path with a line break, a state directory
    /// starting with a tab or a space, or a freeze timeout below 1e-4 (printed `1e-05`)
    /// gave a file that did not read back, or read back as another config. Values are now
    /// escaped as GLib escapes them, and the timeout is printed in plain decimals.
    @Test func dumpReadsBackAsTheSameConfig() throws {
        // The fuzzer's input: -D -p "/dev/x\ny", then a file with statedir=\t/run\n.
        let (parsed, action) = try parseCommandLine(
            ["-D", "-p", "/dev/x\ny", "--freeze-timeout=0.00001", "-l", " log\\"],
            environment: { $0 == "QGA_CONF" ? "/nonexistent-qga-fuzz.conf" : nil }, warn: { _ in })
        var config = parsed
        config.statedir = "\t/run\n"
        #expect(action == .dumpConfig)
        var again = Config()
        let method = try applyKeyFile(Array(config.dump.utf8), to: &again, path: "dump")
        #expect(method == config.method.rawValue)
        again.method = config.method
        #expect(again == config)
        #expect(config.dump.contains("path=/dev/x\\ny\n"))
        #expect(config.dump.contains("statedir=\\t/run\\n\n"))
        #expect(config.dump.contains("logfile=\\slog\\\\\n"))
        #expect(config.dump.contains("freeze-timeout=0.00001\n"))
    }

    @Test(arguments: [0.00001, 0.0000123, 1e-9, 0.5, 30, 31_536_000])
    func freezeTimeoutPrintsAsItReads(seconds: Double) {
        #expect(Config.freezeTimeout(Config.decimal(seconds)) == seconds)
    }
}
