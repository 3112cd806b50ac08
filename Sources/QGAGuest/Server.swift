import CQGAShims
import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// The serving loop: one client at a time, requests handled in order, guest-exec's pipes
/// and child processes serviced in between, and the freeze timeout enforced.
///
/// Each thing qgad waits for is a source of an `EventLoop` with its handler: the signalfd,
/// the listening socket (while no client is connected), the client or serial port (for
/// input, or for output while a reply waits: see `Conversation`), guest-exec's pipes, and
/// a timer for the freeze timeout, and, while a serial port's host end is closed, a watch
/// that wakes when the host opens it. A client that never reads holds
/// back only itself while signals, child processes and the freeze timeout are still served.
final class Server {
    let agent: GuestAgent
    var channel: Channel
    let signals: SignalWatcher
    let log: Log
    let config: Config
    /// The daemon's pidfile, removed at exit.
    var pidfile: Pidfile?
    /// A daemon started frozen writes its pidfile at the first thaw, as qemu-ga.
    var deferredPidfile: String?

    private let loop = EventLoop()
    /// The listening socket, polled only while no client is connected.
    private var listenerSource: EventLoop.Source?
    /// The connected client, or the serial port, and its source.
    private var conversation: Conversation?
    private var clientSource: EventLoop.Source?
    /// What a read takes from the client: never zeroed, so an idle daemon keeps resident
    /// only the pages its requests reached.
    private let buffer = ScratchBuffer(count: 64 << 10)
    /// guest-exec's pipes as last registered, and their sources.
    private var processPipes: [pollfd] = []
    private var processSources: [EventLoop.Source] = []
    /// Set once the children were serviced in this pass: several ready pipes need one call.
    private var processesServiced = false
    /// When the freeze timer is for, and the timer.
    private var freezeTimerSince: ContinuousClock.Instant?
    private var freezeTimer: EventLoop.Timer?
    /// The host end of a serial port is not connected: the port reads EOF and polls as
    /// hang-up all along, so it is not polled until the host watch stirs.
    private var hostAbsent = false
    /// For a serial port: an epoll instance watching it edge-triggered, which turns
    /// readable when the port's driver next wakes its waiters (virtio-serial does when the
    /// host opens its end). Polled only while the host is absent.
    private var hostWatch: (descriptor: FileDescriptor, source: EventLoop.Source)?

    init(agent: GuestAgent, channel: Channel, signals: SignalWatcher, log: Log, config: Config) {
        self.agent = agent
        self.channel = channel
        self.signals = signals
        self.log = log
        self.config = config
    }

    /// How long to pause before polling an unconnected serial port again, when it cannot
    /// be watched.
    static let absentHostPause: Duration = .milliseconds(50)

    /// Serves until a quitting signal (while not frozen) or until the channel fails for good.
    func serve() {
        // Signals (SIGCHLD included) arrive on the signalfd, polled with the rest: an idle
        // agent sleeps until something happens.
        loop.add(FileDescriptor(rawValue: signals.descriptor), interest: .input) { [unowned self] _ in drainSignals() }
        switch channel {
        case .listening(let fd):
            listenerSource = loop.add(fd, interest: .input) { [unowned self] _ in accept() }
        case .device(let fd, _, _):
            attachClient(fd)
            watchHost(fd)
        }
        do {
            try loop.run { [unowned self] in settle() }
        } catch {
            log.error("\(error)")
        }
    }

    /// Between passes: what handlers changed outside the loop (the pidfile of a daemon
    /// started frozen, guest-exec's pipes, the freeze timer) brought up to date.
    private func settle() {
        writeDeferredPidfile()
        processesServiced = false
        syncProcessSources()
        syncFreezeTimer()
    }

    private func attachClient(_ fd: FileDescriptor) {
        conversation = Conversation(fd)
        clientSource = loop.add(fd, interest: .input) { [unowned self] events in clientReady(events) }
    }

    private func detachClient() {
        if let clientSource { loop.remove(clientSource) }
        clientSource = nil
        conversation = nil
    }

    private func accept() {
        guard case .listening(let fd) = channel, conversation == nil else { return }
        let accepted = Glibc.accept(fd.rawValue, nil, nil)
        guard accepted >= 0 else { return }
        _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
        _ = fcntl(accepted, F_SETFL, O_NONBLOCK)
        // One client at a time, as qemu-ga: the next waits in the backlog.
        if let listenerSource { loop.setInterest(listenerSource, .paused) }
        attachClient(FileDescriptor(rawValue: accepted))
    }

    private func clientReady(_ events: EventLoop.Events) {
        // A serial port polls as hang-up while its host end is closed, and nothing read
        // then can be answered. Its driver may also hand over a new host's first request
        // before it notes that the host opened its end (the two come by separate queues):
        // read now, the request's reply would be refused and dropped, and the new host
        // would wait for it in vain. So the port is left alone until it stops hanging up.
        if case .device = channel, events.rawValue & Int16(POLLHUP) != 0 {
            dropClient()
            updateClientInterest()
            return
        }
        let outcome =
            conversation?.isWriting == true
            ? conversation?.resume(hungUp: events.isHangUp, agent: agent)
            : conversation?.read(into: buffer.bytes, agent: agent)
        switch outcome {
        case .open?, nil:
            break
        case .ended?:
            dropClient()
        case .writeFailed(let error)?:
            log.error("cannot send a reply: \(FileSystem.strerror(error.errno.rawValue))")
            dropClient()
        case .readFailed(let error)?:
            log.error("read: \(FileSystem.strerror(error.errno.rawValue))")
            portFailed()
        }
        updateClientInterest()
    }

    /// Reads while no reply waits; writes while one does; nothing while the host is absent.
    private func updateClientInterest() {
        guard let clientSource else { return }
        loop.setInterest(clientSource, hostAbsent ? .paused : conversation?.isWriting == true ? .output : .input)
    }

    /// Registers guest-exec's pipes as they are now: the children started, fed and
    /// drained by the last pass's requests and events.
    private func syncProcessSources() {
        let current = agent.processDescriptors()
        guard !(current.isEmpty && processPipes.isEmpty) else { return }
        let same = current.count == processPipes.count
            && zip(current, processPipes).allSatisfy { $0.fd == $1.fd && $0.events == $1.events }
        if same { return }
        for source in processSources { loop.remove(source) }
        processSources = current.map { entry in
            loop.add(
                FileDescriptor(rawValue: entry.fd), interest: entry.events & Int16(POLLOUT) != 0 ? .output : .input
            ) { [unowned self] _ in serviceProcesses() }
        }
        processPipes = current
    }

    private func serviceProcesses() {
        guard !processesServiced else { return }
        processesServiced = true
        agent.serviceProcesses()
    }

    /// Reads SIGCHLD, SIGHUP and the quitting signals; stops the loop when qgad should exit.
    private func drainSignals() {
        while let signal = try? signals.next(deadline: .after(.zero)) {
            switch signal {
            case SIGCHLD:
                serviceProcesses()
            case SIGTERM, SIGINT:
                if agent.isFrozen {
                    // As qemu-ga: a frozen guest is not left behind by a restart.
                    log.info("ignoring signal \(signal): filesystems are frozen")
                } else {
                    loop.stop()
                    return
                }
            default:
                break
            }
        }
    }

    /// A read failed: a serial port itself failed (unplugged, driver reloaded) and is
    /// reopened with -r; a socket client is dropped.
    private func portFailed() {
        guard case .device(let fd, let path, _) = channel else {
            dropClient()
            return
        }
        detachClient()
        try? fd.close()
        guard config.retryPath else {
            log.error("\(path) failed; exiting (use -r to reopen it)")
            loop.stop()
            return
        }
        unwatchHost()
        hostAbsent = false
        if let reopened = try? Channel.open(config, log: log), case .device(let newFD, _, _) = reopened {
            channel = reopened
            attachClient(newFD)
            watchHost(newFD)
        }
    }

    /// A client that left: listening channels accept the next; a serial port whose host
    /// went away is polled again after a pause.
    private func dropClient() {
        switch channel {
        case .listening:
            let fd = conversation?.descriptor
            detachClient()
            try? fd?.close()
            if let listenerSource { loop.setInterest(listenerSource, .input) }
        case .device(let fd, _, _):
            // Unhandled requests and unwritten replies go with the host that left.
            conversation = Conversation(fd)
            hostAbsent = true
            updateClientInterest()
            waitForHost(fd)
        }
    }

    /// Sets up the watch on a serial port; without it (epoll failed), an absent host is
    /// looked for again after a pause.
    private func watchHost(_ port: FileDescriptor) {
        let epfd = qga_edge_watch(port.rawValue)
        guard epfd >= 0 else {
            log.debug("cannot watch \(channel) for the host: \(FileSystem.strerror(errno)); polling it instead")
            return
        }
        let descriptor = FileDescriptor(rawValue: epfd)
        let source = loop.add(descriptor, interest: .paused) { [unowned self] _ in hostStirred() }
        hostWatch = (descriptor, source)
    }

    private func unwatchHost() {
        guard let hostWatch else { return }
        loop.remove(hostWatch.source)
        try? hostWatch.descriptor.close()
        self.hostWatch = nil
    }

    /// Sleeps until the host end of the port is open again. qemu-ga polls again every
    /// 100 ms, and a client that connected just after another left waited that long for
    /// its first reply.
    private func waitForHost(_ port: FileDescriptor) {
        guard let hostWatch else {
            loop.schedule(at: .after(Server.absentHostPause)) { [unowned self] in pauseEnded(port) }
            return
        }
        // Edges collected so far (every request that arrived woke the port's waiters) are
        // old news; the watch turns readable at the next one.
        _ = qga_edge_take(hostWatch.descriptor.rawValue)
        // The host may have come back before those edges were taken. If the port does not
        // hang up, it is looked at again after the pause rather than at once, so that a
        // device that reads EOF without hanging up cannot make a busy loop.
        guard Server.hangsUp(port) else {
            loop.schedule(at: .after(Server.absentHostPause)) { [unowned self] in hostReturned() }
            return
        }
        loop.setInterest(hostWatch.source, .input)
    }

    /// The port's waiters were woken: by the host opening its end, or by data or a
    /// control message that came before it (the watch then stays, for the next wake-up).
    private func hostStirred() {
        guard let hostWatch, case .device(let port, _, _) = channel else { return hostReturned() }
        _ = qga_edge_take(hostWatch.descriptor.rawValue)
        // Taken first, then looked at: a host that opens its end after this look makes
        // another edge.
        if !Server.hangsUp(port) { hostReturned() }
    }

    /// Without a watch: the port is looked at again after each pause.
    private func pauseEnded(_ port: FileDescriptor) {
        guard hostAbsent else { return }
        if Server.hangsUp(port) {
            loop.schedule(at: .after(Server.absentHostPause)) { [unowned self] in pauseEnded(port) }
        } else {
            hostReturned()
        }
    }

    /// Whether the port polls as hang-up now (its host end is closed).
    private static func hangsUp(_ port: FileDescriptor) -> Bool {
        var entry = pollfd(fd: port.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLHUP) != 0
    }

    private func hostReturned() {
        guard hostAbsent else { return }
        hostAbsent = false
        if let hostWatch { loop.setInterest(hostWatch.source, .paused) }
        updateClientInterest()
    }

    /// A daemon that started frozen writes its pidfile once filesystems are thawed.
    private func writeDeferredPidfile() {
        guard let path = deferredPidfile, !agent.isFrozen else { return }
        deferredPidfile = nil
        do {
            pidfile = try Pidfile(path)
        } catch {
            log.error("\(error)")
        }
    }

    /// Keeps one timer at the freeze timeout while frozen, none while thawed.
    private func syncFreezeTimer() {
        let since = config.freezeTimeout > 0 ? agent.frozenSince : nil
        guard since != freezeTimerSince else { return }
        if let freezeTimer { loop.cancel(freezeTimer) }
        freezeTimer = nil
        freezeTimerSince = since
        guard let since else { return }
        // freezeTimeout is at most a year (Config.maxFreezeTimeout): in range as milliseconds.
        let timeout = Duration.milliseconds(Int64((min(config.freezeTimeout, Config.maxFreezeTimeout) * 1000).rounded(.up)))
        freezeTimer = loop.schedule(at: Deadline(since + timeout)) { [unowned self] in
            freezeTimer = nil
            freezeTimerSince = nil
            enforceFreezeTimeout()
        }
    }

    /// qgad's addition: a host that froze the guest and never thawed it (a crashed backup
    /// script) does not leave it frozen for longer than --freeze-timeout.
    private func enforceFreezeTimeout() {
        guard config.freezeTimeout > 0, let since = agent.frozenSince,
            seconds(ContinuousClock.now - since) >= config.freezeTimeout
        else { return }
        let result = Result { try agent.thaw() }
        // Logged after the thaw: nothing is logged while frozen.
        log.error("filesystems frozen for \(config.freezeTimeout) s without a thaw: thawed (--freeze-timeout)")
        if case .failure(let error) = result { log.error("thaw: \(error)") }
    }

    private func seconds(_ d: Duration) -> Double { d.inSeconds }
}
