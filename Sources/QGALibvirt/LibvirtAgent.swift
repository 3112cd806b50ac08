import QGAClient
import QGAProtocol
import QGASystem

/// A domain's guest agent reached through libvirt (`virDomainQemuAgentCommand`). libvirt
/// owns the channel and syncs with the agent itself, so qga does not sync a second time.
///
/// qga asks libvirt first, without reading the domain's XML (one RPC fewer, and libvirtd
/// need not format the whole definition). Only when libvirt refuses because it has no agent
/// channel of its own, or because the domain is not running, does `reroute` look at the
/// XML: it then gives another channel's socket, which serves this and every later call, or
/// says why there is none. libvirt refuses before sending anything to the guest, so the
/// request is sent again without harm.
public final class LibvirtAgent: AgentConnection {
    public let domain: LibvirtDomain
    public let label: String
    /// How to reach the agent when libvirt cannot; nil: libvirt's error stands.
    private let reroute: Reroute?
    public typealias Reroute = @Sendable (_ refusal: ClientError, _ options: CallOptions) throws(ClientError) -> any AgentConnection
    /// The connection `reroute` gave, once it has.
    private var direct: (any AgentConnection)?
    private let lock = DispatchSemaphoreLock()

    /// libvirt passes the reply back as one RPC string of at most 4 MiB
    /// (`REMOTE_STRING_MAX`), and a reply of 10 MiB or more puts the domain's agent into a
    /// permanent error state (`QEMU_AGENT_MAX_RESPONSE`). Requests that would cross either
    /// are refused before they are sent.
    public static let maxRPCString = 4 << 20
    /// The largest `guest-file-read` count whose base64 reply, inside its JSON, fits in one
    /// RPC string (3 MiB exactly does not: libvirt fails to encode it and the data is lost).
    public static let maxReadCount = (3 << 20) - (64 << 10)
    /// The largest request libvirt delivers intact. It writes a request to the agent's
    /// non-blocking socket with `safewrite` (qemuAgentIOWrite), which forgets a partial
    /// write when the socket fills, so the bytes are sent again and the agent never gets a
    /// valid command: a request must fit the socket's send buffer (net.core.wmem_default,
    /// 208 KiB by default) in one go. Measured on libvirt 9.0: 218 KB arrived, 262 KB hung.
    public static let maxRequest = 192 << 10

    public init(domain: LibvirtDomain, reroute: Reroute? = nil) {
        self.domain = domain
        label = domain.name
        self.reroute = reroute
    }

    /// Whether libvirt's refusal says it has no agent of its own to talk to: the domain has
    /// no `org.qemu.guest_agent.0` channel (VIR_ERR_ARGUMENT_UNSUPPORTED, "not configured"),
    /// it is not running, or its driver has no agent API (VIR_ERR_NO_SUPPORT: not QEMU's).
    /// The XML then decides, as it would have before asking: another channel's socket, or
    /// libvirt's error, or qga's "not configured". By code, not by message: libvirt's
    /// messages may be translated.
    static func isNoAgentOfItsOwn(_ error: ClientError) -> Bool {
        guard let cause = error.cause as? LibvirtError else { return false }
        return [ErrorNumber.argumentUnsupported, ErrorNumber.operationInvalid, ErrorNumber.noSupport].contains(cause.code)
    }

    /// Runs `throughLibvirt` unless the agent was rerouted already; after a refusal that
    /// `reroute` handles, runs `elsewhere` on the connection it gives.
    private func routed<T>(
        _ options: CallOptions, _ throughLibvirt: () throws(ClientError) -> T,
        elsewhere: (any AgentConnection) throws(ClientError) -> T
    ) throws(ClientError) -> T {
        if let direct = lock.withLock({ direct }) { return try elsewhere(direct) }
        do {
            return try throughLibvirt()
        } catch where reroute != nil && LibvirtAgent.isNoAgentOfItsOwn(error) {
            guard let reroute else { throw error }
            let connection = try reroute(error, options)
            lock.withLock { direct = connection }
            return try elsewhere(connection)
        }
    }

    /// Through libvirt until a refusal rerouted it to another channel's socket (as far as
    /// is known so far: before the first call, libvirt's limits are the safe guess).
    public var throughLibvirt: Bool { lock.withLock { direct }?.throughLibvirt ?? true }

    /// Drops the rerouted connection, if any (libvirt's own needs nothing).
    public func cancel() {
        lock.withLock { direct }?.cancel()
    }

    public func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        try routed(options, { () throws(ClientError) in try executeThroughLibvirt(request, options: options) }) {
            connection throws(ClientError) in try connection.execute(request, options: options)
        }
    }

    private func executeThroughLibvirt(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
        let json = String(decoding: request.encoded, as: UTF8.self)
        guard json.utf8.count <= LibvirtAgent.maxRequest else {
            throw ClientError(.invalidRequest, "\(label): libvirt cannot deliver a request of \(json.utf8.count) bytes intact (192 KiB at most); split it, or use the agent's socket directly")
        }
        if request.execute == "guest-file-read", let count = request.arguments?["count"]?.number?.int,
            count > LibvirtAgent.maxReadCount
        {
            throw ClientError(.invalidRequest, "\(label): through libvirt, guest-file-read can return at most \(LibvirtAgent.maxReadCount) bytes at once (its reply must fit libvirt's 4 MiB message limit); read in smaller chunks")
        }
        let expectsReply = Catalogue.info(request.execute)?.successResponse ?? true
        let timeout = options.timeout(for: request.execute)
        let seconds = Int32(clamping: Int64(timeout.inSeconds.rounded(.up)))
        if !expectsReply {
            // Silence is how such a command succeeds, but libvirt (up to 9.x at least) words
            // a timeout of its own sync and of the command alike ("Guest agent not available
            // for now"): an agent that never got the command would pass for one that obeyed.
            // An answered guest-ping first says the agent is there, as qga's own sync does
            // on a socket; if it is not, the command is not sent.
            let syncSeconds = Int32(clamping: Int64(options.syncTimeout.inSeconds.rounded(.up)))
            _ = try domain.agentCommand(#"{"execute":"guest-ping"}"#, timeoutSeconds: syncSeconds)
        }
        let text: String
        do {
            text = try domain.agentCommand(json, timeoutSeconds: seconds)
        } catch let error where !expectsReply && (error.code == .notResponding || LibvirtDomain.isAgentEOF(error)) {
            // A command that replies only on error timed out waiting for one, or the guest
            // went down and took the channel with it: it succeeded.
            return nil
        }
        let bytes = Array(text.utf8)
        guard bytes.count <= options.maxReplySize else {
            throw ClientError(.protocolViolation, "\(label): the reply is larger than \(options.maxReplySize) bytes (raise the cap with --max-reply-size)")
        }
        do {
            return Reply(incoming: try Incoming(JSONParser.parse(bytes)), raw: bytes)
        } catch {
            throw ClientError(.protocolViolation, "\(label): malformed reply from libvirt: \(error.message)", cause: error)
        }
    }

    public func freeze(mountpoints: [String], options: CallOptions) throws(ClientError) -> Int {
        try routed(options, { () throws(ClientError) in
            try domain.fsFreeze(mountpoints: mountpoints, deadlineSeconds: options.seconds(for: "guest-fsfreeze-freeze"))
        }) { connection throws(ClientError) in try connection.freeze(mountpoints: mountpoints, options: options) }
    }

    public func thaw(options: CallOptions) throws(ClientError) -> Int {
        try routed(options, { () throws(ClientError) in
            try domain.fsThaw(deadlineSeconds: options.seconds(for: "guest-fsfreeze-thaw"))
        }) { connection throws(ClientError) in try connection.thaw(options: options) }
    }

    /// Power-off and reboot go through libvirt's agent mode (`virDomainShutdownFlags`,
    /// `virDomainReboot`), so that libvirt knows; its API has no halt, which goes to the agent.
    public func shutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError) {
        let deadline = LibvirtAgent.lifecycleSeconds(options)
        switch mode {
        case .powerdown, .reboot:
            try routed(options, { () throws(ClientError) in
                if mode == .reboot {
                    try domain.reboot(acpi: false, deadlineSeconds: deadline)
                } else {
                    try domain.shutdown(acpi: false, deadlineSeconds: deadline)
                }
            }) { connection throws(ClientError) in try connection.shutdown(mode, options: options) }
        case .halt: try guestShutdown(.halt, options: options)
        }
    }

    /// How long libvirt may take over a shutdown or reboot request: the agent's time, and a
    /// minute for libvirt itself.
    public static func lifecycleSeconds(_ options: CallOptions) -> Double {
        options.seconds(for: "guest-shutdown") + 60
    }
}
