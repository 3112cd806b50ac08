/// A strict JSON parser (RFC 8259) that never recurses: nesting lives on an explicit stack
/// with a depth limit, so a hostile 200000-deep reply is an error, not a stack overflow, and
/// a token limit bounds what one text can make it allocate.
///
/// With `singleQuotes`, it also takes what QEMU's parser takes beyond RFC 8259: strings in
/// single quotes (`{'execute':'guest-ping'}`) and the escape `\'`. qgad needs that to be a
/// drop-in for qemu-ga; the host leaves it off, since no agent sends such replies.
public enum JSONParser {
    /// qemu-ga's own nesting limit (`MAX_NESTING` in QEMU's json-streamer.c).
    public static let defaultMaxDepth = 1024
    /// qemu-ga's own token limit (`MAX_TOKEN_COUNT` in QEMU's json-streamer.c): a text may
    /// hold this many tokens (brackets, commas, colons, strings, numbers, keywords).
    public static let defaultMaxTokens = 2 << 20

    /// Parses one JSON text, surrounded by optional whitespace.
    public static func parse(
        _ text: String, maxDepth: Int = defaultMaxDepth, maxTokens: Int = defaultMaxTokens, singleQuotes: Bool = false
    ) throws(ProtocolError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth, maxTokens: maxTokens, singleQuotes: singleQuotes)
    }

    /// Parses one JSON text, surrounded by optional whitespace.
    public static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, maxTokens: Int = defaultMaxTokens, singleQuotes: Bool = false
    ) throws(ProtocolError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(ProtocolError) in
            try parse(buffer, maxDepth: maxDepth, maxTokens: maxTokens, singleQuotes: singleQuotes)
        }
    }

    /// Parses one JSON text, surrounded by optional whitespace.
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth, maxTokens: Int = defaultMaxTokens,
        singleQuotes: Bool = false
    ) throws(ProtocolError) -> JSONValue {
        var reader = Reader(bytes: bytes, maxDepth: maxDepth, maxTokens: maxTokens, singleQuotes: singleQuotes)
        return try reader.parseDocument()
    }
}

private enum Frame {
    case array([JSONValue])
    case object(JSONObject, key: String)
}

private struct Reader {
    let b: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let maxTokens: Int
    let singleQuotes: Bool
    var i = 0
    var tokens = 0
    var stack: [Frame] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, maxTokens: Int, singleQuotes: Bool) {
        b = bytes
        self.maxDepth = maxDepth
        self.maxTokens = maxTokens
        self.singleQuotes = singleQuotes
    }

    func fail(_ message: String, _ code: ProtocolError.Code = .invalidJSON) -> ProtocolError {
        ProtocolError(code, message, offset: i)
    }

    mutating func skipWhitespace() {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    func describeHere() -> String {
        guard i < b.count else { return "end of input" }
        let c = b[i]
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    mutating func parseDocument() throws(ProtocolError) -> JSONValue {
        var value = try parseValue()
        while true {
            guard !stack.isEmpty else { break }
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end of input inside a container") }
            let c = b[i]
            switch stack.removeLast() {
            case .array(var elements):
                elements.append(value)
                if c == UInt8(ascii: ",") {
                    try count()
                    i += 1
                    stack.append(.array(elements))
                    value = try parseValue()
                } else if c == UInt8(ascii: "]") {
                    try count()
                    i += 1
                    value = .array(elements)
                } else {
                    throw fail("expected ',' or ']' but found \(describeHere())")
                }
            case .object(var object, let key):
                object.append(key: key, value: value)
                if c == UInt8(ascii: ",") {
                    try count()
                    i += 1
                    let next = try parseKey()
                    stack.append(.object(object, key: next))
                    value = try parseValue()
                } else if c == UInt8(ascii: "}") {
                    try count()
                    i += 1
                    value = .object(object)
                } else {
                    throw fail("expected ',' or '}' but found \(describeHere())")
                }
            }
        }
        skipWhitespace()
        guard i == b.count else { throw fail("unexpected \(describeHere()) after the JSON value") }
        return value
    }

    /// Parses a value; containers are opened on the stack and the first member's value is
    /// parsed in the same loop, so only scalars and empty containers return directly.
    mutating func parseValue() throws(ProtocolError) -> JSONValue {
        while true {
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end of input, expected a value") }
            try count()
            switch b[i] {
            case UInt8(ascii: "{"):
                try enter()
                skipWhitespace()
                if i < b.count && b[i] == UInt8(ascii: "}") {
                    try count()
                    i += 1
                    return .object(JSONObject())
                }
                let key = try parseKey()
                stack.append(.object(JSONObject(), key: key))
            case UInt8(ascii: "["):
                try enter()
                skipWhitespace()
                if i < b.count && b[i] == UInt8(ascii: "]") {
                    try count()
                    i += 1
                    return .array([])
                }
                stack.append(.array([]))
            case UInt8(ascii: "\""):
                return .string(try parseString())
            case UInt8(ascii: "'") where singleQuotes:
                return .string(try parseString())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                guard JSONNumber.scanLength(b, from: &i) else { throw fail("invalid number") }
                let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                return .number(JSONNumber(validated: text))
            default:
                throw fail("unexpected \(describeHere()), expected a value")
            }
        }
    }

    /// Counts one more token against the limit.
    mutating func count() throws(ProtocolError) {
        tokens += 1
        guard tokens <= maxTokens else { throw fail("more than \(maxTokens) tokens", .tooManyTokens) }
    }

    /// Counts one more level of nesting (the caller has seen the opening bracket).
    mutating func enter() throws(ProtocolError) {
        // The container being opened is not on the stack yet, hence the + 1.
        guard stack.count + 1 <= maxDepth else {
            throw fail("JSON nesting deeper than \(maxDepth) levels", .nestingTooDeep)
        }
        i += 1
    }

    mutating func parseKey() throws(ProtocolError) -> String {
        skipWhitespace()
        guard i < b.count, b[i] == UInt8(ascii: "\"") || (singleQuotes && b[i] == UInt8(ascii: "'")) else {
            throw fail("expected an object key but found \(describeHere())")
        }
        try count()
        let key = try parseString()
        skipWhitespace()
        guard i < b.count, b[i] == UInt8(ascii: ":") else {
            throw fail("expected ':' but found \(describeHere())")
        }
        try count()
        i += 1
        return key
    }

    mutating func literal(_ word: StaticString) throws(ProtocolError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end of input in a literal") }
        let p = word.utf8Start
        for k in 0..<n where b[i + k] != p[k] {
            throw fail("unexpected \(describeHere()), expected a value")
        }
        i += n
    }

    /// Parses a string starting at its opening quote (double, or single when allowed),
    /// decoding every escape (including surrogate pairs) and rejecting raw control characters
    /// and invalid UTF-8.
    mutating func parseString() throws(ProtocolError) -> String {
        let open = i
        let quote = b[i]
        i += 1
        var out: [UInt8] = []
        var runStart = i
        while true {
            guard i < b.count else {
                i = open
                throw fail("unterminated string")
            }
            let c = b[i]
            if c == quote {
                break
            } else if c == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i]))
                i += 1
                try parseEscape(into: &out)
                runStart = i
            } else if c < 0x20 {
                throw fail("control character 0x\(String(c, radix: 16)) inside a string must be escaped")
            } else {
                i += 1
            }
        }
        let run = UnsafeBufferPointer(rebasing: b[runStart..<i])
        i += 1
        let decoded: String?
        if out.isEmpty {
            decoded = String(validating: run, as: UTF8.self)
        } else {
            out.append(contentsOf: run)
            decoded = String(validating: out, as: UTF8.self)
        }
        guard let decoded else {
            i = open
            throw fail("string is not valid UTF-8", .invalidUTF8)
        }
        return decoded
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(ProtocolError) {
        guard i < b.count else { throw fail("unterminated escape") }
        let c = b[i]
        i += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(c)
        case UInt8(ascii: "'") where singleQuotes: out.append(c)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                    throw fail("high surrogate \\u\(String(scalar, radix: 16)) without its low half")
                }
                i += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw fail("high surrogate followed by \\u\(String(low, radix: 16)), not a low surrogate")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("lone low surrogate \\u\(String(scalar, radix: 16))")
            }
            guard let s = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
            out.append(contentsOf: UTF8.encode(s) ?? [])
        default:
            i -= 1
            throw fail("invalid escape '\\\(describeHere())'")
        }
    }

    mutating func hex4() throws(ProtocolError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }
}

extension UTF8 {
    /// The UTF-8 bytes of one scalar.
    fileprivate static func encode(_ scalar: Unicode.Scalar) -> [UInt8]? {
        var bytes: [UInt8] = []
        UTF8.encode(scalar) { bytes.append($0) }
        return bytes
    }
}

