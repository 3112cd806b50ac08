/// Splits a byte stream into JSON messages the way QEMU's streamer does: a message ends when
/// its top-level object or array balances (strings and escapes respected, in double or, as
/// QEMU's lexer allows, single quotes), with no newline needed. Bytes may arrive in any
/// split, down to one per read.
///
/// The bytes 0xFE and 0xFF can never occur in UTF-8 JSON, and QEMU's lexer resets on both.
/// The agent sends 0xFF before the reply to `guest-sync-delimited` and a client sends it to
/// flush a half-parsed request. The framer drops any partial message when it sees either and
/// reports a 0xFF as `.delimiter`.
///
/// Memory stays bounded: a message over `maxMessageSize` bytes, `maxTokens` tokens or
/// `maxDepth` levels is reported once and then skipped without being stored, up to where it
/// balances. Tokens are counted as QEMU's lexer counts them (brackets, commas, colons,
/// strings, numbers and keywords), since a token, not a byte, is what costs memory once
/// parsed: `[0],` is four of them.
public struct Framer: Sendable {
    /// qemu-ga's per-message limit (`MAX_TOKEN_SIZE` in QEMU's json-streamer.c).
    public static let agentMaxMessageSize = 64 << 20
    /// qemu-ga's per-message token limit (`MAX_TOKEN_COUNT` in QEMU's json-streamer.c).
    public static let agentMaxTokens = JSONParser.defaultMaxTokens
    /// The sentinel byte.
    public static let delimiterByte: UInt8 = 0xFF
    /// The other byte that is never UTF-8: it resets the framer as 0xFF does, silently.
    public static let resetByte: UInt8 = 0xFE

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
    public let maxTokens: Int

    private enum State: Sendable {
        case idle
        case message
        /// Inside a message that broke a limit: tracked, not stored.
        case skipping
    }

    private var state = State.idle
    private var depth = 0
    /// The quote that opened the string being read, or 0 outside strings.
    private var quote: UInt8 = 0
    private var escaped = false
    /// Inside a number or keyword: its first byte counted it as a token.
    private var inScalar = false
    private var length = 0
    private var tokens = 0
    private var pending: [UInt8] = []
    /// The size of the last message that spanned several feeds: the room reserved for the
    /// next such message, since a copy's chunks come one after another, all of one size, and
    /// growing a megabyte by doubling copies it again and touches fresh pages at each step.
    private var lastSpanningSize = 0
    private var junkPrefix: [UInt8] = []
    private var junkCount = 0

    public init(
        maxMessageSize: Int = Framer.agentMaxMessageSize, maxDepth: Int = JSONParser.defaultMaxDepth,
        maxTokens: Int = Framer.agentMaxTokens
    ) {
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
        self.maxTokens = maxTokens
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
            if c >= Framer.resetByte {
                flushJunk(&events)
                resetMessage()
                if c == Framer.delimiterByte { events.append(.delimiter) }
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
                    tokens = 1
                    segment = i
                default:
                    if junkPrefix.count < 32 { junkPrefix.append(c) }
                    junkCount += 1
                }
                i += 1
            case .message, .skipping:
                // The hot loop: the scanner's state stays in locals until it stops, at the end
                // of the chunk, a reset byte, the end of the message or a broken limit.
                var depth = self.depth
                var quote = self.quote
                var escaped = self.escaped
                var inScalar = self.inScalar
                var tokens = self.tokens
                let checking = state == .message
                var broken: ProtocolError.Code?
                // The scan stops at the first byte past the size limit, so that the limit
                // broken first in the bytes is the one reported, however they were split.
                let room = maxMessageSize - length
                let end = checking && n - i > room ? i + room + 1 : n
                var j = i
                scan: while j < end {
                    if quote != 0 && !escaped, let base = chunk.baseAddress {
                        j = ByteScan.plainStringRun(UnsafeRawPointer(base), from: j, to: end, quote: quote)
                        if j == end { break }
                    }
                    let d = chunk[j]
                    if d >= Framer.resetByte { break }
                    j += 1
                    if quote != 0 {
                        if escaped {
                            escaped = false
                        } else if d == UInt8(ascii: "\\") {
                            escaped = true
                        } else if d == quote {
                            quote = 0
                        }
                        continue
                    }
                    switch d {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        quote = d
                        tokens += 1
                        inScalar = false
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                        tokens += 1
                        inScalar = false
                        if checking && depth > maxDepth {
                            broken = .nestingTooDeep
                            break scan
                        }
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        tokens += 1
                        inScalar = false
                    case UInt8(ascii: ","), UInt8(ascii: ":"):
                        tokens += 1
                        inScalar = false
                    case 0x20, 0x09, 0x0A, 0x0D:
                        inScalar = false
                        continue
                    default:
                        if inScalar { continue }
                        tokens += 1
                        inScalar = true
                    }
                    // As QEMU: the limit holds for every token, the closing one included.
                    if checking && tokens > maxTokens {
                        broken = .tooManyTokens
                        break
                    }
                    if depth == 0 { break }
                }
                length += j - i
                i = j
                if checking && broken == nil && length > maxMessageSize { broken = .messageTooLarge }
                self.depth = depth
                self.quote = quote
                self.escaped = escaped
                self.inScalar = inScalar
                self.tokens = tokens
                if let broken { refuse(broken, &events) }
                if depth == 0 && quote == 0 {
                    if state == .message {
                        if !pending.isEmpty { lastSpanningSize = min(length, maxMessageSize) }
                        pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[segment..<i]))
                        events.append(.message(pending))
                    }
                    resetMessage()
                }
            }
        }
        if state == .message {
            if pending.isEmpty { pending.reserveCapacity(max(lastSpanningSize, n - segment)) }
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

    /// Reports a broken limit and skips the rest of the message without storing it.
    private mutating func refuse(_ code: ProtocolError.Code, _ events: inout [Event]) {
        let message = switch code {
        case .nestingTooDeep: "message nests deeper than \(maxDepth) levels"
        case .tooManyTokens: "message has more than \(maxTokens) tokens"
        default: "message larger than \(maxMessageSize) bytes"
        }
        events.append(.error(ProtocolError(code, message)))
        state = .skipping
        pending = []
    }

    private mutating func resetMessage() {
        state = .idle
        depth = 0
        quote = 0
        escaped = false
        inScalar = false
        length = 0
        tokens = 0
        pending = []
    }

    private mutating func flushJunk(_ events: inout [Event]) {
        guard junkCount > 0 else { return }
        events.append(.junk(prefix: junkPrefix, count: junkCount))
        junkPrefix = []
        junkCount = 0
    }
}
