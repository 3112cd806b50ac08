/// Splits a byte stream into JSON messages the way QEMU's streamer does: a message ends when
/// its top-level object or array balances (strings and escapes respected), with no newline
/// needed. Bytes may arrive in any split, down to one per read.
///
/// The byte 0xFF can never occur in UTF-8 JSON; the agent sends it before the reply to
/// `guest-sync-delimited` and a client sends it to flush a half-parsed request. The framer
/// drops any partial message when it sees one and reports it as `.delimiter`.
///
/// Memory stays bounded: a message over `maxMessageSize` or deeper than `maxDepth` is
/// reported once and then skipped without being stored, up to where it balances.
public struct Framer: Sendable {
    /// qemu-ga's per-message limit (`MAX_TOKEN_SIZE` in QEMU's json-streamer.c).
    public static let agentMaxMessageSize = 64 << 20
    /// The sentinel byte.
    public static let delimiterByte: UInt8 = 0xFF

    public enum Event: Sendable, Equatable {
        /// One complete message, from its opening bracket to the matching closing one.
        case message([UInt8])
        /// A 0xFF byte; any partial message before it was dropped.
        case delimiter
        /// Bytes outside any message that are neither whitespace nor a message start:
        /// the first few of them and how many there were.
        case junk(prefix: [UInt8], count: Int)
        /// A message broke a limit; it is skipped up to its end.
        case error(ProtocolError)
    }

    public let maxMessageSize: Int
    public let maxDepth: Int

    private enum State: Sendable {
        case idle
        case message
        /// Inside a message that broke a limit: tracked, not stored.
        case skipping
    }

    private var state = State.idle
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var length = 0
    private var pending: [UInt8] = []
    private var junkPrefix: [UInt8] = []
    private var junkCount = 0

    public init(maxMessageSize: Int = Framer.agentMaxMessageSize, maxDepth: Int = JSONParser.defaultMaxDepth) {
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
    }

    /// True while a message has started and not yet ended.
    public var isInsideMessage: Bool { state != .idle }

    /// Feeds bytes and returns what they completed, in order.
    public mutating func feed(_ bytes: [UInt8]) -> [Event] {
        bytes.withUnsafeBufferPointer { feed($0) }
    }

    /// Feeds bytes and returns what they completed, in order.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) -> [Event] {
        var events: [Event] = []
        var i = 0
        var segment = 0  // start of the current message's bytes within this chunk
        let n = chunk.count
        while i < n {
            let c = chunk[i]
            if c == Framer.delimiterByte {
                flushJunk(&events)
                resetMessage()
                events.append(.delimiter)
                i += 1
                continue
            }
            switch state {
            case .idle:
                switch c {
                case 0x20, 0x09, 0x0A, 0x0D:
                    flushJunk(&events)
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    flushJunk(&events)
                    state = .message
                    depth = 1
                    length = 1
                    segment = i
                default:
                    if junkPrefix.count < 32 { junkPrefix.append(c) }
                    junkCount += 1
                }
                i += 1
            case .message, .skipping:
                if inString {
                    // Fast path over the body of a string.
                    var j = i
                    while j < n {
                        let d = chunk[j]
                        if escaped {
                            escaped = false
                        } else if d == UInt8(ascii: "\\") {
                            escaped = true
                        } else if d == UInt8(ascii: "\"") {
                            inString = false
                            j += 1
                            break
                        } else if d == Framer.delimiterByte {
                            break
                        }
                        j += 1
                    }
                    length += j - i
                    i = j
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                        if depth > maxDepth && state == .message {
                            events.append(.error(ProtocolError(
                                .nestingTooDeep, "message nests deeper than \(maxDepth) levels")))
                            state = .skipping
                            pending = []
                        }
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    length += 1
                    i += 1
                }
                if state == .message && length > maxMessageSize {
                    events.append(.error(ProtocolError(
                        .messageTooLarge, "message larger than \(maxMessageSize) bytes")))
                    state = .skipping
                    pending = []
                }
                if depth == 0 && !inString {
                    if state == .message {
                        pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[segment..<i]))
                        events.append(.message(pending))
                    }
                    resetMessage()
                }
            }
        }
        if state == .message {
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[segment..<n]))
        }
        flushJunk(&events)
        return events
    }

    /// Forgets any partial message, as a 0xFF byte would.
    public mutating func reset() {
        resetMessage()
        junkPrefix = []
        junkCount = 0
    }

    private mutating func resetMessage() {
        state = .idle
        depth = 0
        inString = false
        escaped = false
        length = 0
        pending = []
    }

    private mutating func flushJunk(_ events: inout [Event]) {
        guard junkCount > 0 else { return }
        events.append(.junk(prefix: junkPrefix, count: junkCount))
        junkPrefix = []
        junkCount = 0
    }
}
