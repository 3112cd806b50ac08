import QGAProtocol

/// A problem in a QAPI schema, with the line of the expression it was found in.
public struct QAPIError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public var description: String { "line \(line): \(message)" }
}

/// The commands and types of a QAPI schema (QEMU's `qga/qapi-schema.json`), read into the
/// catalogue's own types.
///
/// QAPI's dialect is a sequence of JSON objects with single-quoted strings and `#` comments
/// between them; a definition's version is only in its doc comment (`# Since: 2.5`). This
/// reader splits the text into expressions, hands each to `JSONParser` (with
/// `singleQuotes`), and takes the `Since:` line from the comments just before it. It
/// refuses keys it does not know, so that a new schema construct is noticed rather than
/// silently dropped.
public struct QAPISchema: Sendable, Equatable {
    /// Every command, in schema order.
    public private(set) var commands: [CommandInfo] = []
    /// Every struct, enum, union and alternate, in schema order.
    public private(set) var types: [SchemaType] = []

    public init(parsing text: String) throws(QAPIError) {
        for expression in try Self.split(text) {
            try read(expression)
        }
    }

    /// The types the commands use, directly or through other types, in schema order.
    public var referencedTypes: [SchemaType] {
        var wanted: [String] = []
        var pending = commands.flatMap { command in command.arguments.map(\.type.name) + (command.returns.map { [$0.name] } ?? []) }
        while let name = pending.popLast() {
            guard !wanted.contains(name), let type = types.first(where: { $0.name == name }) else { continue }
            wanted.append(name)
            pending += Self.names(usedBy: type)
        }
        return types.filter { wanted.contains($0.name) }
    }

    private static func names(usedBy type: SchemaType) -> [String] {
        switch type.kind {
        case .enumeration: []
        case .structure(let base, let members): (base.map { [$0] } ?? []) + members.map(\.type.name)
        case .union(let baseType, let baseMembers, _, let branches):
            (baseType.map { [$0] } ?? []) + baseMembers.map(\.type.name) + branches.map(\.type.name)
        case .alternate(let branches): branches.map(\.type.name)
        }
    }

    // MARK: Splitting

    /// One top-level expression: its text without comments, the comment lines before it,
    /// and the line it starts on.
    struct Expression {
        var bytes: [UInt8] = []
        var comments: [String] = []
        var line = 0
    }

    static func split(_ text: String) throws(QAPIError) -> [Expression] {
        let b = Array(text.utf8)
        var expressions: [Expression] = []
        var current = Expression()
        var comments: [String] = []
        var depth = 0
        var inString = false
        var line = 1
        var i = 0
        while i < b.count {
            let c = b[i]
            if inString {
                current.bytes.append(c)
                if c == UInt8(ascii: "\\"), i + 1 < b.count {
                    current.bytes.append(b[i + 1])
                    i += 2
                    continue
                }
                if c == UInt8(ascii: "'") { inString = false }
                if c == UInt8(ascii: "\n") { throw QAPIError(line: line, message: "unterminated string") }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "#"):
                let start = i
                while i < b.count, b[i] != UInt8(ascii: "\n") { i += 1 }
                comments.append(String(decoding: b[start..<i], as: UTF8.self))
                continue
            case UInt8(ascii: "\n"):
                line += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "{") where depth == 0:
                current = Expression(comments: comments, line: line)
                comments = []
                depth = 1
            case _ where depth == 0:
                throw QAPIError(line: line, message: "expected '{' to start a definition")
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: "'"):
                inString = true
            default:
                break
            }
            if depth > 0 || c == UInt8(ascii: "}") { current.bytes.append(c) }
            if depth == 0, c == UInt8(ascii: "}") {
                expressions.append(current)
                current = Expression()
            }
            i += 1
        }
        if depth > 0 || inString { throw QAPIError(line: current.line, message: "unterminated definition") }
        return expressions
    }

    /// The version of a `Since:` (or `Since`) section in a doc comment: the leading digits
    /// and dots, so `Since: 2.2; ...` gives `2.2`. Indented lines belong to member
    /// descriptions and are not sections.
    static func since(in comments: [String]) -> String? {
        var found: String?
        for comment in comments {
            guard comment.hasPrefix("# Since") else { continue }
            var rest = comment.dropFirst("# Since".count)
            if rest.first == ":" { rest = rest.dropFirst() }
            let version = rest.drop { $0 == " " }.prefix { $0.isNumber || $0 == "." }
            if !version.isEmpty { found = String(version) }
        }
        return found
    }

    // MARK: Definitions

    private mutating func read(_ expression: Expression) throws(QAPIError) {
        let line = expression.line
        func fail(_ message: String) -> QAPIError { QAPIError(line: line, message: message) }

        let value: JSONValue
        do {
            value = try JSONParser.parse(expression.bytes, singleQuotes: true)
        } catch {
            throw fail("not a valid expression: \(error)")
        }
        guard let object = value.object, let meta = object.keys.first else { throw fail("expected an object") }
        if meta == "pragma" { return }
        guard let name = object[meta]?.string else { throw fail("'\(meta)' needs a name") }
        let reader = DefinitionReader(object: object, name: name, line: line)
        let since = Self.since(in: expression.comments)
        let condition = try reader.condition(object["if"])

        switch meta {
        case "command":
            try reader.allow(["command", "data", "returns", "success-response", "features", "allow-oob", "if"])
            let arguments: [Member]
            switch object["data"] {
            case nil: arguments = []
            case .object(let data)?: arguments = try reader.members(data)
            default: throw fail("'data' of a command must be an object of members")
            }
            commands.append(
                CommandInfo(
                    name: name, since: since, arguments: arguments,
                    returns: try object["returns"].map { value throws(QAPIError) in try reader.typeRef(value) },
                    successResponse: try reader.bool("success-response") ?? true,
                    allowOOB: try reader.bool("allow-oob") ?? false,
                    features: try reader.features(), condition: condition))
        case "struct", "type":
            try reader.allow([meta, "data", "base", "features", "if"])
            guard let data = object["data"]?.object else { throw fail("'data' of a struct must be an object") }
            let base = try reader.string("base")
            types.append(
                SchemaType(
                    name: name, since: since, condition: condition,
                    kind: .structure(base: base, members: try reader.members(data))))
        case "enum":
            try reader.allow(["enum", "data", "prefix", "features", "if"])
            guard let data = object["data"]?.array else { throw fail("'data' of an enum must be an array") }
            var values: [EnumValue] = []
            for item in data {
                switch item {
                case .string(let value): values.append(EnumValue(value))
                case .object(let value):
                    guard let valueName = value["name"]?.string else { throw fail("an enum value needs a 'name'") }
                    values.append(EnumValue(valueName, condition: try reader.condition(value["if"])))
                default: throw fail("an enum value must be a string or an object")
                }
            }
            types.append(SchemaType(name: name, since: since, condition: condition, kind: .enumeration(values)))
        case "union":
            try reader.allow(["union", "base", "discriminator", "data", "features", "if"])
            guard let discriminator = try reader.string("discriminator") else {
                throw fail("a union needs a 'discriminator'")
            }
            var baseType: String?
            var baseMembers: [Member] = []
            switch object["base"] {
            case .string(let base)?: baseType = base
            case .object(let members)?: baseMembers = try reader.members(members)
            default: throw fail("'base' of a union must be a struct's name or an object of members")
            }
            types.append(
                SchemaType(
                    name: name, since: since, condition: condition,
                    kind: .union(
                        baseType: baseType, baseMembers: baseMembers, discriminator: discriminator,
                        branches: try reader.variants())))
        case "alternate":
            try reader.allow(["alternate", "data", "features", "if"])
            types.append(
                SchemaType(name: name, since: since, condition: condition, kind: .alternate(try reader.variants())))
        case "event":
            return
        default:
            throw fail("unknown definition '\(meta)'")
        }
    }
}

/// Reads the parts of one definition, with errors that name it.
private struct DefinitionReader {
    let object: JSONObject
    let name: String
    let line: Int

    func fail(_ message: String) -> QAPIError { QAPIError(line: line, message: "\(name): \(message)") }

    func allow(_ keys: [String]) throws(QAPIError) {
        for key in object.keys where !keys.contains(key) {
            throw fail("unknown key '\(key)'")
        }
    }

    func string(_ key: String) throws(QAPIError) -> String? {
        guard let value = object[key] else { return nil }
        guard let string = value.string else { throw fail("'\(key)' must be a string") }
        return string
    }

    func bool(_ key: String) throws(QAPIError) -> Bool? {
        guard let value = object[key] else { return nil }
        guard let bool = value.bool else { throw fail("'\(key)' must be true or false") }
        return bool
    }

    /// `'T'` or `['T']`.
    func typeRef(_ value: JSONValue) throws(QAPIError) -> TypeRef {
        switch value {
        case .string(let type): return .named(type)
        case .array(let items):
            guard items.count == 1, let type = items[0].string else {
                throw fail("an array type is written ['T'] with one type name")
            }
            return .array(type)
        default: throw fail("a type must be a name or ['name']")
        }
    }

    /// `'SYMBOL'`, `{'all': [...]}`, `{'any': [...]}` or `{'not': ...}`; nil when absent.
    func condition(_ value: JSONValue?) throws(QAPIError) -> Condition? {
        guard let value else { return nil }
        switch value {
        case .string(let symbol): return .config(symbol)
        case .object(let object) where object.count == 1:
            let (key, inner) = (object.members[0].key, object.members[0].value)
            switch key {
            case "not":
                guard let condition = try condition(inner) else { throw fail("empty 'not'") }
                return .not(condition)
            case "all", "any":
                guard let items = inner.array, !items.isEmpty else { throw fail("'\(key)' needs a non-empty array") }
                var conditions: [Condition] = []
                for item in items {
                    if let condition = try condition(item) { conditions.append(condition) }
                }
                return key == "all" ? .all(conditions) : .any(conditions)
            default: throw fail("unknown condition '\(key)'")
            }
        default: throw fail("a condition must be a name or an object with 'all', 'any' or 'not'")
        }
    }

    /// `{'name': 'T', '*optional': ['T'], 'member': {'type': 'T', 'if': ...}}`.
    func members(_ data: JSONObject) throws(QAPIError) -> [Member] {
        var members: [Member] = []
        for member in data {
            let optional = member.key.hasPrefix("*")
            let memberName = optional ? String(member.key.dropFirst()) : member.key
            let (type, condition) = try typeAndCondition(member.value)
            members.append(Member(memberName, type, optional: optional, condition: condition))
        }
        return members
    }

    /// The branches of a union or an alternate, from `data`.
    func variants() throws(QAPIError) -> [Variant] {
        guard let data = object["data"]?.object else { throw fail("'data' must be an object of branches") }
        var variants: [Variant] = []
        for branch in data {
            let (type, condition) = try typeAndCondition(branch.value)
            variants.append(Variant(branch.key, type, condition: condition))
        }
        return variants
    }

    /// `features`: names, or objects with a `name` (and an `if` this catalogue drops).
    func features() throws(QAPIError) -> [String] {
        guard let value = object["features"] else { return [] }
        guard let items = value.array else { throw fail("'features' must be an array") }
        var names: [String] = []
        for item in items {
            guard let feature = item.string ?? item["name"]?.string else { throw fail("a feature needs a name") }
            names.append(feature)
        }
        return names
    }

    private func typeAndCondition(_ value: JSONValue) throws(QAPIError) -> (TypeRef, Condition?) {
        if let object = value.object {
            guard let type = object["type"] else { throw fail("a member written as an object needs a 'type'") }
            return (try typeRef(type), try condition(object["if"]))
        }
        return (try typeRef(value), nil)
    }
}
