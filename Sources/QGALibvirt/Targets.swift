import QGAClient

/// A domain, its chosen agent channel, and a connection to the agent on it.
public struct ResolvedDomain {
    public let domain: LibvirtDomain
    /// The agent channel chosen (`--channel`, else libvirt's own, else the first socket).
    public let channel: AgentChannel
    /// Through libvirt for its own channel; directly at the socket otherwise.
    public let agent: any AgentConnection
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

/// Resolves libvirt domains: the `DomainResolver` the command layer gives QGAClient, and the
/// way to a domain for what only libvirt can do (state, ACPI, snapshots).
public struct LibvirtResolver: DomainResolver {
    public let libvirt: LibvirtOptions
    public let environment: (String) -> String?

    public init(_ libvirt: LibvirtOptions, environment: @escaping (String) -> String?) {
        self.libvirt = libvirt
        self.environment = environment
    }

    public func connect(toDomain name: String, options: CallOptions) throws(ClientError) -> any AgentConnection {
        try resolve(domain: name, options: options).agent
    }

    /// Looks the domain up (name, UUID or id) on the chosen libvirt URI.
    public func domain(_ name: String, options: CallOptions) throws(ClientError) -> LibvirtDomain {
        let uri = libvirt.uri ?? LibvirtConnection.defaultURI(environment: environment)
        return try LibvirtConnection(uri: uri, callSeconds: options.libvirtSeconds).domain(name)
    }

    /// Finds the domain and its agent: through libvirt when libvirt owns the agent channel
    /// (`org.qemu.guest_agent.0`), or directly through the socket the domain XML names for
    /// another agent channel.
    public func resolve(domain name: String, options: CallOptions) throws(ClientError) -> ResolvedDomain {
        let domain = try domain(name, options: options)
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
            return ResolvedDomain(domain: domain, channel: chosen, agent: LibvirtAgent(domain: domain))
        }
        guard chosen.type == "unix", let path = chosen.path else {
            throw ClientError(.unreachable, "\(name): channel \(chosen.name) is not a unix socket qga can reach")
        }
        return ResolvedDomain(domain: domain, channel: chosen, agent: try AgentSession(unixPath: path, options: options))
    }
}

extension CallOptions {
    /// How long each libvirt call that does not involve the guest (connecting, lookups,
    /// XML, state) may take: the user's --timeout, else 30 s.
    public var libvirtSeconds: Double { timeout?.inSeconds ?? LibvirtConnection.defaultCallSeconds }
}
