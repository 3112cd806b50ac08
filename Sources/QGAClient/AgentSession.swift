import QGAProtocol
import QGASystem

/// The QGA protocol over a raw channel: before each command it flushes the agent's parser
/// with 0xFF, synchronises with `guest-sync-delimited` and a fresh random id, and discards
/// everything up to the delimiter that precedes the matching reply. Only then is the
/// command sent, so nothing is queued for an agent that is not listening.
public final class AgentSession: AgentConnection {
    private let stream: any ByteStream
    public let label: String
    private var framer: Framer
    private var events: [Framer.Event] = []
    private var eventIndex = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
    /// The clock every deadline is measured on, and where sync ids come from: the real ones
    /// in production, injected by tests so that timeouts take no time and ids are known.
    let now: () -> ContinuousClock.Instant
    private let nextSyncID: () -> UInt64

    /// `label` names the agent in messages (a path, a domain).
    public convenience init(stream: any ByteStream, label: String, maxReplySize: Int = CallOptions.defaultMaxReplySize) {
        self.init(stream: stream, label: label, maxReplySize: maxReplySize, now: { .now }, syncID: AgentSession.randomSyncID)
    }

    init(
        stream: any ByteStream, label: String, maxReplySize: Int,
        now: @escaping () -> ContinuousClock.Instant, syncID: @escaping () -> UInt64
    ) {
        self.stream = stream
        self.label = label
        framer = Framer(maxMessageSize: maxReplySize)
        self.now = now
        nextSyncID = syncID
    }

    /// A fresh sync id: random, so that a reply meant for an earlier client cannot match,
    /// and below 2^53, so that any JSON parser on the agent's side keeps it exact.
    static func randomSyncID() -> UInt64 { UInt64.random(in: 1...(1 << 53 - 1)) }

    /// Connects to the agent's unix socket.
    public convenience init(unixPath path: String, options: CallOptions) throws(ClientError) {
        self.init(stream: try UnixStream(path: path, timeout: options.syncTimeout), label: path, maxReplySize: options.maxReplySize)
    }

    deinit { buffer.deallocate() }

    public func cancel() { stream.cancel() }

    public func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        prepare(options)
        try sync(timeout: options.syncTimeout)

        let expectsReply = Catalogue.info(request.execute)?.successResponse ?? true
        let timeout = options.timeout(for: request.execute)
        let deadline = Deadline.after(timeout, from: now())
        try stream.send(request.encoded + [0x0A], deadline: deadline)
        while true {
            let event: Framer.Event
            do {
                event = try nextEvent(deadline: deadline)
            } catch let error where !expectsReply {
                // Silence or a closed channel is how these commands succeed.
                if error.code == .notResponding || error.code == .unreachable { return nil }
                throw error
            } catch where error.code == .notResponding {
                throw ClientError(
                    .notResponding,
                    "\(label): the agent did not answer \(request.execute) within \(seconds(timeout))",
                    cause: error)
            }
            if let reply = try reply(in: event, for: request.id, maxReplySize: options.maxReplySize) { return reply }
        }
    }

    /// The reply `event` carries for the request with `id`, or nil to read on: past a
    /// delimiter, an event, or a reply that echoes some other id (meant for an earlier
    /// client; agents older than QEMU 4.0 echo none at all, and their reply is taken).
    func reply(in event: Framer.Event, for id: JSONValue?, maxReplySize: Int) throws(ClientError) -> Reply? {
        switch event {
        case .delimiter:
            return nil
        case .junk(let prefix, let count):
            throw ClientError(.protocolViolation, "\(label): the agent sent \(count) bytes that are not JSON: \(show(prefix))")
        case .error(let error):
            throw violation(error, limit: maxReplySize)
        case .message(let bytes):
            let incoming = try interpret(bytes)
            if case .event = incoming { return nil }
            if let id, let echoed = incoming.id, echoed != id { return nil }
            return Reply(incoming: incoming, raw: bytes)
        }
    }

    /// Applies the call's reply cap to the framer.
    func prepare(_ options: CallOptions) {
        if framer.maxMessageSize != options.maxReplySize {
            framer = Framer(maxMessageSize: options.maxReplySize)
            events = []
            eventIndex = 0
        }
    }

    func send(_ bytes: [UInt8], deadline: Deadline) throws(ClientError) {
        try stream.send(bytes, deadline: deadline)
    }

    /// Brings the channel into a known state; throws `.notResponding` when the agent does
    /// not answer within `timeout`.
    func sync(timeout: Duration) throws(ClientError) {
        let deadline = Deadline.after(timeout, from: now())
        let id = nextSyncID()
        let request = Request("guest-sync-delimited", arguments: ["id": .number(JSONNumber(id))])
        // The leading 0xFF makes the agent drop whatever half request a previous client left.
        try stream.send([Framer.delimiterByte] + request.encoded + [0x0A], deadline: deadline)
        var afterDelimiter = false
        var delimited = true
        while true {
            let event: Framer.Event
            do {
                event = try nextEvent(deadline: deadline)
            } catch where error.code == .notResponding {
                throw ClientError(
                    .notResponding,
                    "\(label): the agent did not answer guest-sync\(delimited ? "-delimited" : "") within \(seconds(timeout))",
                    cause: error)
            }
            switch event {
            case .delimiter:
                afterDelimiter = true
            case .junk, .error:
                // Leftovers of earlier conversations; what counts comes after a delimiter.
                afterDelimiter = false
            case .message(let bytes):
                guard let value = try? JSONParser.parse(bytes), let incoming = try? Incoming(value) else {
                    afterDelimiter = false
                    continue
                }
                // An event is no reply: one between the delimiter and the sync's reply
                // leaves the delimiter standing for that reply.
                if case .event = incoming { continue }
                defer { afterDelimiter = false }
                switch incoming {
                case .success(let result, _) where result.number?.uint64 == id:
                    // A plain guest-sync reply has no delimiter before it.
                    if afterDelimiter || !delimited { return }
                case .failure(let error, _)
                where delimited && error.errorClass == "CommandNotFound" && error.desc.contains("guest-sync-delimited"):
                    // An agent older than QEMU 1.1 (or one that blocks it): fall back.
                    delimited = false
                    let plain = Request("guest-sync", arguments: ["id": .number(JSONNumber(id))])
                    try stream.send(plain.encoded + [0x0A], deadline: deadline)
                default:
                    continue
                }
            }
        }
    }

    /// The next framed event, reading more from the channel when none is queued.
    func nextEvent(deadline: Deadline) throws(ClientError) -> Framer.Event {
        while eventIndex >= events.count {
            // Checked here too: an agent that talks without pause never lets a read time out.
            if deadline.hasPassed(at: now()) { throw ClientError(.notResponding, "\(label): timed out") }
            events = []
            eventIndex = 0
            let n = try stream.receive(into: buffer, deadline: deadline)
            if n == 0 {
                if framer.isInsideMessage {
                    throw ClientError(.protocolViolation, "\(label): the agent closed the connection in the middle of a reply")
                }
                throw ClientError(.unreachable, "\(label): the agent closed the connection")
            }
            events = framer.feed(UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: n))
        }
        defer { eventIndex += 1 }
        return events[eventIndex]
    }

    func interpret(_ bytes: [UInt8]) throws(ClientError) -> Incoming {
        do {
            return try Incoming(JSONParser.parse(bytes))
        } catch {
            throw ClientError(.protocolViolation, "\(label): malformed reply: \(error.message)", cause: error)
        }
    }

    func violation(_ error: ProtocolError, limit: Int) -> ClientError {
        switch error.code {
        case .messageTooLarge:
            return ClientError(
                .protocolViolation,
                "\(label): the reply is larger than \(limit) bytes (raise the cap with --max-reply-size)",
                cause: error)
        default:
            return ClientError(.protocolViolation, "\(label): malformed reply: \(error.message)", cause: error)
        }
    }
}

/// A duration in seconds for messages, without a trailing ".0".
func seconds(_ duration: Duration) -> String {
    let (s, atto) = duration.components
    if atto == 0 { return "\(s) s" }
    let ms = s * 1000 + atto / 1_000_000_000_000_000
    return "\(Double(ms) / 1000) s"
}

/// Bytes shown safely in a message: printable ASCII as is, the rest as \xNN.
func show(_ bytes: [UInt8]) -> String {
    var s = "\""
    for b in bytes {
        if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
            s.unicodeScalars.append(Unicode.Scalar(b))
        } else {
            let hex = String(b, radix: 16)
            s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return s + "\""
}
