import Glibc
import QGAProtocol
import QGASystem

/// The pauses between attempts to reach an agent that is not there yet: 10 ms, doubling up
/// to 500 ms. An agent that appears is found within moments of it; one that does not costs
/// two attempts a second.
public struct Backoff: Sendable {
    /// The next pause.
    public private(set) var next: Duration
    /// The longest pause.
    public let maximum: Duration

    public init(first: Duration = .milliseconds(10), maximum: Duration = .milliseconds(500)) {
        next = first
        self.maximum = maximum
    }

    /// Returns the next pause; the one after it is twice as long, up to `maximum`.
    public mutating func pause() -> Duration {
        defer { next = min(next * 2, maximum) }
        return next
    }
}

/// Time as a wait sees it: the real clock, or virtual time in tests (pausing then only
/// moves the clock).
public struct WaitClock {
    public var now: () -> ContinuousClock.Instant
    public var pause: (Duration) -> Void

    public init(now: @escaping () -> ContinuousClock.Instant, pause: @escaping (Duration) -> Void) {
        self.now = now
        self.pause = pause
    }

    /// The continuous clock, and `nanosleep` (resumed after a signal).
    public static var system: WaitClock {
        WaitClock(now: { .now }) { duration in
            let (seconds, attoseconds) = duration.components
            guard seconds >= 0 else { return }
            var request = timespec(tv_sec: Int(clamping: seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            var left = timespec()
            while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
        }
    }
}

extension ClientError {
    /// Whether waiting may cure it: nothing there yet, or nothing answering yet. An agent's
    /// error reply, a broken protocol or a refused request are answers that waiting won't change.
    public var isTransient: Bool { code == .unreachable || code == .notResponding }
}

/// Runs `attempt` until it succeeds, fails in a way waiting cannot cure, or `deadline`
/// passes; the pauses between attempts follow `backoff` and never reach past the deadline.
/// `attempt` is given the time left, to bound itself by. At the deadline the last failure is
/// thrown, its code kept (2 when nothing was ever there, 3 when something never answered).
public func retrying<T>(
    until deadline: Deadline, backoff: Backoff = Backoff(), clock: WaitClock = .system,
    _ attempt: (_ left: Duration) throws(ClientError) -> T
) throws(ClientError) -> T {
    var backoff = backoff
    while true {
        do {
            return try attempt(deadline.remaining(at: clock.now()))
        } catch where error.isTransient {
            let left = deadline.remaining(at: clock.now())
            guard left > .zero else { throw error }
            clock.pause(min(backoff.pause(), left))
        }
    }
}

/// Watches one target's agent go away and come back: what `qga wait` and `reboot --wait`
/// wait on. A watch over libvirt waits on libvirt's events; one over a socket polls.
public protocol AgentWatch: AnyObject {
    /// Returns as soon as the agent answers `guest-ping` (synced first on a direct channel).
    /// Throws at once when the agent answers with an error, and when `deadline` passes, the
    /// last failure (unreachable: exit 2; not responding: exit 3).
    func untilAnswering(by deadline: Deadline, options: CallOptions) throws(ClientError)

    /// Returns once the agent no longer answers: the guest is going down.
    func untilGone(by deadline: Deadline, options: CallOptions) throws(ClientError)
}

extension CallOptions {
    /// These options with the connect, the sync and `command`'s reply each bounded by
    /// `left`, so that one attempt cannot outlast the wait it is part of.
    public func bounded(by left: Duration, for command: String) -> CallOptions {
        var options = self
        let floor = Duration.milliseconds(1)
        options.syncTimeout = max(floor, min(syncTimeout, left))
        options.timeout = max(floor, min(timeout(for: command), left))
        return options
    }
}

/// Polls an agent on a fresh connection each time, with `Backoff`'s pauses: for direct
/// channels, which have no events to wait on.
public final class PollingWatch: AgentWatch {
    public let label: String
    private let connect: (CallOptions) throws(ClientError) -> any AgentConnection
    private let clock: WaitClock

    /// `connect` opens a new connection to the agent with the options it is given.
    public init(
        label: String, clock: WaitClock = .system,
        connect: @escaping (CallOptions) throws(ClientError) -> any AgentConnection
    ) {
        self.label = label
        self.connect = connect
        self.clock = clock
    }

    /// Connects and pings once, within `left`; the connection is dropped at once, so that an
    /// agent serving one client at a time (qemu-ga, a QEMU chardev) is free for the next.
    private func ping(within left: Duration, options: CallOptions) throws(ClientError) {
        let ping = Catalogue.Commands.guestPing.name
        let bounded = options.bounded(by: left, for: ping)
        let agent = try connect(bounded)
        defer { agent.cancel() }
        _ = try agent.call(ping, options: bounded)
    }

    public func untilAnswering(by deadline: Deadline, options: CallOptions) throws(ClientError) {
        do {
            try retrying(until: deadline, clock: clock) { left throws(ClientError) in try ping(within: left, options: options) }
        } catch where error.isTransient {
            throw ClientError(error.code, "gave up waiting for the agent: \(error.message)", cause: error)
        }
    }

    public func untilGone(by deadline: Deadline, options: CallOptions) throws(ClientError) {
        var backoff = Backoff(first: .milliseconds(100))
        while true {
            let left = deadline.remaining(at: clock.now())
            guard left > .zero else {
                throw ClientError(.notResponding, "\(label): the agent still answers; the guest did not go down in time")
            }
            do {
                try ping(within: min(left, .seconds(2)), options: options)
            } catch where error.isTransient {
                return
            }
            clock.pause(min(backoff.pause(), deadline.remaining(at: clock.now())))
        }
    }
}
