import CLibvirt
import Dispatch
import QGAClient
import QGAProtocol
import QGASystem

/// A watch on a domain's agent through libvirt's events: the agent-lifecycle event says when
/// the guest opens or closes the agent's channel, the lifecycle event when the domain stops.
/// qga waits in libvirt's event loop (on this thread, woken by a timer at its deadline)
/// instead of asking the agent again and again, and pings only once libvirt says the agent
/// is connected. Callbacks are deregistered when the watch is released.
public final class AgentEvents: AgentWatch {
    private let domain: LibvirtDomain
    private let agent: LibvirtAgent
    private let seen = SeenEvents()
    private var callbackIDs: [Int32] = []
    /// Wakes the event loop at a deadline; disabled (-1) between waits.
    private var timer: Int32 = -1

    /// Registers for the domain's events; its connection must deliver them
    /// (`LibvirtResolver.resolve(domain:options:events: true)`).
    public init(domain: LibvirtDomain) throws(ClientError) {
        self.domain = domain
        agent = LibvirtAgent(domain: domain)
        let connection = domain.connection
        guard connection.deliversEvents else {
            throw ClientError(.operationFailed, "\(domain.name): the libvirt connection was opened without events")
        }
        let record = seen
        let domainBox = PointerBox(domain.pointer)
        let connectionBox = PointerBox(connection.pointer)
        for (id, callback) in [
            (VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, unsafeBitCast(agentLifecycleCallback, to: virConnectDomainEventGenericCallback.self)),
            (VIR_DOMAIN_EVENT_ID_LIFECYCLE, unsafeBitCast(lifecycleCallback, to: virConnectDomainEventGenericCallback.self)),
        ] {
            let eventID = Int32(id.rawValue)
            let registered = try connection.call("registering for events of \(domain.name)") { () -> Result<Int32, ClientError> in
                // The callback holds the record until libvirt lets go of it (releaseRecord).
                let opaque = Unmanaged.passRetained(record).toOpaque()
                let n = virConnectDomainEventRegisterAny(connectionBox.pointer, domainBox.pointer, eventID, callback, opaque, releaseRecord)
                if n < 0 {
                    Unmanaged<SeenEvents>.fromOpaque(opaque).release()
                    return .failure(lastError("virConnectDomainEventRegisterAny"))
                }
                return .success(n)
            }
            callbackIDs.append(registered)
        }
        timer = virEventAddTimeout(-1, wakeUp, nil, nil)
        // Read after registering, so that a change in between arrives as an event.
        let running = try domain.state() == .running
        channels = AgentChannel.all(inDomainXML: try domain.xml())
        let channel = channels.first(where: \.isLibvirtManaged)
        seen.start(running: running, agentConnected: running && channel?.state == "connected")
    }

    /// The domain's agent channels, from the XML read when the watch began.
    public private(set) var channels: [AgentChannel] = []

    deinit {
        let connection = domain.connection
        let box = PointerBox(connection.pointer)
        for id in callbackIDs {
            _ = try? connection.call("deregistering events of \(domain.name)") { () -> Result<Void, ClientError> in
                _ = virConnectDomainEventDeregisterAny(box.pointer, id)
                return .success(())
            }
        }
        if timer >= 0 { _ = virEventRemoveTimeout(timer) }
    }

    /// How many events have arrived (for tests and debugging: proof that they are used).
    public var eventsSeen: Int { seen.snapshot.count }

    public func untilAnswering(by deadline: Deadline, options: CallOptions) throws(ClientError) {
        var backoff = Backoff()
        var last: ClientError?
        while true {
            let now = seen.snapshot
            if now.stopped { throw ClientError(.unreachable, "\(domain.name): the domain shut off") }
            let left = deadline.remaining
            if now.agentConnected {
                // The channel is open; the agent may still need a moment to answer.
                let ping = Catalogue.Commands.guestPing.name
                do {
                    _ = try agent.call(ping, options: options.bounded(by: left, for: ping))
                    return
                } catch where error.isTransient {
                    last = error
                }
                let pause = min(backoff.pause(), deadline.remaining)
                guard pause > .zero else { break }
                runEventLoop(for: pause) { !$0.agentConnected || $0.stopped }
            } else {
                backoff = Backoff()
                guard left > .zero else { break }
                runEventLoop(for: left) { $0.count != now.count }
            }
        }
        if let last {
            throw ClientError(last.code, "gave up waiting for the agent: \(last.message)", cause: last)
        }
        let why = seen.snapshot.running ? "the guest agent did not connect" : "the domain is not running"
        throw ClientError(.notResponding, "\(domain.name): gave up waiting for the agent: \(why)")
    }

    public func untilGone(by deadline: Deadline, options: CallOptions) throws(ClientError) {
        while true {
            let now = seen.snapshot
            if !now.agentConnected || now.stopped { return }
            let left = deadline.remaining
            guard left > .zero else {
                throw ClientError(.notResponding, "\(domain.name): the guest agent is still connected; the guest did not go down in time")
            }
            runEventLoop(for: left) { $0.count != now.count }
        }
    }

    /// Runs libvirt's event loop on this thread, dispatching events to the callbacks, until
    /// `done` holds for what has been seen or `duration` has passed.
    private func runEventLoop(for duration: Duration, until done: (SeenEvents.Snapshot) -> Bool) {
        let end = Deadline.after(duration)
        defer { virEventUpdateTimeout(timer, -1) }
        while !done(seen.snapshot) {
            let left = end.remaining
            guard left > .zero else { return }
            let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            virEventUpdateTimeout(timer, Int32(clamping: max(1, ms)))
            if virEventRunDefaultImpl() < 0 {
                virResetLastError()
                // Not expected; never spin on it.
                WaitClock.system.pause(min(left, .milliseconds(100)))
            }
        }
    }
}

/// What the callbacks have reported, shared between libvirt's event loop and the waiter.
final class SeenEvents: @unchecked Sendable {
    struct Snapshot {
        var agentConnected = false
        var running = false
        /// The domain stopped while watched.
        var stopped = false
        /// Events received.
        var count = 0
    }
    private var value = Snapshot()
    private let lock = DispatchSemaphore(value: 1)

    var snapshot: Snapshot {
        lock.wait()
        defer { lock.signal() }
        return value
    }

    private func update(_ change: (inout Snapshot) -> Void) {
        lock.wait()
        change(&value)
        lock.signal()
    }

    /// The state read when the watch began (events that arrive later override it).
    func start(running: Bool, agentConnected: Bool) {
        update {
            if $0.count == 0 {
                $0.running = running
                $0.agentConnected = agentConnected
            }
        }
    }

    func agent(state: Int32) {
        update {
            $0.count += 1
            $0.agentConnected = UInt32(bitPattern: state) == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED.rawValue
        }
    }

    func lifecycle(event: Int32) {
        update {
            $0.count += 1
            switch UInt32(bitPattern: event) {
            case VIR_DOMAIN_EVENT_STARTED.rawValue, VIR_DOMAIN_EVENT_RESUMED.rawValue:
                $0.running = true
            case VIR_DOMAIN_EVENT_STOPPED.rawValue:
                $0.running = false
                $0.stopped = true
                $0.agentConnected = false
            default:
                break
            }
        }
    }
}

// libvirt's callbacks: C function pointers, handed the record as their opaque pointer.

private let agentLifecycleCallback: @convention(c) (virConnectPtr?, virDomainPtr?, Int32, Int32, UnsafeMutableRawPointer?) -> Void = {
    _, _, state, _, opaque in
    guard let opaque else { return }
    Unmanaged<SeenEvents>.fromOpaque(opaque).takeUnretainedValue().agent(state: state)
}

private let lifecycleCallback: @convention(c) (virConnectPtr?, virDomainPtr?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = {
    _, _, event, _, opaque in
    guard let opaque else { return 0 }
    Unmanaged<SeenEvents>.fromOpaque(opaque).takeUnretainedValue().lifecycle(event: event)
    return 0
}

private let releaseRecord: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
    guard let opaque else { return }
    Unmanaged<SeenEvents>.fromOpaque(opaque).release()
}

/// The timer's only job is to make `virEventRunDefaultImpl` return.
private let wakeUp: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, _ in }
