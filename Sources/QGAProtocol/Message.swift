/// A command request: `{"execute": NAME, "arguments": {...}, "id": ...}`.
public struct Request: Sendable, Equatable {
    public var execute: String
    public var arguments: JSONObject?
    /// Echoed back by qemu-ga 4.0 and later; older agents reject it, so it is optional.
    public var id: JSONValue?

    public init(_ execute: String, arguments: JSONObject? = nil, id: JSONValue? = nil) {
        self.execute = execute
        self.arguments = arguments
        self.id = id
    }

    /// Reads a request written out in full, as `virsh qemu-agent-command` takes it. Members
    /// other than `execute`, `arguments` and `id` are refused, as qemu-ga refuses them.
    public init(_ value: JSONValue) throws(ProtocolError) {
        guard let object = value.object else {
            throw ProtocolError(.invalidMessage, "a request must be a JSON object, not \(value.kindName)")
        }
        guard let execute = object["execute"] else {
            throw ProtocolError(.invalidMessage, "the request lacks member 'execute'")
        }
        guard let name = execute.string else {
            throw ProtocolError(.invalidMessage, "'execute' must be a string, not \(execute.kindName)")
        }
        self.execute = name
        if let arguments = object["arguments"] {
            guard let args = arguments.object else {
                throw ProtocolError(.invalidMessage, "'arguments' must be an object, not \(arguments.kindName)")
            }
            self.arguments = args
        }
        self.id = object["id"]
        for key in object.keys where !["execute", "arguments", "id"].contains(key) {
            throw ProtocolError(.invalidMessage, "request member '\(key)' is unexpected")
        }
    }

    /// The request as a JSON object, members in the conventional order.
    public var json: JSONValue {
        var object = JSONObject()
        object.append(key: "execute", value: .string(execute))
        if let arguments { object.append(key: "arguments", value: .object(arguments)) }
        if let id { object.append(key: "id", value: id) }
        return .object(object)
    }

    /// The compact wire form, without a trailing newline.
    public var encoded: [UInt8] { JSONPrinter(layout: .compact).bytes(json) }
}

/// An error reply's payload: `{"class": ..., "desc": ...}`.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `GenericError` or `CommandNotFound` in practice; older agents used more.
    public var errorClass: String
    public var desc: String

    public init(errorClass: String, desc: String) {
        self.errorClass = errorClass
        self.desc = desc
    }

    public var description: String { "\(errorClass): \(desc)" }
}

/// A message from the agent, read from one framed JSON text.
public enum Incoming: Sendable, Equatable {
    /// `{"return": value}`, with the echoed id if any.
    case success(JSONValue, id: JSONValue?)
    /// `{"error": {"class", "desc"}}`, with the echoed id if any.
    case failure(AgentError, id: JSONValue?)
    /// `{"event": name, ...}`: asynchronous, not a reply; clients skip it.
    case event(String)

    /// Interprets a parsed message.
    public init(_ value: JSONValue) throws(ProtocolError) {
        guard let object = value.object else {
            throw ProtocolError(.invalidMessage, "expected a JSON object, got \(value.kindName)")
        }
        let id = object["id"]
        if let result = object["return"] {
            self = .success(result, id: id)
        } else if let error = object["error"] {
            guard let errorObject = error.object else {
                throw ProtocolError(.invalidMessage, "'error' must be an object, not \(error.kindName)")
            }
            // Be lenient about what is missing: the class and description are for people.
            let errorClass = errorObject["class"]?.string ?? "GenericError"
            let desc = errorObject["desc"]?.string ?? errorObject["desc"].map { $0.description } ?? "(no description)"
            self = .failure(AgentError(errorClass: errorClass, desc: desc), id: id)
        } else if let event = object["event"] {
            self = .event(event.string ?? event.description)
        } else {
            throw ProtocolError(.invalidMessage, "reply has neither 'return' nor 'error'")
        }
    }

    /// The id the agent echoed, if any.
    public var id: JSONValue? {
        switch self {
        case .success(_, let id), .failure(_, let id): id
        case .event: nil
        }
    }
}
