import QGAClient

/// A domain, its chosen agent channel, and a connection to the agent on it.
public struct ResolvedDomain {
    public let domain: LibvirtDomain
    /// The agent channel chosen (`--channel`, else libvirt's own, else the first socket).
    public let channel: AgentChannel
    /// Through libvirt for its own channel; directly at the socket otherwise.
    public let agent: any AgentConnection

    /// A watch on the agent: libvirt's agent-lifecycle events for the channel libvirt owns
    /// (the domain must come from `resolve(domain:options:events: true)`), polling for a
    /// socket. Make it before asking for a reboot, so that no event is missed.
    public func watch() throws(ClientError) -> any AgentWatch {
        if channel.isLibvirtManaged { return try AgentEvents(domain: domain) }
        guard channel.type == "unix", let path = channel.path else {
            throw ClientError(.unreachable, "\(domain.name): channel \(channel.name) is not a unix socket qga can reach")
        }
        return PollingWatch(label: path) { options throws(ClientError) in try AgentSession(unixPath: path, options: options) }
    }
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

    /// Looks the domain up (name, UUID or id) on the chosen libvirt URI; with `events`, on a
    /// connection that delivers domain events (for `ResolvedDomain.watch`).
    public func domain(_ name: String, options: CallOptions, events: Bool = false) throws(ClientError) -> LibvirtDomain {
        let uri = libvirt.uri ?? LibvirtConnection.defaultURI(environment: environment)
        return try LibvirtConnection(uri: uri, callSeconds: options.libvirtSeconds, events: events).domain(name)
    }

    /// Waits on libvirt's agent events for the channel libvirt owns; polls another channel's
    /// socket. An unknown domain, or one without an agent channel, fails at once.
    public func watch(domain name: String, options: CallOptions) throws(ClientError) -> any AgentWatch {
        try resolve(domain: name, options: options, events: true).watch()
    }

    /// Finds the domain and its agent: through libvirt when libvirt owns the agent channel
    /// (`org.qemu.guest_agent.0`), or directly through the socket the domain XML names for
    /// another agent channel. With `events`, `watch()` can wait on libvirt's events.
    public func resolve(domain name: String, options: CallOptions, events: Bool = false) throws(ClientError) -> ResolvedDomain {
        let domain = try domain(name, options: options, events: events)
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
