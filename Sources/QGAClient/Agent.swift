import QGAProtocol
import QGASystem

/// Time limits and size caps for one call.
public struct CallOptions: Sendable {
    /// qemu-ga allows 64 MiB; the client stops lower unless asked, so that a runaway guest
    /// cannot make it buffer that much.
    public static let defaultMaxReplySize = 16 << 20

    /// How long to wait for the agent to answer the sync that precedes every command.
    public var syncTimeout: Duration = .seconds(5)
    /// How long to wait for the command's reply; nil picks the command's default.
    public var timeout: Duration?
    /// Replies larger than this are refused (exit 4) without being buffered.
    public var maxReplySize: Int = CallOptions.defaultMaxReplySize

    public init() {}

    /// The timeout for `command`: the user's choice, or a default by kind of command.
    public func timeout(for command: String) -> Duration {
        if let timeout { return timeout }
        let info = Catalogue.info(command)
        if info?.successResponse == false { return CallOptions.noReplyGrace }
        return info?.duration == .long ? .seconds(600) : .seconds(30)
    }

    /// The command's timeout plus the sync before it, in seconds: the most one call may take.
    public func seconds(for command: String) -> Double {
        (timeout(for: command) + syncTimeout).inSeconds
    }

    /// How long a command that sends no reply on success gets to send an error instead.
    public static let noReplyGrace: Duration = .seconds(3)

    /// For the calls that clean up after a failed one (closing a handle, removing a partial
    /// file): their sync waits no longer than the user's --timeout, so that an agent that
    /// went silent costs that, not a whole sync timeout, per cleanup step.
    public var forCleanup: CallOptions {
        var options = self
        if let timeout { options.syncTimeout = min(syncTimeout, timeout) }
        return options
    }
}

/// A reply as received: its meaning and the exact bytes the agent sent.
public struct Reply: Sendable {
    public let incoming: Incoming
    /// The reply's JSON text exactly as received, without the trailing newline.
    public let raw: [UInt8]

    public init(incoming: Incoming, raw: [UInt8]) {
        self.incoming = incoming
        self.raw = raw
    }
}

/// Something that carries requests to one guest agent and brings back replies: a direct
/// channel (`AgentSession`) or, later, libvirt.
public protocol AgentConnection: AnyObject {
    /// Sends `request` and returns the agent's reply, or nil for a command that sent none
    /// (success for `success-response: false` commands).
    func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply?

    /// Freezes the guest's filesystems (the given mount points, or all); returns how many.
    func freeze(mountpoints: [String], options: CallOptions) throws(ClientError) -> Int

    /// Thaws every frozen filesystem; returns how many.
    func thaw(options: CallOptions) throws(ClientError) -> Int

    /// Asks the guest to power off, halt or reboot; returns once the request is accepted.
    func shutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError)

    /// Where the agent is, for messages.
    var label: String { get }

    /// Whether requests go through libvirt, whose message limits (request and reply size)
    /// then bound what one request may carry.
    var throughLibvirt: Bool { get }

    /// Drops the connection from any thread, so that a call blocked on it fails soon and an
    /// agent that serves one client at a time (qemu-ga, a QEMU chardev) can take the next.
    func cancel()
}

extension AgentConnection {
    /// A direct channel by default.
    public var throughLibvirt: Bool { false }

    /// Nothing to drop by default (libvirt owns its channel and serialises agent calls).
    public func cancel() {}

    public func freeze(mountpoints: [String], options: CallOptions) throws(ClientError) -> Int {
        let value = mountpoints.isEmpty
            ? try call("guest-fsfreeze-freeze", options: options)
            : try call("guest-fsfreeze-freeze-list", arguments: ["mountpoints": .array(mountpoints.map { .string($0) })], options: options)
        return try count(value, of: "guest-fsfreeze-freeze")
    }

    public func thaw(options: CallOptions) throws(ClientError) -> Int {
        try count(try call("guest-fsfreeze-thaw", options: options), of: "guest-fsfreeze-thaw")
    }

    public func shutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError) {
        try guestShutdown(mode, options: options)
    }

    /// `guest-shutdown` with `mode`: how a direct channel shuts down or reboots the guest
    /// (success is silence, so it returns after `CallOptions.noReplyGrace` by default).
    public func guestShutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError) {
        _ = try call("guest-shutdown", arguments: ["mode": .string(mode.rawValue)], options: options)
    }

    private func count(_ value: JSONValue?, of command: String) throws(ClientError) -> Int {
        guard let n = value?.number?.int else {
            throw ClientError(.protocolViolation, "\(label): \(command) returned \(value?.kindName ?? "nothing"), not a count")
        }
        return n
    }

    /// Runs a command and returns its `return` value; error replies become
    /// `ClientError.Code.agentError`.
    public func call(_ command: String, arguments: JSONObject? = nil, options: CallOptions = CallOptions())
        throws(ClientError) -> JSONValue?
    {
        guard let reply = try execute(Request(command, arguments: arguments), options: options) else { return nil }
        switch reply.incoming {
        case .success(let value, _): return value
        case .failure(let error, _): throw ClientError(.agentError(error), error.description)
        case .event: return nil
        }
    }
}

/// How the guest should go down (`guest-shutdown`'s modes).
public enum ShutdownMode: String, Sendable, CaseIterable {
    case powerdown
    case halt
    case reboot
}
