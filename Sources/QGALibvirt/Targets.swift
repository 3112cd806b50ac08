import QGAClient

/// A domain and a connection to its agent.
public struct ResolvedDomain {
    public let domain: LibvirtDomain
    /// The agent channel, when known without asking the agent: the one `--channel` named
    /// (or the XML's, for `LibvirtResolver.resolveChannel`). Nil when qga goes to libvirt
    /// first (its own channel; another socket only if libvirt has none).
    public let channel: AgentChannel?
    /// Through libvirt for its own channel; directly at the socket otherwise.
    public let agent: any AgentConnection
    /// The channel `--channel` asked for, if any.
    let wanted: String?

    /// A watch on the agent: libvirt's agent-lifecycle events for the channel libvirt owns
    /// (the domain must come from `resolve(domain:options:events: true)`), polling for a
    /// socket. Make it before asking for a reboot, so that no event is missed. Without a
    /// known channel the watch reads the XML (it needs the channel's state anyway) and
    /// picks the channel from it.
    public func watch() throws(ClientError) -> any AgentWatch {
        if let channel, !channel.isLibvirtManaged { return try ResolvedDomain.pollingWatch(domain, channel) }
        let events = try AgentEvents(domain: domain)
        let chosen = try AgentChannel.choose(from: events.channels, wanted: wanted, domain: domain.name)
        return chosen.isLibvirtManaged ? events : try ResolvedDomain.pollingWatch(domain, chosen)
    }

    private static func pollingWatch(_ domain: LibvirtDomain, _ channel: AgentChannel) throws(ClientError) -> any AgentWatch {
        let path = try channel.socketPath(domain: domain.name)
        return PollingWatch(label: path) { options throws(ClientError) in try AgentSession(unixPath: path, options: options) }
    }
}

extension AgentChannel {
    /// The channel qga uses among a domain's `channels`: the one named `wanted`, else the
    /// one libvirt owns, else the first other unix socket.
    static func choose(from channels: [AgentChannel], wanted: String?, domain name: String) throws(ClientError) -> AgentChannel {
        if let wanted {
            guard let match = channels.first(where: { $0.name == wanted }) else {
                let have = channels.isEmpty ? "none" : channels.map(\.name).joined(separator: ", ")
                throw ClientError(.unreachable, "\(name): no guest agent channel named \(wanted) (it has: \(have))")
            }
            return match
        }
        if let managed = channels.first(where: \.isLibvirtManaged) { return managed }
        if let other = channels.first(where: { $0.type == "unix" && $0.path != nil }) { return other }
        throw ClientError(.unreachable, "\(name): QEMU guest agent is not configured (the domain has no org.qemu.guest_agent channel)")
    }

    /// The host socket of a channel libvirt does not own.
    func socketPath(domain name: String) throws(ClientError) -> String {
        guard type == "unix", let path else {
            throw ClientError(.unreachable, "\(name): channel \(self.name) is not a unix socket qga can reach")
        }
        return path
    }
}

/// How `-c/--connect` and `--channel` shape the resolution of a target.
public struct LibvirtOptions: Sendable {
    /// The libvirt URIs, in the order given; empty means `LIBVIRT_DEFAULT_URI`, then
    /// `qemu:///system`.
    public var uris: [String]
    /// The agent channel to use (`org.qemu.guest_agent.N`); nil picks one.
    public var channel: String?
    public init(uris: [String] = [], channel: String? = nil) {
        self.uris = uris
        self.channel = channel
    }
    public init(uri: String?, channel: String? = nil) {
        self.init(uris: uri.map { [$0] } ?? [], channel: channel)
    }
}

/// Resolves libvirt domains: the `DomainResolver` the command layer gives QGAClient, and the
/// way to a domain for what only libvirt can do (state, ACPI, snapshots). Copies share
/// their connections: each URI is opened once.
public struct LibvirtResolver: DomainResolver, @unchecked Sendable {
    public let libvirt: LibvirtOptions
    public let environment: (String) -> String?
    /// The connections opened so far, one per URI.
    public let connections: LibvirtConnections

    public init(_ libvirt: LibvirtOptions, environment: @escaping (String) -> String?) {
        self.libvirt = libvirt
        self.environment = environment
        connections = LibvirtConnections()
    }

    /// The URIs to use, in order: those given, else the default one.
    public var uris: [String] {
        libvirt.uris.isEmpty ? [LibvirtConnection.defaultURI(environment: environment)] : libvirt.uris
    }

    /// The shared connection to `uri`; with `events`, one that delivers domain events.
    public func connection(_ uri: String, options: CallOptions, events: Bool = false) throws(ClientError) -> LibvirtConnection {
        try connections.connection(uri, callSeconds: options.libvirtSeconds, events: events)
    }

    public func connect(toDomain name: String, options: CallOptions) throws(ClientError) -> any AgentConnection {
        try resolve(domain: name, options: options).agent
    }

    /// Waits on libvirt's agent events for the channel libvirt owns; polls another channel's
    /// socket. An unknown domain, or one without an agent channel, fails at once.
    public func watch(domain name: String, options: CallOptions) throws(ClientError) -> any AgentWatch {
        try resolve(domain: name, options: options, events: true).watch()
    }

    /// Looks the domain up (name, UUID or id) on the chosen libvirt URI. With several URIs,
    /// on each in order: the first that has the domain serves it; a URI that cannot be
    /// reached is passed over, and named in the error when none has the domain. With
    /// `events`, on connections that deliver domain events (for `ResolvedDomain.watch`).
    public func domain(_ name: String, options: CallOptions, events: Bool = false) throws(ClientError) -> LibvirtDomain {
        let uris = uris
        guard uris.count > 1 else { return try connection(uris[0], options: options, events: events).domain(name) }
        var unreachable: [String] = []
        for uri in uris {
            let connection: LibvirtConnection
            do {
                connection = try self.connection(uri, options: options, events: events)
            } catch {
                unreachable.append("\(uri): \(error.message)")
                continue
            }
            do {
                return try connection.domain(name)
            } catch where error.code == .unreachable {
                continue
            }
        }
        let also = unreachable.isEmpty ? "" : " (unreachable: \(unreachable.joined(separator: "; ")))"
        throw ClientError(.unreachable, "domain '\(name)' not found on \(uris.joined(separator: ", "))\(also)")
    }

    /// Finds the domain on `uri` alone and its agent (for `--all`, whose domains come from
    /// that connection's own listing).
    public func resolve(domain name: String, on uri: String, options: CallOptions) throws(ClientError) -> ResolvedDomain {
        try resolve(try connection(uri, options: options).domain(name), options: options)
    }

    /// Finds the domain and its agent. Without `--channel`, the agent is libvirt's, asked
    /// first without reading the XML; only if libvirt has no agent channel of its own does
    /// the XML name another channel's socket (see `LibvirtAgent`). With `--channel`, the
    /// XML is read at once to find that channel. With `events`, `watch()` can wait on
    /// libvirt's events.
    public func resolve(domain name: String, options: CallOptions, events: Bool = false) throws(ClientError) -> ResolvedDomain {
        try resolve(try domain(name, options: options, events: events), options: options)
    }

    /// The agent of a domain already looked up.
    public func resolve(_ domain: LibvirtDomain, options: CallOptions) throws(ClientError) -> ResolvedDomain {
        guard let wanted = libvirt.channel else {
            let agent = LibvirtAgent(domain: domain) { refusal, options throws(ClientError) in
                let chosen = try AgentChannel.choose(from: AgentChannel.all(inDomainXML: try domain.xml()), wanted: nil, domain: domain.name)
                // libvirt has its channel after all: its refusal stands (not running, say).
                guard !chosen.isLibvirtManaged else { throw refusal }
                return try AgentSession(unixPath: try chosen.socketPath(domain: domain.name), options: options)
            }
            return ResolvedDomain(domain: domain, channel: nil, agent: agent, wanted: nil)
        }
        return try resolve(domain, channels: AgentChannel.all(inDomainXML: try domain.xml()), wanted: wanted, options: options)
    }

    /// The domain, its agent channel as the XML names it (`--channel`, else libvirt's own,
    /// else the first socket) and its agent: for what must refuse a domain without an
    /// agent channel before doing anything (snapshots).
    public func resolveChannel(domain name: String, options: CallOptions) throws(ClientError) -> ResolvedDomain {
        let domain = try domain(name, options: options)
        return try resolve(domain, channels: AgentChannel.all(inDomainXML: try domain.xml()), wanted: libvirt.channel, options: options)
    }

    private func resolve(_ domain: LibvirtDomain, channels: [AgentChannel], wanted: String?, options: CallOptions)
        throws(ClientError) -> ResolvedDomain
    {
        let chosen = try AgentChannel.choose(from: channels, wanted: wanted, domain: domain.name)
        let agent: any AgentConnection =
            chosen.isLibvirtManaged
            ? LibvirtAgent(domain: domain)
            : try AgentSession(unixPath: try chosen.socketPath(domain: domain.name), options: options)
        return ResolvedDomain(domain: domain, channel: chosen, agent: agent, wanted: wanted)
    }
}

extension CallOptions {
    /// How long each libvirt call that does not involve the guest (connecting, lookups,
    /// XML, state) may take: the user's --timeout, else 30 s.
    public var libvirtSeconds: Double { timeout?.inSeconds ?? LibvirtConnection.defaultCallSeconds }
}
