/// Writes JSON values as text: pretty (2-space indent, as `jq` and `python -m json.tool`
/// show it) or compact (one line, no spaces). Key order and number text are kept.
///
/// Control characters in strings are always escaped, C1 controls, DEL, line separators and
/// bidirectional controls included, so that a hostile guest can put neither terminal escape
/// sequences nor text that displays differently from what it is on the user's screen.
public struct JSONPrinter: Sendable {
    public enum Layout: Sendable {
        /// Indented over several lines, `"key": value`.
        case pretty
        /// One line, `{"key":value}`; what scripts get.
        case compact
        /// One line with a space after ':' and ',', as qemu-ga writes its replies.
        case spaced
    }

    /// ANSI colours for a terminal; `nil` writes plain text.
    public struct Palette: Sendable {
        public var key = "\u{1B}[1;34m"
        public var string = "\u{1B}[32m"
        public var number = "\u{1B}[36m"
        public var literal = "\u{1B}[33m"
        public var null = "\u{1B}[90m"
        public var reset = "\u{1B}[0m"
        public init() {}
    }

    public var layout: Layout
    public var palette: Palette?

    public init(layout: Layout = .pretty, palette: Palette? = nil) {
        self.layout = layout
        self.palette = palette
    }

    /// Pretty layout indents at most this many levels (deep enough for every qemu-ga reply,
    /// `guest-get-fsinfo`'s PCI addresses sit at level 5). A container whose members would
    /// sit deeper is printed compact on one line, so that deep nesting cannot multiply the
    /// size of the output: uncoloured, a value of n bytes of compact JSON prints in fewer
    /// than 10n bytes.
    public static let indentLimit = 6

    /// The value as UTF-8 text, without a trailing newline.
    public func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        var keep = Keep()
        write(value, indent: 0, into: &out, drain: &keep)
        return out
    }

    /// The value as a string, without a trailing newline.
    public func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Prints `value` followed by `terminator`, handing the text to `sink` in pieces of
    /// about `chunkSize` bytes (more only for a longer single string), so that printing
    /// holds a bounded buffer however large the whole text is.
    public func write<Failure: Error>(
        _ value: JSONValue, terminator: [UInt8] = [], chunkSize: Int = 1 << 16,
        to sink: @escaping ([UInt8]) throws(Failure) -> Void
    ) throws(Failure) {
        var out: [UInt8] = []
        out.reserveCapacity(max(256, min(chunkSize, 1 << 20)) + 256)
        var stream = Stream(chunkSize: chunkSize, sink: sink)
        try write(value, indent: 0, into: &out, drain: &stream)
        out.append(contentsOf: terminator)
        if !out.isEmpty { try sink(out) }
    }

    private func colored(_ color: KeyPath<Palette, String>, _ out: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        guard let palette else { return body(&out) }
        out.append(contentsOf: palette[keyPath: color].utf8)
        body(&out)
        out.append(contentsOf: palette.reset.utf8)
    }

    private func newline(_ indent: Int, _ out: inout [UInt8]) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    private func write<D: Drain>(_ value: JSONValue, indent: Int, into out: inout [UInt8], drain: inout D) throws(D.Failure) {
        switch value {
        case .null:
            colored(\.null, &out) { $0.append(contentsOf: "null".utf8) }
        case .bool(let b):
            colored(\.literal, &out) { $0.append(contentsOf: (b ? "true" : "false").utf8) }
        case .number(let n):
            colored(\.number, &out) { $0.append(contentsOf: n.text.utf8) }
        case .string(let s):
            colored(\.string, &out) { JSONPrinter.writeString(s, into: &$0) }
        case .array(let elements):
            guard !elements.isEmpty else { return out.append(contentsOf: "[]".utf8) }
            // Past the indent limit the rest of this subtree stays on one line.
            let expand = layout == .pretty && indent < JSONPrinter.indentLimit
            out.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { out.append(contentsOf: layout == .spaced ? [0x2C, 0x20] : [0x2C]) }
                if expand { newline(indent + 1, &out) }
                try write(element, indent: indent + 1, into: &out, drain: &drain)
                try drain.take(&out)
            }
            if expand { newline(indent, &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else { return out.append(contentsOf: "{}".utf8) }
            let expand = layout == .pretty && indent < JSONPrinter.indentLimit
            out.append(UInt8(ascii: "{"))
            for (n, member) in object.members.enumerated() {
                if n > 0 { out.append(contentsOf: layout == .spaced ? [0x2C, 0x20] : [0x2C]) }
                if expand { newline(indent + 1, &out) }
                colored(\.key, &out) { JSONPrinter.writeString(member.key, into: &$0) }
                out.append(UInt8(ascii: ":"))
                if layout == .spaced || expand { out.append(0x20) }
                try write(member.value, indent: indent + 1, into: &out, drain: &drain)
                try drain.take(&out)
            }
            if expand { newline(indent, &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes `s` as a quoted JSON string; escapes quotes, backslashes and every character
    /// `isUnsafe` names, and passes every other character through as UTF-8.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path for the common case, long base64 payloads included: printable ASCII
        // with nothing to escape is copied as is.
        let utf8 = s.utf8
        let plain = utf8.withContiguousStorageIfAvailable { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C } ? (out.append(contentsOf: bytes), true).1 : false
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x20..<0x7F: out.append(UInt8(scalar.value))
            default: writeCharacter(scalar, into: &out)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Writes `text` unquoted, with every character `isUnsafe` names escaped as in a JSON
    /// string (`\n`, `\u001b`, `\u202e`): how text from a guest reaches a terminal.
    public static func writeEscapingUnsafe(_ text: String, into out: inout [UInt8]) {
        for scalar in text.unicodeScalars { writeCharacter(scalar, into: &out) }
    }

    /// True for characters that act on a terminal or change how the text around them reads:
    /// C0 controls (line breaks included), DEL, C1 controls, the Unicode line and paragraph
    /// separators, and the bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E,
    /// U+2066 to U+2069), which can make a line display in another order than it is written.
    @inline(__always)
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 { return true }
        if v < 0x7F { return false }
        if v < 0xA0 { return true }
        switch v {
        case 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// One character, escaped when `isUnsafe` says so and as UTF-8 otherwise.
    private static func writeCharacter(_ scalar: Unicode.Scalar, into out: inout [UInt8]) {
        guard isUnsafe(scalar) else { return UTF8.encode(scalar) { out.append($0) } }
        let v = scalar.value
        switch v {
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        default:
            // Every unsafe character is in the BMP, so four hex digits hold it.
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [
                0x5C, UInt8(ascii: "u"), hex[Int(v >> 12 & 0xF)], hex[Int(v >> 8 & 0xF)], hex[Int(v >> 4 & 0xF)], hex[Int(v & 0xF)],
            ])
        }
    }
}

/// What the printer does with its buffer after each member of a container.
private protocol Drain {
    associatedtype Failure: Error
    mutating func take(_ out: inout [UInt8]) throws(Failure)
}

/// Keeps everything in the buffer: `bytes`, and qgad's replies.
private struct Keep: Drain {
    @inline(__always) func take(_ out: inout [UInt8]) {}
}

/// Hands the buffer on whenever it holds a chunk.
private struct Stream<Failure: Error>: Drain {
    let chunkSize: Int
    let sink: ([UInt8]) throws(Failure) -> Void

    mutating func take(_ out: inout [UInt8]) throws(Failure) {
        guard out.count >= chunkSize else { return }
        try sink(out)
        out.removeAll(keepingCapacity: true)
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact form.
    public var description: String { JSONPrinter(layout: .compact).string(self) }
}
