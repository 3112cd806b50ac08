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
        do {
            return try reader.parseDocument()
        } catch {
            // Only the error path pays for matching QEMU's choice of error.
            guard singleQuotes else { throw error }
            throw qemuFirstError(bytes, parserError: error, maxDepth: maxDepth, maxTokens: maxTokens)
        }
    }

    /// Parses the first text QEMU's streamer would cut from `bytes` (in QEMU's dialect), or
    /// throws the error qemu-ga would report first for it: for bytes outside any message,
    /// which QEMU reads token by token.
    public static func parseFirstAsQEMU(_ bytes: [UInt8]) throws(ProtocolError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { b throws(ProtocolError) in
            var first = b
            if case .end(let end) = QEMULexer.scan(b) { first = UnsafeBufferPointer(rebasing: b[0..<end]) }
            return try parse(first, singleQuotes: true)
        }
    }

    /// The error QEMU reports first for a message our parser refused. Its lexer sees the whole
    /// message before its parser does, so a lexical error ("stray") anywhere in it wins over a
    /// syntax error before it; and its streamer may end a message with unbalanced brackets
    /// earlier than the framer does, so the parser's error is taken from that shorter text.
    static func qemuFirstError(
        _ bytes: UnsafeBufferPointer<UInt8>, parserError: ProtocolError, maxDepth: Int, maxTokens: Int
    ) -> ProtocolError {
        switch QEMULexer.scan(bytes) {
        case .stray(let token, let offset):
            // QEMU formats the token with %s: it ends at a NUL byte.
            let text = token.prefix { $0 != 0 }
            return ProtocolError(.invalidJSON, "stray '\(String(decoding: text, as: UTF8.self))'", offset: offset)
        case .end(let end) where end < bytes.count:
            var reader = Reader(
                bytes: UnsafeBufferPointer(rebasing: bytes[0..<end]), maxDepth: maxDepth, maxTokens: maxTokens,
                singleQuotes: true)
            do {
                _ = try reader.parseDocument()
                return parserError
            } catch {
                return error
            }
        default:
            return parserError
        }
    }
}

/// QEMU's lexer and streamer (qobject/json-lexer.c, json-streamer.c), reduced to what decides
/// which error qemu-ga reports first: where its first lexical error is, and where the
/// streamer hands a message to the parser. Used on the error path only.
enum QEMULexer {
    enum Outcome: Equatable {
        /// A lexical error: the token so far, the offending byte included, and its offset.
        case stray([UInt8], offset: Int)
        /// No lexical error; the streamer ends the message after this many bytes.
        case end(Int)
        /// No lexical error, and the message does not end.
        case open
    }

    private enum State {
        case start, dqString, dqEscape, sqString, sqEscape
        case zero, sign, digits, mantissa, mantissaDigits, expE, expSign, expDigits, keyword
    }

    static func scan(_ b: UnsafeBufferPointer<UInt8>) -> Outcome {
        var state = State.start
        var tokenStart = 0
        var braces = 0
        var brackets = 0
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        /// The streamer's test after each token: does the message go on?
        func goesOn() -> Bool { (braces > 0 || brackets > 0) && brackets >= 0 }
        while i < b.count {
            let c = b[i]
            switch state {
            case .start:
                tokenStart = i
                switch c {
                case 0x20, 0x09, 0x0A, 0x0D: break
                case UInt8(ascii: "\""): state = .dqString
                case UInt8(ascii: "'"): state = .sqString
                case UInt8(ascii: "0"): state = .zero
                case UInt8(ascii: "1")...UInt8(ascii: "9"): state = .digits
                case UInt8(ascii: "-"): state = .sign
                case UInt8(ascii: "a")...UInt8(ascii: "z"): state = .keyword
                case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"),
                    UInt8(ascii: ","), UInt8(ascii: ":"):
                    switch c {
                    case UInt8(ascii: "{"): braces += 1
                    case UInt8(ascii: "}"): braces -= 1
                    case UInt8(ascii: "["): brackets += 1
                    case UInt8(ascii: "]"): brackets -= 1
                    default: break
                    }
                    if !goesOn() { return .end(i + 1) }
                default:
                    return .stray([c], offset: i)
                }
                i += 1
                continue
            case .dqString, .sqString:
                if c < 0x20 || c >= 0xFE { return .stray(Array(b[tokenStart...i]), offset: tokenStart) }
                if c == UInt8(ascii: "\\") {
                    state = state == .dqString ? .dqEscape : .sqEscape
                } else if c == (state == .dqString ? UInt8(ascii: "\"") : UInt8(ascii: "'")) {
                    state = .start
                    if !goesOn() { return .end(i + 1) }
                }
                i += 1
                continue
            case .dqEscape, .sqEscape:
                if c < 0x20 || c >= 0xFE { return .stray(Array(b[tokenStart...i]), offset: tokenStart) }
                state = state == .dqEscape ? .dqString : .sqString
                i += 1
                continue
            case .sign:
                guard isDigit(c) else { return .stray(Array(b[tokenStart...i]), offset: tokenStart) }
                state = c == UInt8(ascii: "0") ? .zero : .digits
                i += 1
                continue
            case .mantissa, .expSign:
                guard isDigit(c) else { return .stray(Array(b[tokenStart...i]), offset: tokenStart) }
                state = state == .mantissa ? .mantissaDigits : .expDigits
                i += 1
                continue
            case .expE:
                guard isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else {
                    return .stray(Array(b[tokenStart...i]), offset: tokenStart)
                }
                state = isDigit(c) ? .expDigits : .expSign
                i += 1
                continue
            case .zero:
                if isDigit(c) { return .stray(Array(b[tokenStart...i]), offset: tokenStart) }
                if c == UInt8(ascii: ".") {
                    state = .mantissa
                    i += 1
                    continue
                }
            case .digits:
                if isDigit(c) {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    state = c == UInt8(ascii: ".") ? .mantissa : .expE
                    i += 1
                    continue
                }
            case .mantissaDigits:
                if isDigit(c) {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    state = .expE
                    i += 1
                    continue
                }
            case .expDigits:
                if isDigit(c) {
                    i += 1
                    continue
                }
            case .keyword:
                if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") {
                    i += 1
                    continue
                }
            }
            // A number or keyword ended before `c`, which is read again from the start state.
            state = .start
            if !goesOn() { return .end(i) }
        }
        return .open
    }
}

private enum Frame {
    case array([JSONValue])
    /// An object and the key of the member being parsed; `keys` holds the keys once the
    /// object is large enough that looking for a duplicate by scanning would cost too much.
    case object(JSONObject, key: String, keys: Set<String>?)
    /// A key that is not a string: parsed as a value first, as QEMU does, so that an error
    /// inside it is the one reported.
    case badKey
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
            if case .badKey = stack.last { throw fail("key is not a string in object") }
            guard i < b.count else { throw fail("premature EOI") }
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
                    throw fail("expected separator in list")
                }
            case .object(var object, let key, var keys):
                try checkUnique(key, in: object, &keys)
                object.append(key: key, value: value)
                if c == UInt8(ascii: ",") {
                    try count()
                    i += 1
                    let next = try parseKey()
                    stack.append(.object(object, key: next ?? "", keys: keys))
                    if next == nil { stack.append(.badKey) }
                    value = try parseValue()
                } else if c == UInt8(ascii: "}") {
                    try count()
                    i += 1
                    value = .object(object)
                } else {
                    throw fail("expected separator in dict")
                }
            case .badKey:
                throw fail("key is not a string in object")
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
            guard i < b.count else { throw fail("premature EOI") }
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
                stack.append(.object(JSONObject(), key: key ?? "", keys: nil))
                if key == nil { stack.append(.badKey) }
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
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                throw invalidKeyword()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                guard JSONNumber.scanLength(b, from: &i) else { throw fail("invalid number \(describeHere())") }
                let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                return .number(JSONNumber(validated: text))
            default:
                throw fail("expecting value")
            }
        }
    }

    /// Refuses a second member named `key`, as QEMU's parser does at every level. Small
    /// objects are scanned; past a few members the keys go into a set, so that a hostile
    /// object with a million members costs no more than a million lookups.
    func checkUnique(_ key: String, in object: JSONObject, _ keys: inout Set<String>?) throws(ProtocolError) {
        if keys == nil {
            for member in object.members where member.key == key { throw fail("duplicate key") }
            if object.count >= 16 { keys = Set(object.keys) }
        }
        if keys != nil, keys?.insert(key).inserted == false { throw fail("duplicate key") }
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

    /// Parses a key and its colon; nil when what stands there is a value of another type,
    /// left for the caller to parse (an error either way, but QEMU reports one inside it first).
    mutating func parseKey() throws(ProtocolError) -> String? {
        skipWhitespace()
        guard i < b.count else { throw fail("premature EOI") }
        switch b[i] {
        case UInt8(ascii: "\""): break
        case UInt8(ascii: "'") where singleQuotes: break
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            return nil
        default:
            throw fail("expecting value")
        }
        try count()
        let key = try parseString()
        skipWhitespace()
        guard i < b.count else { throw fail("premature EOI") }
        guard b[i] == UInt8(ascii: ":") else { throw fail("missing : in object pair") }
        try count()
        i += 1
        return key
    }

    mutating func literal(_ word: StaticString) throws(ProtocolError) {
        let n = word.utf8CodeUnitCount
        let p = word.utf8Start
        guard i + n <= b.count, (0..<n).allSatisfy({ b[i + $0] == p[$0] }), i + n == b.count || !isLetter(b[i + n]) else {
            throw invalidKeyword()
        }
        i += n
    }

    func isLetter(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }

    /// QEMU's lexer takes any run of a-z as a keyword; its parser names the one it refuses
    /// (in a message it cuts at 1023 bytes).
    func invalidKeyword() -> ProtocolError {
        var end = i
        while end < b.count && isLetter(b[end]) { end += 1 }
        let word = String(decoding: UnsafeBufferPointer(rebasing: b[i..<end]), as: UTF8.self)
        return fail(String("invalid keyword '\(word)'".utf8.prefix(1023)) ?? "invalid keyword")
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
            if let base = b.baseAddress { i = ByteScan.plainStringRun(UnsafeRawPointer(base), from: i, to: b.count, quote: quote) }
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
                do {
                    try parseEscape(into: &out)
                } catch {
                    // QEMU decodes left to right: bad UTF-8 before the escape is reported first.
                    if String(validating: out, as: UTF8.self) == nil {
                        i = open
                        throw fail("invalid UTF-8 sequence in string", .invalidUTF8)
                    }
                    throw error
                }
                runStart = i
            } else if c < 0x20 {
                throw fail("control character 0x\(String(c, radix: 16)) in string")
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
            throw fail("invalid UTF-8 sequence in string", .invalidUTF8)
        }
        return decoded
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(ProtocolError) {
        let backslash = i - 1
        guard i < b.count else { throw fail("invalid escape sequence in string") }
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
            // QEMU names the escape it refuses: six bytes from the backslash (cut at the
            // string's end), or twelve for a pair that decodes to a noncharacter.
            guard var scalar = hex4() else { throw invalidCharacter(from: backslash, length: 6) }
            if (0xD800...0xDBFF).contains(scalar) {
                guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                    throw invalidCharacter(from: backslash, length: 6)
                }
                i += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else {
                    throw invalidCharacter(from: backslash, length: 6)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            // QEMU also refuses Unicode's noncharacters; RFC 8259 does not.
            let noncharacter = (0xFDD0...0xFDEF).contains(scalar) || scalar & 0xFFFE == 0xFFFE
            guard let s = Unicode.Scalar(scalar), !(singleQuotes && noncharacter) else {
                throw invalidCharacter(from: backslash, length: i - backslash)
            }
            out.append(contentsOf: UTF8.encode(s) ?? [])
        default:
            i = backslash
            throw fail("invalid escape sequence in string")
        }
    }

    /// "\uXXXX is not a valid Unicode character", the escape's text as written, at most
    /// `length` bytes and never past the string's closing quote.
    func invalidCharacter(from backslash: Int, length: Int) -> ProtocolError {
        var end = backslash
        var escaped = false
        while end < b.count && end - backslash < length {
            let c = b[end]
            end += 1
            if escaped {
                escaped = false
            } else if c == UInt8(ascii: "\\") {
                escaped = true
            } else if c == UInt8(ascii: "\"") || (singleQuotes && c == UInt8(ascii: "'")) {
                break
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[backslash..<end]), as: UTF8.self)
        return ProtocolError(.invalidJSON, "\(text) is not a valid Unicode character", offset: backslash)
    }

    /// Four hex digits, or nil.
    mutating func hex4() -> UInt32? {
        guard i + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
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

