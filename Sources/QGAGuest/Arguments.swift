import QGAProtocol

extension AgentError {
    /// A `GenericError` reply.
    static func generic(_ desc: String) -> AgentError { AgentError(errorClass: "GenericError", desc: desc) }
}

/// A command's arguments, read with QEMU's wording for what is missing, mistyped or
/// unexpected, so that clients matching on those messages keep working.
struct Arguments {
    private let object: JSONObject

    /// Checks that only `allowed` members are present.
    init(_ object: JSONObject?, allowed: [String]) throws(AgentError) {
        self.object = object ?? JSONObject()
        for key in self.object.keys where !allowed.contains(key) {
            throw .generic("Parameter '\(key)' is unexpected")
        }
    }

    private func value(_ name: String) throws(AgentError) -> JSONValue {
        guard let value = object[name] else { throw .generic("Parameter '\(name)' is missing") }
        return value
    }

    private func typeError(_ name: String, _ expected: String) -> AgentError {
        .generic("Invalid parameter type for '\(name)', expected: \(expected)")
    }

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
        for element in array {
            guard let s = element.string else { throw typeError(name, "string") }
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
        for element in array {
            guard let o = element.object else { throw typeError(name, "object") }
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
