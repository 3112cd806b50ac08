import QGAClient
import QGAProtocol
import QGASystem

/// A domain's guest agent reached through libvirt (`virDomainQemuAgentCommand`). libvirt
/// owns the channel and syncs with the agent itself, so qga does not sync a second time.
public final class LibvirtAgent: AgentConnection {
    public let domain: LibvirtDomain
    public let label: String

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

    public init(domain: LibvirtDomain) {
        self.domain = domain
        label = domain.name
    }

    public func execute(_ request: Request, options: CallOptions) throws(ClientError) -> Reply? {
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
        let text: String
        do {
            text = try domain.agentCommand(json, timeoutSeconds: seconds)
        } catch let error where !expectsReply && error.code == .notResponding {
            // A command that replies only on error timed out waiting for one: it succeeded.
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
        try domain.fsFreeze(mountpoints: mountpoints, deadlineSeconds: options.seconds(for: "guest-fsfreeze-freeze"))
    }

    public func thaw(options: CallOptions) throws(ClientError) -> Int {
        try domain.fsThaw(deadlineSeconds: options.seconds(for: "guest-fsfreeze-thaw"))
    }

    /// Power-off and reboot go through libvirt's agent mode (`virDomainShutdownFlags`,
    /// `virDomainReboot`), so that libvirt knows; its API has no halt, which goes to the agent.
    public func shutdown(_ mode: ShutdownMode, options: CallOptions) throws(ClientError) {
        let deadline = LibvirtAgent.lifecycleSeconds(options)
        switch mode {
        case .powerdown: try domain.shutdown(acpi: false, deadlineSeconds: deadline)
        case .reboot: try domain.reboot(acpi: false, deadlineSeconds: deadline)
        case .halt: try guestShutdown(.halt, options: options)
        }
    }

    /// How long libvirt may take over a shutdown or reboot request: the agent's time, and a
    /// minute for libvirt itself.
    public static func lifecycleSeconds(_ options: CallOptions) -> Double {
        options.seconds(for: "guest-shutdown") + 60
    }
}
