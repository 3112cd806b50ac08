/// Reaches the agents of libvirt domains, which QGAClient cannot reach by itself. The command
/// layer supplies one (QGALibvirt's), so that only domain targets ever reach libvirt code.
public protocol DomainResolver {
    /// Connects to the agent of the domain `name` (a name, UUID or id).
    func connect(toDomain name: String, options: CallOptions) throws(ClientError) -> any AgentConnection
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
