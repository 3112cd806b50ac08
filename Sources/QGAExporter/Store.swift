import Dispatch
import QGAProtocol

/// Identifies a target in the metrics: the libvirt URI (or `socket`) and the domain name
/// (or the socket path).
public struct TargetKey: Hashable, Sendable, Comparable {
    public var connection: String
    public var domain: String

    public init(connection: String, domain: String) {
        self.connection = connection
        self.domain = domain
    }

    public static func < (a: TargetKey, b: TargetKey) -> Bool {
        (a.connection, a.domain) < (b.connection, b.domain)
    }
}

/// What the last good reply to one command gave, and when it came.
public struct CommandResult: Sendable {
    public var samples: [Sample]
    public var at: ContinuousClock.Instant

    public init(samples: [Sample], at: ContinuousClock.Instant) {
        self.samples = samples
        self.at = at
    }
}

/// What is known of one target: filled by the poller, read by each scrape.
public struct TargetSnapshot: Sendable {
    /// Whether the last guest-ping answered; nil until the first poll ends.
    public var up: Bool?
    public var pingSeconds: Double?
    /// The commands guest-info listed as enabled; nil until it answered.
    public var supported: Set<String>?
    /// Commands that answered CommandNotFound since guest-info last answered.
    public var missing: Set<String> = []
    /// When guest-info (and the other slow commands) last ran, answered or not.
    public var slowPolledAt: ContinuousClock.Instant?
    public var frozen: Bool?
    /// The last good result of each command.
    public var results: [String: CommandResult] = [:]
    /// Failed polls of each command since the start; every command tried has an entry.
    public var errors: [String: Int] = [:]

    public init() {}
}

extension TargetSnapshot {
    /// Takes in a good reply of `command`.
    public mutating func record(_ command: String, _ value: JSONValue, at now: ContinuousClock.Instant) {
        switch command {
        case "guest-fsfreeze-status":
            frozen = Decode.frozen(value)
        case "guest-info":
            supported = Decode.supportedCommands(value)
            missing = []
            // What the agent no longer has goes (an agent replaced by an older one).
            if let supported { results = results.filter { $0.key == "guest-info" || supported.contains($0.key) } }
            fallthrough
        default:
            results[command] = CommandResult(samples: Decode.samples(command, value) ?? [], at: now)
        }
    }
}

/// The state of one libvirt connection, for the exporter's own metrics.
public struct ConnectionState: Sendable {
    public var up: Bool = false
    public var errors: Int = 0
    public init() {}
}

/// The snapshots of every target, behind a lock: the poller's threads write, scrapes read
/// a copy and never wait on an agent.
public final class SnapshotStore: @unchecked Sendable {
    private var targets: [TargetKey: TargetSnapshot] = [:]
    private var connections: [String: ConnectionState] = [:]
    private let semaphore = DispatchSemaphore(value: 1)

    public init() {}

    private func locked<T>(_ body: () -> T) -> T {
        semaphore.wait()
        defer { semaphore.signal() }
        return body()
    }

    /// Makes `keys` the targets: new ones start empty, vanished ones are dropped (their
    /// series disappear from the next scrape).
    public func setTargets(_ keys: [TargetKey]) {
        locked {
            let wanted = Set(keys)
            for key in targets.keys where !wanted.contains(key) { targets[key] = nil }
            for key in keys where targets[key] == nil { targets[key] = TargetSnapshot() }
        }
    }

    /// Changes one target's snapshot, if it is still a target.
    public func update(_ key: TargetKey, _ body: (inout TargetSnapshot) -> Void) {
        locked {
            guard var snapshot = targets[key] else { return }
            body(&snapshot)
            targets[key] = snapshot
        }
    }

    public func snapshot(of key: TargetKey) -> TargetSnapshot? { locked { targets[key] } }

    public func updateConnection(_ uri: String, _ body: (inout ConnectionState) -> Void) {
        locked { body(&connections[uri, default: ConnectionState()]) }
    }

    /// A copy of everything, for one scrape.
    public func copy() -> (targets: [TargetKey: TargetSnapshot], connections: [String: ConnectionState]) {
        locked { (targets, connections) }
    }
}
