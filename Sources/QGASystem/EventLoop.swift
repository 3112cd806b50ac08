import Glibc
import SystemPackage

/// A single-threaded event loop: descriptors and timers register with a handler, and
/// `run` waits for any of them and calls the handlers of those that are ready.
///
/// It waits with `poll(2)`: the set of polled descriptors is rebuilt only when a source is
/// added, removed or changes its interest, so a loop whose sources stay put (an idle
/// agent, a client sending requests whose replies go out at once) does no bookkeeping
/// between waits. Poll rather than epoll because the loop's users close descriptors it
/// watches (a child's pipes) on their own: poll keeps no state in the kernel that a
/// closed and reused descriptor number could confuse.
///
/// Handlers may add, change and remove sources and timers, their own included; a source
/// removed during a pass is not called later in that pass.
public final class EventLoop {
    /// What a source waits for.
    public struct Interest: OptionSet, Sendable {
        /// The bits: 1 for input, 2 for output.
        public let rawValue: UInt8
        /// The interest with these bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Readable (or at end of file).
        public static let input = Interest(rawValue: 1)
        /// Writable without blocking.
        public static let output = Interest(rawValue: 2)
        /// Not polled at all: the source stays registered but is never called.
        public static let paused: Interest = []
    }

    /// What happened to a ready source.
    public struct Events: Sendable, Equatable {
        /// poll(2)'s `revents`.
        public let rawValue: Int16
        /// The events of poll(2)'s `revents`.
        public init(rawValue: Int16) { self.rawValue = rawValue }
        /// There is input to read (or end of file).
        public var isReadable: Bool { rawValue & Int16(POLLIN) != 0 }
        /// Output would not block.
        public var isWritable: Bool { rawValue & Int16(POLLOUT) != 0 }
        /// The peer hung up or the descriptor is in error.
        public var isHangUp: Bool { rawValue & Int16(POLLHUP | POLLERR) != 0 }
    }

    /// A registered descriptor, for `setInterest` and `remove`.
    public struct Source: Hashable, Sendable {
        fileprivate let id: Int
    }

    /// A scheduled timer, for `cancel`.
    public struct Timer: Hashable, Sendable {
        fileprivate let id: Int
    }

    private struct Entry {
        let id: Int
        let descriptor: FileDescriptor
        var interest: Interest
        let handler: (Events) -> Void
    }

    private struct Alarm {
        let id: Int
        let deadline: Deadline
        let handler: () -> Void
    }

    // Unchecked: the loop is single-threaded and never holds an access to its own state
    // across a handler call (a handler is copied out before it is called), so the runtime's
    // exclusivity bookkeeping on every pass would only cost the request path.
    @exclusivity(unchecked) private var entries: [Entry] = []
    @exclusivity(unchecked) private var alarms: [Alarm] = []
    @exclusivity(unchecked) private var nextID = 0
    /// What the last wait polled, and which source each entry belongs to.
    @exclusivity(unchecked) private var polled: [pollfd] = []
    @exclusivity(unchecked) private var polledIDs: [Int] = []
    @exclusivity(unchecked) private var needsRebuild = false
    @exclusivity(unchecked) private var stopped = false

    public init() {}

    /// Watches `descriptor` for `interest`; `handler` is called with what happened each
    /// time the loop finds it ready (hang-up and errors are reported whatever the interest).
    @discardableResult
    public func add(_ descriptor: FileDescriptor, interest: Interest, handler: @escaping (Events) -> Void) -> Source {
        nextID += 1
        entries.append(Entry(id: nextID, descriptor: descriptor, interest: interest, handler: handler))
        needsRebuild = true
        return Source(id: nextID)
    }

    /// Changes what `source` waits for; `.paused` stops polling it until changed again.
    public func setInterest(_ source: Source, _ interest: Interest) {
        guard let index = entries.firstIndex(where: { $0.id == source.id }), entries[index].interest != interest else { return }
        entries[index].interest = interest
        needsRebuild = true
    }

    /// Stops watching `source`; its descriptor is left open (it is the caller's).
    public func remove(_ source: Source) {
        guard let index = entries.firstIndex(where: { $0.id == source.id }) else { return }
        entries.remove(at: index)
        needsRebuild = true
    }

    /// Calls `handler` once, when `deadline` has passed.
    @discardableResult
    public func schedule(at deadline: Deadline, handler: @escaping () -> Void) -> Timer {
        nextID += 1
        alarms.append(Alarm(id: nextID, deadline: deadline, handler: handler))
        return Timer(id: nextID)
    }

    /// Cancels a timer that has not fired; nothing if it has.
    public func cancel(_ timer: Timer) {
        alarms.removeAll { $0.id == timer.id }
    }

    /// How many descriptors are registered (paused ones included).
    public var sourceCount: Int { entries.count }
    /// How many timers have not fired or been cancelled.
    public var timerCount: Int { alarms.count }

    /// Makes `run` return once the handler that calls it returns; the rest of the pass
    /// is not dispatched.
    public func stop() { stopped = true }

    /// Waits and dispatches until `stop()` is called. `prepare` runs before every wait,
    /// for state kept outside the loop that handlers may have changed.
    public func run(prepare: () -> Void = {}) throws(SystemError) {
        stopped = false
        while !stopped {
            prepare()
            if stopped { break }
            try runOnce()
        }
    }

    /// One pass: waits until a source is ready, a timer is due or `deadline` passes (nil:
    /// no limit besides the timers), then calls the handlers of the due timers, then of the
    /// ready sources, in the order they were added. With nothing registered and no
    /// deadline it returns at once rather than sleep forever.
    public func runOnce(deadline: Deadline? = nil) throws(SystemError) {
        if needsRebuild { rebuild() }
        var wake = deadline
        for alarm in alarms where wake.map({ alarm.deadline < $0 }) ?? true { wake = alarm.deadline }
        if polled.isEmpty && wake == nil { return }
        let timeout = wake?.pollMilliseconds ?? -1
        let count = polled.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if count < 0 {
            if Errno.last == .interrupted { return }
            throw SystemError("poll", .last)
        }
        stopped = false
        fireDueTimers()
        guard count > 0 else { return }
        for index in polled.indices where !stopped {
            let revents = polled[index].revents
            guard revents != 0,
                let entry = entries.first(where: { $0.id == polledIDs[index] }), entry.interest != .paused
            else { continue }
            entry.handler(Events(rawValue: revents))
        }
    }

    private func fireDueTimers() {
        guard !alarms.isEmpty else { return }
        while !stopped, let index = alarms.firstIndex(where: { $0.deadline.hasPassed }) {
            let alarm = alarms.remove(at: index)
            alarm.handler()
        }
    }

    private func rebuild() {
        polled.removeAll(keepingCapacity: true)
        polledIDs.removeAll(keepingCapacity: true)
        for entry in entries where entry.interest != .paused {
            var events: Int16 = 0
            if entry.interest.contains(.input) { events |= Int16(POLLIN) }
            if entry.interest.contains(.output) { events |= Int16(POLLOUT) }
            polled.append(pollfd(fd: entry.descriptor.rawValue, events: events, revents: 0))
            polledIDs.append(entry.id)
        }
        needsRebuild = false
    }
}
