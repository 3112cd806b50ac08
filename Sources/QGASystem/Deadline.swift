/// A point in time after which an operation gives up. Every blocking call in this package
/// takes one, so nothing can hang.
public struct Deadline: Sendable, Comparable {
    private let instant: ContinuousClock.Instant

    /// The deadline at `instant`.
    public init(_ instant: ContinuousClock.Instant) { self.instant = instant }

    /// The deadline `duration` from now.
    public static func after(_ duration: Duration) -> Deadline {
        after(duration, from: .now)
    }

    /// The deadline `duration` after `now`: a reading of an injected clock, so that a test
    /// can run a layer on virtual time (see `AgentSession`).
    public static func after(_ duration: Duration, from now: ContinuousClock.Instant) -> Deadline {
        Deadline(now.advanced(by: duration))
    }

    /// The deadline `seconds` from now.
    public static func after(seconds: Double) -> Deadline {
        after(.milliseconds(Int64((seconds * 1000).rounded(.up))))
    }

    /// Time left, never negative.
    public var remaining: Duration { remaining(at: .now) }

    /// Time left at `now` (an injected clock's reading), never negative.
    public func remaining(at now: ContinuousClock.Instant) -> Duration {
        let left = now.duration(to: instant)
        return left < .zero ? .zero : left
    }

    public var hasPassed: Bool { hasPassed(at: .now) }

    /// Whether the deadline has passed at `now` (an injected clock's reading).
    public func hasPassed(at now: ContinuousClock.Instant) -> Bool { now >= instant }

    /// The remaining time in whole milliseconds, rounded up, as `poll(2)` wants it.
    public var pollMilliseconds: Int32 {
        let (seconds, attoseconds) = remaining.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    /// The earlier of two deadlines.
    public static func earliest(_ a: Deadline, _ b: Deadline) -> Deadline { min(a, b) }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.instant < b.instant }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
