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

    /// The deadline `seconds` from now. A value beyond what `Int64` milliseconds hold
    /// (about 292 million years) is clamped to it, and NaN is now: the conversion would trap.
    public static func after(seconds: Double) -> Deadline {
        let ms = (seconds * 1000).rounded(.up)
        // Double(Int64.max) is 2^63, one past the largest Int64: hence >=.
        let clamped: Int64 = ms.isNaN ? 0 : ms >= Double(Int64.max) ? .max : ms <= Double(Int64.min) ? .min : Int64(ms)
        return after(.milliseconds(clamped))
    }

    /// Time left, never negative.
    public var remaining: Duration { remaining(at: .now) }

    /// Time left at `now` (an injected clock's reading), never negative.
    public func remaining(at now: ContinuousClock.Instant) -> Duration {
        let left = now.duration(to: instant)
        return left < .zero ? .zero : left
    }

    /// Whether the deadline has passed.
    public var hasPassed: Bool { hasPassed(at: .now) }

    /// Whether the deadline has passed at `now` (an injected clock's reading).
    public func hasPassed(at now: ContinuousClock.Instant) -> Bool { now >= instant }

    /// The remaining time in whole milliseconds, rounded up, as `poll(2)` wants it; at most
    /// `Int32.max` (about 24 days: the caller waits again).
    public var pollMilliseconds: Int32 {
        let (seconds, attoseconds) = remaining.components
        // Checked first: a far deadline's seconds times 1000 would overflow.
        guard seconds <= Int64(Int32.max) / 1000 else { return .max }
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    /// The earlier of two deadlines.
    public static func earliest(_ a: Deadline, _ b: Deadline) -> Deadline { min(a, b) }

    /// Whether `a` comes before `b`.
    public static func < (a: Deadline, b: Deadline) -> Bool { a.instant < b.instant }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
