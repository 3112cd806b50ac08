import QGAProtocol

/// Converts `exec`'s `NAME=VALUE` text to the schema's types and checks JSON values against
/// them, from the catalogue. Types are looked up one at a time (`Catalogue.type`), only for
/// the command at hand: nothing is built at start-up.
enum SchemaCheck {
    /// A value that does not fit its type: where it is (`vcpus[0].online`) and why.
    struct Mismatch: Error, Equatable {
        var path: String
        var problem: String
        var message: String { "\(path) \(problem)" }
    }

    /// What a type resolves to: a builtin, a type of the catalogue, or a name neither knows
    /// (accepted as anything: a newer schema may use it).
    enum Resolved {
        case builtin(Builtin)
        case schema(SchemaType)
        case unknown
    }

    static func resolve(_ name: String) -> Resolved {
        if let builtin = Builtin(rawValue: name) { return .builtin(builtin) }
        if let type = Catalogue.type(name) { return .schema(type) }
        return .unknown
    }

    // MARK: NAME=VALUE

    /// The value `text` stands for as a `type` (an array's element type for an array), or
    /// nil when it is not one. Alternates take the first branch the text fits, trying
    /// booleans, numbers and null before strings and enums: `capture-output=true` is the
    /// boolean, `capture-output=stdout` the enum value.
    static func convert(_ text: String, to typeName: String) -> JSONValue? {
        switch resolve(typeName) {
        case .unknown: return .string(text)
        case .builtin(let builtin): return convert(text, to: builtin)
        case .schema(let type):
            switch type.kind {
            case .enumeration(let values):
                return values.contains { $0.name == text } ? .string(text) : nil
            case .alternate(let branches):
                let stringLike = branches.filter { takesString($0.type) }
                for branch in branches.filter({ !takesString($0.type) }) + stringLike where !branch.type.isArray {
                    if let value = convert(text, to: branch.type.name) { return value }
                }
                return nil
            case .structure, .union:
                return nil
            }
        }
    }

    private static func convert(_ text: String, to builtin: Builtin) -> JSONValue? {
        switch builtin {
        case .str, .any: return .string(text)
        case .bool:
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return nil
            }
        case .null: return text == "null" ? .null : nil
        case .number: return JSONNumber(text).map { .number($0) }
        default:
            guard let number = integer(text, builtin) else { return nil }
            return .number(number)
        }
    }

    /// Whether a branch of an alternate travels as a JSON string.
    private static func takesString(_ type: TypeRef) -> Bool {
        if type.isArray { return false }
        switch resolve(type.name) {
        case .builtin(let builtin): return builtin == .str || builtin == .any
        case .schema(let schema):
            if case .enumeration = schema.kind { return true }
            return false
        case .unknown: return true
        }
    }

    // MARK: JSON values

    /// Throws the first place where `value` does not fit `type`.
    static func check(_ value: JSONValue, against type: TypeRef, at path: String) throws(Mismatch) {
        if type.isArray {
            guard let elements = value.array else {
                throw Mismatch(path: path, problem: "must be an array of \(type.name), not \(value.kindName)")
            }
            for (index, element) in elements.enumerated() {
                try check(element, against: .named(type.name), at: "\(path)[\(index)]")
            }
            return
        }
        switch resolve(type.name) {
        case .unknown: return
        case .builtin(let builtin): try check(value, against: builtin, at: path)
        case .schema(let schema): try check(value, against: schema, at: path)
        }
    }

    private static func check(_ value: JSONValue, against builtin: Builtin, at path: String) throws(Mismatch) {
        let fits: Bool
        switch builtin {
        case .any: fits = true
        case .str: fits = value.string != nil
        case .bool: fits = value.bool != nil
        case .null: fits = value == .null
        case .number: fits = value.number != nil
        default:
            guard let number = value.number else {
                fits = false
                break
            }
            guard integer(number.text, builtin) != nil else {
                throw Mismatch(path: path, problem: "must be \(rangeText(builtin)), not \(number.text)")
            }
            fits = true
        }
        if !fits { throw Mismatch(path: path, problem: "must be \(article(builtin)), not \(value.kindName)") }
    }

    private static func check(_ value: JSONValue, against type: SchemaType, at path: String) throws(Mismatch) {
        switch type.kind {
        case .enumeration(let values):
            guard let text = value.string, values.contains(where: { $0.name == text }) else {
                let found = value.string.map { "'\($0)'" } ?? value.kindName
                throw Mismatch(path: path, problem: "must be one of \(values.map(\.name).joined(separator: ", ")), not \(found)")
            }
        case .alternate(let branches):
            guard let branch = branches.first(where: { fitsKind(value, $0.type) }) else {
                throw Mismatch(path: path, problem: "must be \(alternateText(branches)), not \(value.kindName)")
            }
            try check(value, against: branch.type, at: path)
        case .structure, .union:
            guard let object = value.object else {
                throw Mismatch(path: path, problem: "must be an object (\(type.name)), not \(value.kindName)")
            }
            let members = try self.members(of: type, in: object, at: path)
            try check(object, against: members, at: path, typeName: type.name)
        }
    }

    /// Checks an object's members: none unknown, each of its type, none required missing.
    static func check(_ object: JSONObject, against members: [Member], at path: String, typeName: String) throws(Mismatch) {
        let prefix = path.isEmpty ? "" : path + "."
        for member in object where !members.contains(where: { $0.name == member.key }) {
            throw Mismatch(
                path: path.isEmpty ? member.key : path,
                problem: path.isEmpty
                    ? "is not an argument"
                    : "has no member '\(member.key)' (\(typeName) has \(members.map(\.name).joined(separator: ", ")))")
        }
        for member in members {
            if let value = object[member.name] {
                try check(value, against: member.type, at: prefix + member.name)
            } else if !member.optional {
                throw Mismatch(path: prefix + member.name, problem: "is required (\(member.type))")
            }
        }
    }

    /// A struct's members or a union's common ones, base first, whatever the value.
    static func members(of type: SchemaType) -> [Member] {
        switch type.kind {
        case .structure(let base, let own): Catalogue.structMembers(base) + own
        case .union(let baseType, let baseMembers, _, _): Catalogue.structMembers(baseType) + baseMembers
        case .enumeration, .alternate: []
        }
    }

    /// The members `object` may have as a `type`: `members(of:)`, and for a union those of
    /// the branch its discriminator's value picks (checked first).
    static func members(of type: SchemaType, in object: JSONObject, at path: String) throws(Mismatch) -> [Member] {
        var members = Self.members(of: type)
        switch type.kind {
        case .structure, .enumeration, .alternate:
            return members
        case .union(_, _, let discriminator, let branches):
            guard let tag = object[discriminator] else { return members }
            guard let tagType = members.first(where: { $0.name == discriminator })?.type else { return members }
            let prefix = path.isEmpty ? "" : path + "."
            try check(tag, against: tagType, at: prefix + discriminator)
            if let branch = branches.first(where: { $0.name == tag.string }), case .schema(let variant) = resolve(branch.type.name) {
                members += try self.members(of: variant, in: object, at: path)
            }
            return members
        }
    }

    /// Whether `value`'s JSON kind is the one `type` travels as (how QAPI tells an
    /// alternate's branches apart).
    private static func fitsKind(_ value: JSONValue, _ type: TypeRef) -> Bool {
        if type.isArray { return value.array != nil }
        switch resolve(type.name) {
        case .unknown: return true
        case .builtin(let builtin):
            switch builtin {
            case .any: return true
            case .str: return value.string != nil
            case .bool: return value.bool != nil
            case .null: return value == .null
            default: return value.number != nil
            }
        case .schema(let schema):
            switch schema.kind {
            case .enumeration: return value.string != nil
            case .structure, .union: return value.object != nil
            case .alternate(let branches): return branches.contains { fitsKind(value, $0.type) }
            }
        }
    }

    // MARK: Integers

    /// `text` as a JSON integer within `builtin`'s range (QEMU refuses `1.0` and `1e3` for
    /// integer members); nil otherwise.
    static func integer(_ text: String, _ builtin: Builtin) -> JSONNumber? {
        let digits = text.first == "-" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        switch builtin {
        case .uint64, .size:
            return UInt64(text).map { JSONNumber($0) }
        default:
            guard let value = Int64(text), let range = signedRange(builtin), range.contains(value) else { return nil }
            return JSONNumber(value)
        }
    }

    private static func signedRange(_ builtin: Builtin) -> ClosedRange<Int64>? {
        switch builtin {
        case .int, .int64: Int64.min...Int64.max
        case .int8: Int64(Int8.min)...Int64(Int8.max)
        case .int16: Int64(Int16.min)...Int64(Int16.max)
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .uint8: 0...Int64(UInt8.max)
        case .uint16: 0...Int64(UInt16.max)
        case .uint32: 0...Int64(UInt32.max)
        default: nil
        }
    }

    // MARK: Wording

    /// `an int`, `a bool`, `a str`: what a value of a builtin must be.
    static func article(_ builtin: Builtin) -> String {
        switch builtin {
        case .int, .int8, .int16, .int32, .int64, .any: "an \(builtin.rawValue)"
        case .null: "null"
        default: "a \(builtin.rawValue)"
        }
    }

    /// An integer type with its range when narrower than int's: `a uint8 (0 to 255)`.
    static func rangeText(_ builtin: Builtin) -> String {
        if builtin == .int || builtin == .int64 { return article(builtin) }
        if let range = signedRange(builtin) { return "\(article(builtin)) (\(range.lowerBound) to \(range.upperBound))" }
        return "\(article(builtin)) (0 to \(UInt64.max))"
    }

    /// `bool or GuestExecCaptureOutputMode (none, stdout, ...)`.
    static func alternateText(_ branches: [Variant]) -> String {
        branches.map { typeText($0.type) }.joined(separator: " or ")
    }

    /// What a type accepts, in a few words: `int`, `[str]`, `QGASeek (set, cur, end)`,
    /// `bool or GuestExecCaptureOutputMode (...)`.
    static func typeText(_ type: TypeRef) -> String {
        guard !type.isArray, case .schema(let schema) = resolve(type.name) else { return type.description }
        switch schema.kind {
        case .enumeration(let values): return "\(type.name) (\(values.map(\.name).joined(separator: ", ")))"
        case .alternate(let branches): return alternateText(branches)
        case .structure, .union: return "\(type.name) (an object)"
        }
    }
}
