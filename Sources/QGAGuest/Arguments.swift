import QGAProtocol

extension AgentError {
    /// A `GenericError` reply.
    static func generic(_ desc: String) -> AgentError { AgentError(errorClass: "GenericError", desc: desc) }
}

/// A command's arguments, checked against its catalogue entry before the handler runs,
/// with QEMU's wording for what is missing, mistyped or unexpected, so that clients
/// matching on those messages keep working.
///
/// Like QEMU's QAPI visitors, the check takes each declared member in schema order
/// (missing, then type, list elements, structs and alternates included, each error naming
/// its path such as `vcpus[0].online`), and only then reports a member that is not
/// declared. Handlers read the checked values through the accessors below.
struct Arguments {
    private let object: JSONObject?

    /// Checks `object` against the members of `handler`'s catalogue entry.
    init(_ object: JSONObject?, for handler: Handler) throws(AgentError) {
        if let object {
            try Arguments.check(object, members: handler.info.arguments, path: "")
        } else if let required = handler.firstRequired {
            throw .generic("Parameter '\(required)' is missing")
        }
        self.object = object
    }

    /// A struct inside arguments that were checked already (an element of `vcpus`, say).
    init(checked object: JSONObject) {
        self.object = object
    }

    /// QAPI's order: each declared member, then anything undeclared.
    private static func check(_ object: JSONObject, members: [Member], path: String) throws(AgentError) {
        for member in members where member.holdsOnLinux {
            guard let value = object[member.name] else {
                if !member.optional { throw .generic("Parameter '\(path + member.name)' is missing") }
                continue
            }
            try check(value, member.type, path: path + member.name)
        }
        for key in object.keys where !members.contains(where: { $0.name == key && $0.holdsOnLinux }) {
            throw .generic("Parameter '\(path + key)' is unexpected")
        }
    }

    private static func check(_ value: JSONValue, _ type: TypeRef, path: String) throws(AgentError) {
        guard type.isArray else { return try check(value, named: type.name, path: path) }
        guard let array = value.array else { throw typeError(path, "array") }
        for (i, item) in array.enumerated() { try check(item, named: type.name, path: "\(path)[\(i)]") }
    }

    private static func check(_ value: JSONValue, named name: String, path: String) throws(AgentError) {
        if let builtin = Builtin(rawValue: name) { return try check(value, builtin, path: path) }
        // Every name the generated catalogue references resolves (CatalogueTests).
        guard let type = Catalogue.type(name) else { throw .generic("Parameter '\(path)': unknown type \(name)") }
        switch type.kind {
        case .enumeration(let values):
            guard let text = value.string else { throw typeError(path, "string") }
            guard values.contains(where: { $0.name == text && ($0.condition?.holdsOnLinux ?? true) }) else {
                throw .generic("Parameter '\(path)' does not accept value '\(text)'")
            }
        case .structure(let base, let members):
            guard let object = value.object else { throw typeError(path, "object") }
            try check(object, members: Catalogue.structMembers(base) + members, path: path + ".")
        case .union(let baseType, let baseMembers, let discriminator, let branches):
            guard let object = value.object else { throw typeError(path, "object") }
            var members = Catalogue.structMembers(baseType) + baseMembers
            // The discriminator is checked (as an enum) with the base; its branch adds members.
            if let tag = object[discriminator]?.string, let branch = branches.first(where: { $0.name == tag }) {
                members += Catalogue.structMembers(branch.type.name)
            }
            try check(object, members: members, path: path + ".")
        case .alternate(let branches):
            // QAPI picks the branch by the value's JSON kind.
            guard let branch = branches.first(where: { accepts($0.type, value) }) else { throw typeError(path, name) }
            try check(value, branch.type, path: path)
        }
    }

    /// Whether an alternate's branch of `type` takes a value of this JSON kind.
    private static func accepts(_ type: TypeRef, _ value: JSONValue) -> Bool {
        if type.isArray { return value.array != nil }
        if let builtin = type.builtin {
            switch value {
            case .number: return builtin.isInteger || builtin == .number
            case .string: return builtin == .str
            case .bool: return builtin == .bool
            case .null: return builtin == .null
            default: return builtin == .any
            }
        }
        switch Catalogue.type(type.name)?.kind {
        case .enumeration: return value.string != nil
        case .structure, .union: return value.object != nil
        case .alternate, nil: return false
        }
    }

    private static func check(_ value: JSONValue, _ builtin: Builtin, path: String) throws(AgentError) {
        switch builtin {
        case .str:
            guard value.string != nil else { throw typeError(path, "string") }
        case .bool:
            guard value.bool != nil else { throw typeError(path, "boolean") }
        case .number:
            guard value.number != nil else { throw typeError(path, "number") }
        case .null:
            guard case .null = value else { throw typeError(path, "null") }
        case .any:
            break
        case .int, .int64:
            guard value.number?.int64 != nil else { throw typeError(path, "integer") }
        case .int8, .int16, .int32:
            guard let n = value.number?.int64 else { throw typeError(path, "integer") }
            let bits = builtin == .int8 ? 8 : builtin == .int16 ? 16 : 32
            guard n >= -(Int64(1) << (bits - 1)), n < Int64(1) << (bits - 1) else {
                throw .generic("Parameter '\(path)' expects \(builtin.rawValue)")
            }
        case .uint64, .size:
            // As QEMU: any integer (a negative one wraps, for compatibility).
            guard let n = value.number, n.int64 != nil || n.uint64 != nil else {
                throw .generic("Parameter '\(path)' expects \(builtin.rawValue)")
            }
        case .uint8, .uint16, .uint32:
            let bits = builtin == .uint8 ? 8 : builtin == .uint16 ? 16 : 32
            guard let n = value.number, let v = n.uint64 ?? n.int64.map({ UInt64(bitPattern: $0) }), v < UInt64(1) << bits else {
                throw .generic("Parameter '\(path)' expects \(builtin.rawValue)")
            }
        }
    }

    private static func typeError(_ path: String, _ expected: String) -> AgentError {
        .generic("Invalid parameter type for '\(path)', expected: \(expected)")
    }

    private func value(_ name: String) throws(AgentError) -> JSONValue {
        guard let value = object?[name] else { throw .generic("Parameter '\(name)' is missing") }
        return value
    }

    private func typeError(_ name: String, _ expected: String) -> AgentError { Arguments.typeError(name, expected) }

    // The accessors read members the check has passed; their errors would only mean that
    // a handler reads a member its catalogue entry does not declare.

    func has(_ name: String) -> Bool { object?[name] != nil }

    func string(_ name: String) throws(AgentError) -> String {
        guard let s = try value(name).string else { throw typeError(name, "string") }
        return s
    }

    func optionalString(_ name: String) throws(AgentError) -> String? {
        has(name) ? try string(name) : nil
    }

    func int(_ name: String) throws(AgentError) -> Int64 {
        guard let n = try value(name).number, let v = n.int64 else { throw typeError(name, "integer") }
        return v
    }

    func optionalInt(_ name: String) throws(AgentError) -> Int64? {
        has(name) ? try int(name) : nil
    }

    func bool(_ name: String) throws(AgentError) -> Bool {
        guard let b = try value(name).bool else { throw typeError(name, "boolean") }
        return b
    }

    func optionalBool(_ name: String) throws(AgentError) -> Bool? {
        has(name) ? try bool(name) : nil
    }

    func strings(_ name: String) throws(AgentError) -> [String] {
        guard let array = try value(name).array else { throw typeError(name, "array") }
        var out: [String] = []
        for (i, element) in array.enumerated() {
            guard let s = element.string else { throw typeError("\(name)[\(i)]", "string") }
            out.append(s)
        }
        return out
    }

    func optionalStrings(_ name: String) throws(AgentError) -> [String]? {
        has(name) ? try strings(name) : nil
    }

    func objects(_ name: String) throws(AgentError) -> [JSONObject] {
        guard let array = try value(name).array else { throw typeError(name, "array") }
        var out: [JSONObject] = []
        for (i, element) in array.enumerated() {
            guard let o = element.object else { throw typeError("\(name)[\(i)]", "object") }
            out.append(o)
        }
        return out
    }

    /// The raw value, for arguments with alternatives (an enum or a bool, say).
    func raw(_ name: String) -> JSONValue? { object?[name] }
}

extension JSONValue {
    /// An integer JSON value; values past Int64's range are clamped, never trapped on.
    static func int<T: BinaryInteger>(_ v: T) -> JSONValue { .number(JSONNumber(Int64(clamping: v))) }
    static func uint(_ v: UInt64) -> JSONValue { .number(JSONNumber(v)) }
    /// A floating-point JSON value (finite; rounding as Swift's description does).
    static func double(_ v: Double) -> JSONValue {
        .number(JSONNumber(v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? "\(Int64(v)).0" : "\(v)") : "0") ?? JSONNumber(0))
    }
}

extension Member {
    /// Whether a Linux build has the member (unconditional, or its `if` holds).
    var holdsOnLinux: Bool { condition?.holdsOnLinux ?? true }
}
