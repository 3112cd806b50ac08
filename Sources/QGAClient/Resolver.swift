/// Reaches the agents of libvirt domains, which QGAClient cannot reach by itself. The command
/// layer supplies one (QGALibvirt's), so that only domain targets ever reach libvirt code.
public protocol DomainResolver {
    /// Connects to the agent of the domain `name` (a name, UUID or id).
    func connect(toDomain name: String, options: CallOptions) throws(ClientError) -> any AgentConnection

    /// A watch on the agent of the domain `name`, for waiting until it answers or goes away.
    func watch(domain name: String, options: CallOptions) throws(ClientError) -> any AgentWatch
}

extension DomainResolver {
    /// Polls the domain's agent on fresh connections (a resolver with events does better).
    public func watch(domain name: String, options: CallOptions) throws(ClientError) -> any AgentWatch {
        PollingWatch(label: name) { options throws(ClientError) in try connect(toDomain: name, options: options) }
    }
}

/// Connects to the agent of `target`: a socket directly; a domain through `domains`, and
/// only through it.
public func connect(to target: Target, options: CallOptions, domains: (any DomainResolver)?)
    throws(ClientError) -> any AgentConnection
{
    switch target {
    case .unix(let path):
        return try AgentSession(unixPath: path, options: options)
    case .vsock:
        throw ClientError(.unreachable, "\(target): only unix sockets can be reached directly so far")
    case .domain(let name):
        guard let domains else {
            throw ClientError(.unreachable, "\(name): libvirt domains cannot be reached here; give the agent's socket")
        }
        return try domains.connect(toDomain: name, options: options)
    }
}

/// A watch on the agent of `target`, for waiting until it answers or goes away: a socket is
/// polled (it may not exist yet); a domain is watched through `domains`.
public func watch(_ target: Target, options: CallOptions, domains: (any DomainResolver)?)
    throws(ClientError) -> any AgentWatch
{
    switch target {
    case .unix(let path):
        return PollingWatch(label: path) { options throws(ClientError) in try AgentSession(unixPath: path, options: options) }
    case .vsock:
        throw ClientError(.unreachable, "\(target): only unix sockets can be reached directly so far")
    case .domain(let name):
        guard let domains else {
            throw ClientError(.unreachable, "\(name): libvirt domains cannot be reached here; give the agent's socket")
        }
        return try domains.watch(domain: name, options: options)
    }
}
