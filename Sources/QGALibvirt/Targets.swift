import QGAClient

/// A target resolved to a way of reaching its agent, and to its libvirt domain if it is one.
public struct ResolvedTarget {
    public let agent: any AgentConnection
    /// The libvirt domain, for targets that name one (lifecycle and snapshots need it).
    public let domain: LibvirtDomain?
}

/// How `-c/--connect` and `--channel` shape the resolution of a target.
public struct LibvirtOptions: Sendable {
    /// The libvirt URI; nil means `LIBVIRT_DEFAULT_URI`, then `qemu:///system`.
    public var uri: String?
    /// The agent channel to use (`org.qemu.guest_agent.N`); nil picks one.
    public var channel: String?
    public init(uri: String? = nil, channel: String? = nil) {
        self.uri = uri
        self.channel = channel
    }
}

/// Resolves `target`: sockets directly; a libvirt domain through libvirt when libvirt owns
/// its agent channel (`org.qemu.guest_agent.0`), or directly through the socket its XML
/// names for another agent channel.
public func resolve(
    _ target: Target, libvirt: LibvirtOptions, options: CallOptions, environment: (String) -> String?
) throws(ClientError) -> ResolvedTarget {
    guard case .domain(let name) = target else {
        return ResolvedTarget(agent: try connect(to: target, options: options), domain: nil)
    }
    let uri = libvirt.uri ?? LibvirtConnection.defaultURI(environment: environment)
    let domain = try LibvirtConnection(uri: uri, callSeconds: options.libvirtSeconds).domain(name)
    let channels = AgentChannel.all(inDomainXML: try domain.xml())
    let chosen: AgentChannel
    if let wanted = libvirt.channel {
        guard let match = channels.first(where: { $0.name == wanted }) else {
            let have = channels.isEmpty ? "none" : channels.map(\.name).joined(separator: ", ")
            throw ClientError(.unreachable, "\(name): no guest agent channel named \(wanted) (it has: \(have))")
        }
        chosen = match
    } else if let managed = channels.first(where: \.isLibvirtManaged) {
        chosen = managed
    } else if let other = channels.first(where: { $0.type == "unix" && $0.path != nil }) {
        chosen = other
    } else {
        throw ClientError(.unreachable, "\(name): QEMU guest agent is not configured (the domain has no org.qemu.guest_agent channel)")
    }
    if chosen.isLibvirtManaged {
        return ResolvedTarget(agent: LibvirtAgent(domain: domain), domain: domain)
    }
    guard chosen.type == "unix", let path = chosen.path else {
        throw ClientError(.unreachable, "\(name): channel \(chosen.name) is not a unix socket qga can reach")
    }
    return ResolvedTarget(agent: try AgentSession(unixPath: path, options: options), domain: domain)
}

extension CallOptions {
    /// How long each libvirt call that does not involve the guest (connecting, lookups,
    /// XML, state) may take: the user's --timeout, else 30 s.
    public var libvirtSeconds: Double { timeout?.inSeconds ?? LibvirtConnection.defaultCallSeconds }
}
