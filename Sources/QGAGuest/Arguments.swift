import QGAProtocol

extension AgentError {
    /// A `GenericError` reply.
    static func generic(_ desc: String) -> AgentError { AgentError(errorClass: "GenericError", desc: desc) }
}

/// A command's arguments, read with QEMU's wording for what is missing, mistyped or
/// unexpected, so that clients matching on those messages keep working.
///
/// Like QEMU's QAPI visitors, the initialiser checks every declared member in the
/// order given (missing, then type, list elements and nested objects included, each
/// error naming its path such as `vcpus[0].online`), and only then reports a member that
/// is not declared. All of it happens before a handler acts on anything. A member's
/// type comes from `Arguments.schema`; a name missing there is checked by its accessor.
struct Arguments {
    private let object: JSONObject

    /// Checks the members named in `allowed` (in that order), then that no other is present.
    init(_ object: JSONObject?, allowed: [String]) throws(AgentError) {
        self.object = object ?? JSONObject()
        try Arguments.check(self.object, members: allowed, path: "")
    }

    /// What a member must hold (QAPI's types, as qemu-ga 7.2 declares them).
    indirect enum Kind: Sendable {
        case string, integer, boolean
        /// QAPI's uint64: any integer (a negative one wraps, as in QEMU).
        case uint64
        case list(Kind)
        /// A struct with these members (types from `schema` too).
        case object([String])
        /// An alternate of an integer and an enum with these names.
        case integerOrEnum(type: String, names: [String])
        /// Checked by the handler (only its presence is checked here).
        case unchecked
    }

    struct Member: Sendable {
        let kind: Kind
        let required: Bool
        init(_ kind: Kind, required: Bool = false) {
            self.kind = kind
            self.required = required
        }
    }

    /// Every argument member of qemu-ga 7.2's schema that qgad takes, by name: each name
    /// has one type and is either required or optional wherever it appears.
    static let schema: [String: Member] = [
        // guest-sync, guest-sync-delimited, guest-set-time, guest-shutdown
        "id": Member(.integer, required: true), "time": Member(.integer), "mode": Member(.string),
        // guest-file-*
        "path": Member(.string, required: true), "handle": Member(.integer, required: true), "count": Member(.integer),
        "buf-b64": Member(.string, required: true), "offset": Member(.integer, required: true),
        "whence": Member(.integerOrEnum(type: "GuestFileWhence", names: ["set", "cur", "end"]), required: true),
        // guest-fsfreeze-freeze-list, guest-fstrim
        "mountpoints": Member(.list(.string)), "minimum": Member(.integer),
        // guest-exec, guest-exec-status
        "arg": Member(.list(.string)), "env": Member(.list(.string)), "input-data": Member(.string),
        "capture-output": Member(.unchecked), "pid": Member(.integer, required: true),
        // guest-set-vcpus, guest-set-memory-blocks
        "vcpus": Member(.list(.object(["logical-id", "online", "can-offline"])), required: true),
        "mem-blks": Member(.list(.object(["phys-index", "online", "can-offline"])), required: true),
        "logical-id": Member(.integer, required: true), "phys-index": Member(.uint64, required: true),
        "online": Member(.boolean, required: true), "can-offline": Member(.boolean),
        // guest-set-user-password, guest-ssh-*
        "username": Member(.string, required: true), "password": Member(.string, required: true),
        "crypted": Member(.boolean, required: true), "keys": Member(.list(.string), required: true),
        "reset": Member(.boolean),
    ]

    /// QAPI's order: each declared member, then anything undeclared.
    private static func check(_ object: JSONObject, members: [String], path: String) throws(AgentError) {
        for name in members {
            guard let member = schema[name] else { continue }
            guard let value = object[name] else {
                if member.required { throw .generic("Parameter '\(path + name)' is missing") }
                continue
            }
            try check(value, member.kind, path: path + name)
        }
        for key in object.keys where !members.contains(key) {
            throw .generic("Parameter '\(path + key)' is unexpected")
        }
    }

    private static func check(_ value: JSONValue, _ kind: Kind, path: String) throws(AgentError) {
        switch kind {
        case .string:
            guard value.string != nil else { throw typeError(path, "string") }
        case .integer:
            guard value.number?.int64 != nil else { throw typeError(path, "integer") }
        case .boolean:
            guard value.bool != nil else { throw typeError(path, "boolean") }
        case .uint64:
            guard let n = value.number, n.int64 != nil || n.uint64 != nil else {
                throw .generic("Parameter '\(path)' expects uint64")
            }
        case .list(let element):
            guard let array = value.array else { throw typeError(path, "array") }
            for (i, item) in array.enumerated() { try check(item, element, path: "\(path)[\(i)]") }
        case .object(let members):
            guard let object = value.object else { throw typeError(path, "object") }
            try check(object, members: members, path: path + ".")
        case .integerOrEnum(let type, let names):
            switch value {
            case .number(let n): guard n.int64 != nil else { throw typeError(path, "integer") }
            case .string(let s): guard names.contains(s) else { throw .generic("Parameter '\(path)' does not accept value '\(s)'") }
            default: throw typeError(path, type)
            }
        case .unchecked:
            break
        }
    }

    private static func typeError(_ path: String, _ expected: String) -> AgentError {
        .generic("Invalid parameter type for '\(path)', expected: \(expected)")
    }

    private func value(_ name: String) throws(AgentError) -> JSONValue {
        guard let value = object[name] else { throw .generic("Parameter '\(name)' is missing") }
        return value
    }

    private func typeError(_ name: String, _ expected: String) -> AgentError { Arguments.typeError(name, expected) }

    func has(_ name: String) -> Bool { object[name] != nil }

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
    func raw(_ name: String) -> JSONValue? { object[name] }
}

extension JSONValue {
    /// An integer JSON value.
    static func int<T: BinaryInteger>(_ v: T) -> JSONValue { .number(JSONNumber(Int64(v))) }
    static func uint(_ v: UInt64) -> JSONValue { .number(JSONNumber(v)) }
    /// A floating-point JSON value (finite; rounding as Swift's description does).
    static func double(_ v: Double) -> JSONValue {
        .number(JSONNumber(v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? "\(Int64(v)).0" : "\(v)") : "0") ?? JSONNumber(0))
    }
}
