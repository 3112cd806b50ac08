import Glibc
import QGAGuest
import QGAProtocol
import FuzzSupport

/// qgad's dispatcher: bytes from the host framed as the daemon frames them, each message
/// parsed, checked against the command's schema and run, each failure turned into a reply.
///
/// Only commands without side effects are enabled, through the agent's own allow list (so
/// that refusing the others is fuzzed too), plus the file commands, confined to a temporary
/// directory: the harness runs them there and skips a `guest-file-open` whose path is not a
/// plain name in it.
///
/// Invariants: every reply is one JSON object followed by a newline, with `return` or
/// `error` (class and desc strings), and the request's `id` when it had one; a delimited
/// reply answers `guest-sync-delimited`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    let agent = GuestAgent(config: config, log: log)
    var framer = Framer()
    var opened: [JSONValue] = []
    var names: Set<String> = []
    // In the directory only while the agent runs: libFuzzer's own paths may be relative.
    let home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard home >= 0, chdir(directory) == 0 else { fail("cannot enter \(directory)") }
    defer {
        // Fresh state for the next input: handles closed, files and the state file gone.
        for handle in opened {
            _ = agent.handle(Request("guest-file-close", arguments: ["handle": handle]).encoded)
        }
        for name in names.union(["qga.state"]) { unlink(name) }
        guard fchdir(home) == 0 else { fail("cannot return from \(directory)") }
        close(home)
    }
    for event in framer.feed(bytes) {
        switch event {
        case .message(let message):
            let request = try? JSONParser.parse(message, singleQuotes: true)
            let execute = request?["execute"]?.string
            if execute == "guest-file-open", let path = request?["arguments"]?["path"]?.string {
                guard isPlainName(path) else { continue }
                names.insert(path)
            }
            guard let reply = agent.handle(message) else {
                check(execute.flatMap(Catalogue.info)?.successResponse == false, "no reply to \(execute ?? "?")")
                continue
            }
            let value = checkReply(reply.bytes)
            if reply.delimited { check(execute == "guest-sync-delimited", "a delimited reply to \(execute ?? "?")") }
            if let id = request?.object?["id"] {
                // Every reply to an object echoes its id, success or failure.
                check(value["id"] == id, "reply id \(value["id"].map { "\($0)" } ?? "none") for \(id)")
            }
            if execute == "guest-file-open", let handle = value["return"] { opened.append(handle) }
        case .junk(let prefix, _):
            _ = checkReply(agent.replyToJunk(prefix).bytes)
        case .error(let error):
            _ = checkReply(agent.reply(to: error).bytes)
        case .delimiter:
            break
        }
    }
    return 0
}

/// A name in the directory: no slash, not `.` or `..` (nor any dot file).
private func isPlainName(_ path: String) -> Bool {
    !path.isEmpty && !path.utf8.contains(UInt8(ascii: "/")) && !path.hasPrefix(".")
}

/// Commands that change nothing outside the agent (and the file commands, confined).
private let allowed = [
    "guest-sync", "guest-sync-delimited", "guest-ping", "guest-info", "guest-get-time", "guest-get-timezone",
    "guest-get-host-name", "guest-get-osinfo", "guest-get-users", "guest-get-load", "guest-get-vcpus",
    "guest-get-memory-blocks", "guest-get-memory-block-info", "guest-get-cpustats", "guest-get-diskstats",
    "guest-get-disks", "guest-get-fsinfo", "guest-network-get-interfaces", "guest-network-get-route",
    "guest-fsfreeze-status", "guest-exec-status", "guest-ssh-get-authorized-keys", "guest-get-devices",
    "guest-file-open", "guest-file-close", "guest-file-read", "guest-file-write", "guest-file-seek",
    "guest-file-flush",
]

private let directory: String = {
    var template = Array("/tmp/qga-fuzz-dispatcher.XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap(mkdtemp) }) else {
        fail("cannot make a temporary directory")
    }
    // libFuzzer ends with exit(): the directory, emptied after each input, goes with it.
    atexit { _ = rmdir(directory) }
    return String(cString: made)
}()

private let config: Config = {
    var config = Config()
    config.allowRPCs = allowed
    config.statedir = directory
    return config
}()

// One for the process: its writer thread lives as long.
nonisolated(unsafe) private let log: Log = {
    do {
        return try Log(path: "/dev/null", verbose: false, deferOpening: false)
    } catch {
        fail("cannot open /dev/null")
    }
}()

/// The reply's value, after checking its shape.
@discardableResult
private func checkReply(_ bytes: [UInt8]) -> JSONValue {
    check(bytes.last == 0x0A, "a reply without its newline")
    guard let value = try? JSONParser.parse(Array(bytes.dropLast())) else {
        fail("a reply that is not JSON: \(String(decoding: bytes, as: UTF8.self))")
    }
    guard let object = value.object else { fail("a reply that is not an object") }
    let keys = Set(object.keys)
    check(keys == ["return"] || keys == ["return", "id"] || keys == ["error"] || keys == ["error", "id"], "reply keys \(keys)")
    if let error = object["error"] {
        check(error["class"]?.string != nil && error["desc"]?.string != nil, "an error without class and desc")
    }
    return value
}
