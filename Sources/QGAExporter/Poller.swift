import Dispatch
import QGAClient
import QGALibvirt
import QGAProtocol
import QGASystem

/// What to poll and how often.
public struct PollerConfig: Sendable {
    /// libvirt URIs whose running domains are targets.
    public var connections: [String]
    /// Agent sockets that are targets.
    public var sockets: [String]
    public var interval: Duration
    public var slowInterval: Duration
    /// How many agents are polled at once.
    public var concurrency: Int
    /// How long each agent call may take (its sync too, on a socket).
    public var agentTimeout: Duration
    /// Guest commands left out.
    public var disabled: Set<String>

    public init(
        connections: [String], sockets: [String], interval: Duration = .seconds(15), slowInterval: Duration = .seconds(120),
        concurrency: Int = 8, agentTimeout: Duration = .seconds(5), disabled: Set<String> = []
    ) {
        self.connections = connections
        self.sockets = sockets
        self.interval = interval
        self.slowInterval = slowInterval
        self.concurrency = concurrency
        self.agentTimeout = agentTimeout
        self.disabled = disabled
    }

    /// The `connection` label of socket targets.
    public static let socketConnection = "socket"

    /// The commands `--disable` may name: every one polled except guest-ping, which says
    /// whether the agent is up at all.
    public static let disableable = Set(Decode.slowCommands + Decode.fastCommands + ["guest-fsfreeze-status"])
}

/// Polls every target in the background, in rounds one --interval apart: lists each libvirt
/// connection's running domains, then asks each target's agent, at most --concurrency at
/// once, and writes what it learns into the store as each target finishes. An agent that
/// does not answer costs its own target one --agent-timeout per round, and nothing else.
public final class Poller: @unchecked Sendable {
    public let config: PollerConfig
    public let store: SnapshotStore
    /// One resolver per URI: each owns its connection, and a failed one is replaced so that
    /// the next round connects afresh (LibvirtConnections keeps a failure for good).
    private var resolvers: [String: LibvirtResolver] = [:]
    /// The last good listing of each URI's running domains.
    private var listed: [String: [String]] = [:]
    private let wake = DispatchSemaphore(value: 0)
    /// Where a libvirt connection's failure is told, once per change from working to failing.
    private let log: @Sendable (String) -> Void
    private var failing: Set<String> = []

    public init(config: PollerConfig, store: SnapshotStore, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.store = store
        self.log = log
    }

    /// Starts the rounds on a thread of their own.
    public func start() throws(SystemError) {
        try startDetachedThread { [self] in
            while true {
                let started = ContinuousClock.now
                pollOnce()
                let rest = config.interval - (ContinuousClock.now - started)
                if rest > .zero { _ = wake.wait(timeout: .now() + .milliseconds(Int(rest.inSeconds * 1000))) }
            }
        }
    }

    /// One round: the targets, then every target's agent. Returns when all are done. One
    /// round at a time (the listing state is the rounds' own).
    public func pollOnce() {
        let targets = listTargets()
        store.setTargets(targets.map(\.key))
        let config = config
        let store = store
        FanOut.run(
            lanes: Array(repeating: 0, count: targets.count), limit: { _ in config.concurrency },
            work: { index in Poller.poll(targets[index], config: config, store: store) }, deliver: { _, _ in })
    }

    /// A target and how to reach its agent.
    struct Target: @unchecked Sendable {
        var key: TargetKey
        var connect: (CallOptions) throws(ClientError) -> any AgentConnection
    }

    private func listTargets() -> [Target] {
        var targets: [Target] = []
        for uri in config.connections {
            // Given its URI, a resolver never asks the environment (only for a default URI).
            let resolver = resolvers[uri] ?? LibvirtResolver(LibvirtOptions(uris: [uri]), environment: { _ in nil })
            resolvers[uri] = resolver
            do {
                let names = try resolver.connections.connection(uri, callSeconds: LibvirtConnection.defaultCallSeconds)
                    .domainNames(runningOnly: true)
                listed[uri] = names
                store.updateConnection(uri) { $0.up = true }
                if failing.remove(uri) != nil { log("libvirt \(uri): listing the domains works again") }
            } catch {
                if failing.insert(uri).inserted { log("libvirt \(uri): \(error.message) (retried every interval)") }
                // Counted, and retried on a fresh connection next round; the domains listed
                // last stay targets (their agents will not answer, and say so).
                resolvers[uri] = nil
                store.updateConnection(uri) {
                    $0.up = false
                    $0.errors += 1
                }
            }
            for name in listed[uri] ?? [] {
                targets.append(
                    Target(key: TargetKey(connection: uri, domain: name)) { options throws(ClientError) in
                        try resolver.resolve(domain: name, on: uri, options: options).agent
                    })
            }
        }
        for path in config.sockets {
            targets.append(
                Target(key: TargetKey(connection: PollerConfig.socketConnection, domain: path)) { options throws(ClientError) in
                    try AgentSession(unixPath: path, options: options)
                })
        }
        return targets
    }

    /// The most a reply may hold: a guest that sends more loses that command's metrics, not
    /// the exporter's memory (libvirt's own limit is 4 MiB).
    public static let maxReplySize = 4 << 20

    /// Polls one target's agent: guest-ping, then (when due) guest-info and the other slow
    /// commands, the freeze state, and the fast commands the agent has.
    static func poll(_ target: Target, config: PollerConfig, store: SnapshotStore) {
        let key = target.key
        var options = CallOptions()
        options.syncTimeout = config.agentTimeout
        options.timeout = config.agentTimeout
        options.maxReplySize = maxReplySize
        let started = ContinuousClock.now

        func failed(_ command: String) {
            store.update(key) { $0.errors[command, default: 0] += 1 }
        }

        // guest-ping: whether the agent is up at all.
        let agent: any AgentConnection
        do {
            agent = try target.connect(options)
            let sent = ContinuousClock.now
            _ = try agent.call("guest-ping", options: options)
            let seconds = (ContinuousClock.now - sent).inSeconds
            store.update(key) {
                $0.up = true
                $0.pingSeconds = seconds
                $0.errors["guest-ping", default: 0] += 0
            }
        } catch {
            store.update(key) {
                $0.up = false
                $0.pingSeconds = nil
                $0.errors["guest-ping", default: 0] += 1
            }
            return
        }
        defer { agent.cancel() }

        guard let before = store.snapshot(of: key) else { return }
        // Due a little early rather than a whole interval late.
        let slowDue = before.slowPolledAt.map { started - $0 >= config.slowInterval - config.interval / 2 } ?? true

        /// Runs one command and records its reply; false when the agent is no longer worth
        /// asking this round.
        func run(_ command: String) -> Bool {
            do {
                let value = try agent.call(command, options: options) ?? .null
                store.update(key) {
                    $0.record(command, value, at: .now)
                    $0.errors[command, default: 0] += 0
                }
                return true
            } catch {
                if case .agentError(let agentError) = error.code {
                    if agentError.errorClass == "CommandNotFound" {
                        // The agent lacks it: left out, not an error.
                        store.update(key) {
                            $0.missing.insert(command)
                            $0.results[command] = nil
                        }
                    } else {
                        failed(command)
                    }
                    return true
                }
                // Timed out, went away or broke the protocol: the session is spent.
                failed(command)
                return false
            }
        }

        func wanted(_ command: String, _ snapshot: TargetSnapshot) -> Bool {
            guard !config.disabled.contains(command), !snapshot.missing.contains(command) else { return false }
            return snapshot.supported?.contains(command) ?? true
        }

        /// The slow commands did not get their turn this round (frozen, or the round ran
        /// out of time): due again next round, not a whole slow interval later.
        func slowStillDue() {
            if slowDue { store.update(key) { $0.slowPolledAt = before.slowPolledAt } }
        }

        var commands: [String] = []
        if slowDue {
            store.update(key) { $0.slowPolledAt = started }
            if !config.disabled.contains("guest-info") {
                guard run("guest-info") else { return }
            }
            commands += Decode.slowCommands.filter { $0 != "guest-info" }
        }
        commands += Decode.fastCommands

        guard let current = store.snapshot(of: key) else { return }
        if wanted("guest-fsfreeze-status", current) {
            guard run("guest-fsfreeze-status") else { return }
            // Frozen: the agent answers little else; the last values stay.
            if store.snapshot(of: key)?.frozen == true { return slowStillDue() }
        }
        for command in commands where wanted(command, current) {
            // An agent that answers each command just within the timeout must not stretch
            // the round for every target: past one interval, the rest waits for the next.
            guard ContinuousClock.now - started < config.interval else {
                if Decode.slowCommands.contains(command) { slowStillDue() }
                return
            }
            guard run(command) else { return }
        }
    }
}
