/// A JSON value as the agent protocol needs it: objects keep their key order and numbers
/// keep their exact text, so that a reply printed by `qga` reads as the agent wrote it and a
/// uint64 disk size survives the round trip untouched.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number kept as the text it was written with (for example `18446744073709551615`,
/// `-0` or `1e400`); conversions are done on demand and fail rather than round.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    /// The number's text, valid JSON number grammar.
    public let text: String

    /// Wraps `text` after checking it against the JSON number grammar.
    public init?(_ text: String) {
        guard JSONNumber.isValid(Array(text.utf8)) else { return nil }
        self.text = text
    }

    /// Trusted initialiser for text the parser has already validated.
    init(validated text: String) { self.text = text }

    public init(_ value: Int) { self.text = String(value) }
    public init(_ value: Int64) { self.text = String(value) }
    public init(_ value: UInt64) { self.text = String(value) }

    public var description: String { text }

    /// The value as `Int64` when the text is an integer in range.
    public var int64: Int64? { Int64(text) }
    /// The value as `UInt64` when the text is a non-negative integer in range.
    public var uint64: UInt64? { UInt64(text) }
    /// The value as `Int` when the text is an integer in range.
    public var int: Int? { Int(text) }
    /// The value as a `Double` (may lose precision; infinite for `1e400`).
    public var double: Double? { Double(text) }

    /// Checks `bytes` against `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        var i = 0
        return bytes.withUnsafeBufferPointer { b in
            JSONNumber.scanLength(b, from: &i) && i == b.count
        }
    }

    /// Advances `i` over a JSON number starting at `i`; returns false when the grammar fails.
    static func scanLength(_ b: UnsafeBufferPointer<UInt8>, from i: inout Int) -> Bool {
        func digit(_ at: Int) -> Bool { at < b.count && b[at] >= 0x30 && b[at] <= 0x39 }
        if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
        guard digit(i) else { return false }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while digit(i) { i += 1 }
        }
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        return true
    }
}

/// A JSON object whose members keep the order they were written or inserted in.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One `"key": value` member.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order. The parser refuses duplicate keys, as QEMU's does; a member
    /// appended twice is kept, and lookups see the last one.
    public private(set) var members: [Member]

    public init() { members = [] }
    public init(_ members: [Member]) { self.members = members }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    /// The value of the last member named `key`; setting replaces it in place or appends.
    public subscript(key: String) -> JSONValue? {
        get { members.last(where: { $0.key == key })?.value }
        set {
            if let index = members.lastIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Appends a member without looking for an existing one of the same name.
    public mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

extension JSONValue {
    /// The object, if this is one.
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The number, if this is one.
    public var number: JSONNumber? { if case .number(let n) = self { n } else { nil } }
    /// The array, if this is one.
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// Member lookup on objects; nil for anything else.
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
