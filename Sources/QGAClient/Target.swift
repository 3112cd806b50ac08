/// Where a guest agent is reached, as written on the command line.
public enum Target: Sendable, Equatable, CustomStringConvertible {
    /// The host end of the agent's channel: a unix socket.
    case unix(path: String)
    /// A vsock address (`vsock:CID:PORT`).
    case vsock(cid: UInt32, port: UInt32)
    /// A libvirt domain by name, UUID or id.
    case domain(String)

    /// Reads a target: anything with a `/` is a socket path, `unix:PATH` and
    /// `vsock:CID:PORT` say what they are, and everything else names a libvirt domain.
    public init(parsing text: String) throws(ClientError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw ClientError(.invalidRequest, "'unix:' needs a socket path after it") }
            self = .unix(path: path)
        } else if text.hasPrefix("vsock:") {
            let parts = text.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let cid = UInt32(parts[0]), let port = UInt32(parts[1]) else {
                throw ClientError(.invalidRequest, "a vsock target is written vsock:CID:PORT, for example vsock:3:1234")
            }
            self = .vsock(cid: cid, port: port)
        } else if text.contains("/") {
            self = .unix(path: text)
        } else {
            guard !text.isEmpty else { throw ClientError(.invalidRequest, "the target is empty") }
            self = .domain(text)
        }
    }

    /// The target written so that `init(parsing:)` reads it back the same (for hints that
    /// show a command to run).
    public var argument: String {
        switch self {
        case .unix(let path): path.contains("/") ? path : "unix:\(path)"
        case .vsock, .domain: description
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): path
        case .vsock(let cid, let port): "vsock:\(cid):\(port)"
        case .domain(let name): name
        }
    }
}
