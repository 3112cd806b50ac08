import Glibc
import QGAProtocol
import QGASystem

/// One command qgad implements: its catalogue entry and the function that runs it. A class:
/// dispatch takes one reference, not a copy of the entry's strings and arrays.
final class Handler: Sendable {
    let info: CommandInfo
    let run: @Sendable (GuestAgent, Arguments) throws -> Return
    /// From the catalogue, kept here so that dispatch reads a flag, not a list.
    let successResponse: Bool
    let allowedWhileFrozen: Bool
    /// guest-sync-delimited's reply is preceded by a 0xFF byte.
    let delimitsReply: Bool
    /// The first member a request must carry, if any (a request without arguments).
    let firstRequired: String?

    /// What a command returns: a JSON value, or a value with one base64 member written
    /// straight from raw bytes into the reply.
    enum Return {
        case value(JSONValue)
        case encoded(EncodedReturn)
    }

    convenience init(_ info: CommandInfo, _ run: @escaping @Sendable (GuestAgent, Arguments) throws -> JSONValue) {
        self.init(info, returning: { .value(try run($0, $1)) })
    }

    init(_ info: CommandInfo, returning run: @escaping @Sendable (GuestAgent, Arguments) throws -> Return) {
        self.info = info
        self.run = run
        successResponse = info.successResponse
        allowedWhileFrozen = info.allowedWhileFrozen
        delimitsReply = info.name == Catalogue.Commands.guestSyncDelimited.name
        firstRequired = info.arguments.first { !$0.optional && $0.holdsOnLinux }?.name
    }
}

/// A return value whose one large member is the base64 of raw bytes (guest-file-read's
/// `buf-b64`): the JSON text before the encoded bytes and after them, as the printer would
/// write it. The reply is written in one pass into one buffer of its final size, rather
/// than encoded into a string that the printer scans and copies.
struct EncodedReturn {
    var before: [UInt8]
    /// The bytes to encode, in memory that `owner` keeps.
    var payload: UnsafeRawBufferPointer
    var owner: AnyObject
    var after: [UInt8]
}

/// A reply's text: built as an array, or written into a buffer the agent reuses.
enum ReplyText {
    case array([UInt8])
    case scratch(ScratchBuffer, count: Int)

    var count: Int {
        switch self {
        case .array(let bytes): bytes.count
        case .scratch(_, let count): count
        }
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .array(let bytes): try bytes.withUnsafeBytes(body)
        case .scratch(let buffer, let count): try body(UnsafeRawBufferPointer(rebasing: buffer.bytes[..<count]))
        }
    }
}

/// The daemon's state and its dispatcher: requests in, replies out. Every failure becomes
/// one `{"error": {"class", "desc"}}` reply, here and nowhere else.
public final class GuestAgent {
    public static let version = Release.version

    /// Every command qgad implements, family by family (the order guest-info lists them).
    static let allHandlers: [Handler] =
        systemHandlers + fileHandlers + freezeHandlers + execHandlers + hardwareHandlers + networkHandlers
        + userHandlers

    // The deliberate differences between qgad's commands and the catalogue's Linux
    // commands, each with its reason, in one place; `CatalogueCoverageTests` fails on any
    // other difference.

    /// Commands the catalogue has for Windows only that qgad still lists in guest-info,
    /// always disabled, as qemu-ga 7.2 does (its schema had no conditions).
    static let listedThoughNotLinux: [(command: CommandInfo, reason: String)] = [
        (Catalogue.Commands.guestGetDevices, "qemu-ga 7.2 lists it, disabled; clients check guest-info"),
    ]
    /// Linux commands of the catalogue qgad does not implement (none so far).
    static let notImplemented: [(command: CommandInfo, reason: String)] = []

    let config: Config
    let log: Log
    let handlers = GuestAgent.allHandlers
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
        for (i, handler) in handlers.enumerated() { byName[handler.info.name] = i }
        let names = handlers.map(\.info.name)
        if !config.allowRPCs.isEmpty {
            disabled = Set(names).subtracting(config.allowRPCs)
        }
        disabled.formUnion(config.blockRPCs)
        // qemu-ga's ga_command_init_blockedrpcs: commands with nothing to do on Linux.
        for handler in handlers where !(handler.info.condition?.holdsOnLinux ?? true) {
            disabled.insert(handler.info.name)
        }
        files.counter = loadHandleCounter()
        if FileSystem.exists(frozenMarker) {
            // As qemu-ga: a previous instance left filesystems frozen, so nothing is written
            // to files (the log included) until a thaw.
            frozenSince = .now
            log.info("found \(frozenMarker): starting in frozen state")
            log.suspend()
        }
    }

    /// The names of every command, in registration order (`-b help`).
    public var commandNames: [String] { handlers.map(\.info.name) }

    func isEnabled(_ name: String) -> Bool { !disabled.contains(name) }

    /// A reply to send: its bytes (newline included) and whether a 0xFF goes first.
    public struct Outgoing {
        let text: ReplyText
        public var delimited: Bool

        init(bytes: [UInt8], delimited: Bool) {
            text = .array(bytes)
            self.delimited = delimited
        }

        init(_ text: ReplyText, delimited: Bool) {
            self.text = text
            self.delimited = delimited
        }

        /// The reply's bytes, copied out.
        public var bytes: [UInt8] { text.withUnsafeBytes { Array($0) } }
    }

    /// The reply buffer of guest-file-read, kept while any file is open (up to a size): a
    /// copy reads chunk after chunk, and the guest's kernel would fault in and zero a fresh
    /// megabyte and a half for each. Reused only once the conversation has let it go.
    var replyBuffer: ScratchBuffer?

    /// Handles one framed message; nil when nothing is to be sent (a `success-response:
    /// false` command that succeeded).
    public func handle(_ message: [UInt8]) -> Outgoing? {
        var id: JSONValue?
        var delimited = false
        // What the log says of a failure when its reply quotes the request: a parse error
        // quotes the offending token, which may be part of a password or of a file's data.
        var logged: String?
        let result: Result<Handler.Return?, AgentError>
        do {
            let value: JSONValue
            do {
                value = try JSONParser.parse(message, singleQuotes: true)
            } catch {
                logged = "JSON parse error" + (error.offset.map { " at byte \($0)" } ?? "") + " (the request is not logged)"
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
                throw AgentError(errorClass: "CommandNotFound", desc: "Command \(name) has been disabled")
            }
            let handler = handlers[index]
            if isFrozen && !handler.allowedWhileFrozen {
                throw AgentError(errorClass: "CommandNotFound", desc: "Command \(name) has been disabled: the agent is in frozen state")
            }
            if config.verbose { log.debug("running \(name)") }
            delimited = handler.delimitsReply
            let checked = try Arguments(arguments, for: handler)
            let returned = try handler.run(self, checked)
            result = .success(handler.successResponse ? returned : nil)
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
        case .success(.value(let value)?):
            reply.append(key: "return", value: value)
        case .success(.encoded(let value)?):
            return Outgoing(encodedReply(value, id: id), delimited: delimited)
        case .failure(let error):
            if config.verbose { log.debug("error: \(logged ?? error.desc)") }
            reply.append(key: "error", value: ["class": .string(error.errorClass), "desc": .string(error.desc)])
        }
        if let id { reply.append(key: "id", value: id) }
        var bytes = JSONPrinter(layout: .spaced).bytes(.object(reply))
        bytes.append(0x0A)  // appended in place: an exec status's reply may be megabytes
        return Outgoing(bytes: bytes, delimited: delimited)
    }

    /// `{"return": VALUE, "id": ID}` and its newline, as the printer lays it out (`.spaced`),
    /// for a value with an encoded member.
    func encodedReply(_ value: EncodedReturn, id: JSONValue?) -> ReplyText {
        let head = Array(#"{"return": "#.utf8)
        var tail = value.after
        if let id {
            tail.append(contentsOf: #", "id": "#.utf8)
            tail.append(contentsOf: JSONPrinter(layout: .spaced).bytes(id))
        }
        tail.append(contentsOf: "}\n".utf8)
        let encoded = Base64.encodedLength(value.payload.count)
        let total = head.count + value.before.count + encoded + tail.count
        let buffer: ScratchBuffer
        if isKnownUniquelyReferenced(&replyBuffer), let kept = replyBuffer, kept.bytes.count >= total {
            buffer = kept
        } else {
            buffer = ScratchBuffer(count: total)
            if !files.open.isEmpty && total <= FileTable.keptBufferLimit * 2 { replyBuffer = buffer }
        }
        let out = buffer.bytes
        var o = 0
        for piece in [head, value.before] {
            out.baseAddress.map { ($0 + o).copyMemory(from: piece, byteCount: piece.count) }
            o += piece.count
        }
        withExtendedLifetime(value.owner) {
            o += Base64.encode(value.payload, into: UnsafeMutableRawBufferPointer(rebasing: out[o...]))
        }
        out.baseAddress.map { ($0 + o).copyMemory(from: tail, byteCount: tail.count) }
        return .scratch(buffer, count: o + tail.count)
    }

    /// An error reply for input the framer refused (too large, too many tokens, too deep).
    public func reply(to error: ProtocolError) -> Outgoing {
        let reply: JSONValue = ["error": ["class": "GenericError", "desc": .string(parseErrorText(error))]]
        return Outgoing(bytes: JSONPrinter(layout: .spaced).bytes(reply) + [0x0A], delimited: false)
    }

    /// The reply to bytes that are not JSON at all, as qemu-ga words it.
    public func replyToJunk(_ prefix: [UInt8]) -> Outgoing {
        // qemu-ga reads such bytes token by token; its first reply is about the first token.
        // A bare scalar ("text", 42) is JSON, just not a request.
        let desc: String
        do {
            _ = try JSONParser.parseFirstAsQEMU(prefix)
            desc = "QMP input must be a JSON object"
        } catch {
            desc = parseErrorText(error)
        }
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
    var frozenMarker: String { GuestAgent.frozenMarker(statedir: config.statedir) }

    /// The file whose presence says filesystems are (or may be) frozen, as qemu-ga names it.
    static func frozenMarker(statedir: String) -> String { statedir + "/qga.state.isfrozen" }

    /// The next handle number from the state file; the default for anything that is not a
    /// positive 64-bit integer (the table wraps a counter that reaches `Int64.max`).
    private func loadHandleCounter() -> Int64 {
        guard let text = readTextFile(stateFile) else { return FileTable.firstHandle }
        for line in text.split(separator: "\n") where line.hasPrefix("fd_counter=") {
            if let n = Int64(line.dropFirst("fd_counter=".count).trimmingWhitespace()), n > 0 { return n }
        }
        return FileTable.firstHandle
    }

    /// Persists the next handle number, as qemu-ga does, so that a restarted agent never
    /// hands out a handle a client still holds.
    func saveHandleCounter() {
        _ = FileSystem.write(stateFile, Array("[global]\nfd_counter=\(files.counter)\n".utf8))
    }
}
