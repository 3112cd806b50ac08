import Glibc
import QGAProtocol
import QGASystem

/// One command qgad implements.
struct Handler {
    let name: String
    let successResponse: Bool
    let run: (GuestAgent, JSONObject?) throws -> JSONValue
}

/// The daemon's state and its dispatcher: requests in, replies out. Every failure becomes
/// one `{"error": {"class", "desc"}}` reply, here and nowhere else.
public final class GuestAgent {
    public static let version = "0.1.0"

    /// Commands allowed while filesystems are frozen (qemu-ga's `ga_freeze_allowlist`).
    static let frozenAllowlist: Set<String> = [
        "guest-ping", "guest-info", "guest-sync", "guest-sync-delimited", "guest-fsfreeze-status",
        "guest-fsfreeze-thaw",
    ]

    let config: Config
    let log: Log
    var handlers: [Handler] = []
    private var byName: [String: Int] = [:]
    /// Disabled by -b/-a (frozen state is separate).
    private var disabled: Set<String> = []

    // State shared by handler families.
    var files = FileTable()
    var processes = ProcessTable()
    /// When filesystems were frozen (monotonic), nil while thawed.
    var frozenSince: ContinuousClock.Instant?
    var isFrozen: Bool { frozenSince != nil }

    public init(config: Config, log: Log) {
        self.config = config
        self.log = log
        registerSystem()
        registerFiles()
        registerFreeze()
        registerExec()
        registerHardware()
        registerNetwork()
        registerUsers()
        for (i, handler) in handlers.enumerated() { byName[handler.name] = i }
        let names = handlers.map(\.name)
        if !config.allowRPCs.isEmpty {
            disabled = Set(names).subtracting(config.allowRPCs)
        }
        disabled.formUnion(config.blockRPCs)
        files.counter = loadHandleCounter()
        if FileSystem.exists(frozenMarker) {
            frozenSince = .now
            log.info("found \(frozenMarker): starting in frozen state")
        }
    }

    /// The names of every command, in registration order (`-b help`).
    public var commandNames: [String] { handlers.map(\.name) }

    func add(_ name: String, successResponse: Bool = true, _ run: @escaping (GuestAgent, JSONObject?) throws -> JSONValue) {
        handlers.append(Handler(name: name, successResponse: successResponse, run: run))
    }

    func isEnabled(_ name: String) -> Bool { !disabled.contains(name) }

    /// A reply to send: its bytes (newline included) and whether a 0xFF goes first.
    public struct Outgoing {
        public var bytes: [UInt8]
        public var delimited: Bool
    }

    /// Handles one framed message; nil when nothing is to be sent (a `success-response:
    /// false` command that succeeded).
    public func handle(_ message: [UInt8]) -> Outgoing? {
        var id: JSONValue?
        var delimited = false
        let result: Result<JSONValue?, AgentError>
        do {
            let value: JSONValue
            do {
                value = try JSONParser.parse(message, singleQuotes: true)
            } catch {
                throw AgentError.generic(parseErrorText(error))
            }
            guard let object = value.object else { throw AgentError.generic("QMP input must be a JSON object") }
            id = object["id"]
            for key in object.keys where !["execute", "arguments", "id"].contains(key) {
                throw AgentError.generic("QMP input member '\(key)' is unexpected")
            }
            guard let execute = object["execute"] else { throw AgentError.generic("QMP input lacks member 'execute'") }
            guard let name = execute.string else { throw AgentError.generic("QMP input member 'execute' must be a string") }
            var arguments: JSONObject?
            if let raw = object["arguments"] {
                guard let args = raw.object else { throw AgentError.generic("QMP input member 'arguments' must be an object") }
                arguments = args
            }
            guard let index = byName[name] else {
                throw AgentError(errorClass: "CommandNotFound", desc: "The command \(name) has not been found")
            }
            guard isEnabled(name) else {
                throw AgentError(errorClass: "CommandNotFound", desc: "Command \(name) has been disabled: the command is not allowed")
            }
            if isFrozen && !GuestAgent.frozenAllowlist.contains(name) {
                throw AgentError(errorClass: "CommandNotFound", desc: "Command \(name) has been disabled: the agent is in frozen state")
            }
            if config.verbose { log.debug("running \(name)") }
            let handler = handlers[index]
            delimited = name == "guest-sync-delimited"
            let value2 = try handler.run(self, arguments)
            result = .success(handler.successResponse ? value2 : nil)
        } catch let error as AgentError {
            result = .failure(error)
        } catch let error as SystemError {
            result = .failure(.generic(error.description))
        } catch {
            result = .failure(.generic("\(error)"))
        }
        var reply = JSONObject()
        switch result {
        case .success(nil):
            return nil
        case .success(let value?):
            reply.append(key: "return", value: value)
        case .failure(let error):
            if config.verbose { log.debug("error: \(error.desc)") }
            reply.append(key: "error", value: ["class": .string(error.errorClass), "desc": .string(error.desc)])
        }
        if let id { reply.append(key: "id", value: id) }
        var bytes = JSONPrinter(layout: .spaced).bytes(.object(reply))
        bytes.append(0x0A)  // appended in place: a file read's reply is megabytes
        return Outgoing(bytes: bytes, delimited: delimited)
    }

    /// An error reply for input the framer refused (too large, too many tokens, too deep).
    public func reply(to error: ProtocolError) -> Outgoing {
        let reply: JSONValue = ["error": ["class": "GenericError", "desc": .string(parseErrorText(error))]]
        return Outgoing(bytes: JSONPrinter(layout: .spaced).bytes(reply) + [0x0A], delimited: false)
    }

    /// The reply to bytes that are not JSON at all, as qemu-ga words it.
    public func replyToJunk(_ prefix: [UInt8]) -> Outgoing {
        let text = String(decoding: prefix.prefix(32), as: UTF8.self)
        // A bare scalar ("text", 42) is JSON, just not a request.
        let desc = (try? JSONParser.parse(prefix, singleQuotes: true)) != nil
            ? "QMP input must be a JSON object" : "JSON parse error, invalid keyword '\(text)'"
        let reply: JSONValue = ["error": ["class": "GenericError", "desc": .string(desc)]]
        return Outgoing(bytes: JSONPrinter(layout: .spaced).bytes(reply) + [0x0A], delimited: false)
    }

    /// qemu-ga's words for input its streamer or parser refused.
    private func parseErrorText(_ error: ProtocolError) -> String {
        switch error.code {
        case .messageTooLarge: "JSON token size limit exceeded"
        case .tooManyTokens: "JSON token count limit exceeded"
        case .nestingTooDeep: "JSON nesting depth limit exceeded"
        case .invalidJSON, .invalidUTF8, .invalidMessage: "JSON parse error, \(error.message)"
        }
    }

    // MARK: State files

    var stateFile: String { config.statedir + "/qga.state" }
    var frozenMarker: String { config.statedir + "/qga.state.isfrozen" }

    private func loadHandleCounter() -> Int64 {
        guard let text = readTextFile(stateFile) else { return 1000 }
        for line in text.split(separator: "\n") where line.hasPrefix("fd_counter=") {
            if let n = Int64(line.dropFirst("fd_counter=".count).trimmingWhitespace()), n > 0 { return n }
        }
        return 1000
    }

    /// Persists the next handle number, as qemu-ga does, so that a restarted agent never
    /// hands out a handle a client still holds.
    func saveHandleCounter() {
        _ = FileSystem.write(stateFile, Array("[global]\nfd_counter=\(files.counter)\n".utf8))
    }
}

/// Minimal logging: stderr or the log file, one line per event.
public final class Log {
    private let fd: Int32
    let verbose: Bool

    public init(path: String?, verbose: Bool) {
        self.verbose = verbose
        if let path {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            self.fd = fd >= 0 ? fd : 2
        } else {
            fd = 2
        }
    }

    public func info(_ message: String) { write("info: \(message)") }
    public func error(_ message: String) { write("error: \(message)") }
    public func debug(_ message: String) { if verbose { write("debug: \(message)") } }

    private func write(_ line: String) {
        let bytes = Array("qgad: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
