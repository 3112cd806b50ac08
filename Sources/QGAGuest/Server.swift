import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// The serving loop: one client at a time, requests handled in order, guest-exec's pipes
/// and child processes serviced in between, and the freeze timeout enforced.
///
/// Nothing in it waits on the client: replies go out as the client takes them (POLLOUT),
/// and while one is waiting no further request is read or handled, so a client that never
/// reads holds back only itself (its requests stay in its socket, qgad keeps at most one
/// read's worth of them and one reply) while signals, child processes and the freeze
/// timeout are still served.
struct Server {
    let agent: GuestAgent
    var channel: Channel
    let signals: SignalWatcher
    let log: Log
    let config: Config
    /// The daemon's pidfile, removed at exit.
    var pidfile: Pidfile?
    /// A daemon started frozen writes its pidfile at the first thaw, as qemu-ga.
    var deferredPidfile: String?

    private var client: Int32?
    private var framer = Framer()
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    /// Framed input not yet handled: held back while a reply is waiting to be written.
    private var backlog: [Framer.Event] = []
    private var backlogIndex = 0
    /// Reply bytes not yet written, oldest first, and how much of the first is written.
    private var outbox: [[UInt8]] = []
    private var outboxOffset = 0
    /// The host end of a serial port is not connected: the port reads EOF and polls as
    /// hang-up, so it is polled again after a pause rather than in a busy loop.
    private var hostAbsent = false
    /// Set when the channel failed for good.
    private var stopRequested = false

    init(agent: GuestAgent, channel: Channel, signals: SignalWatcher, log: Log, config: Config) {
        self.agent = agent
        self.channel = channel
        self.signals = signals
        self.log = log
        self.config = config
        if case .device(let fd, _, _) = channel { client = fd }
    }

    /// How long to pause before polling an unconnected serial port again.
    static let absentHostPause: Int32 = 50

    private var isWriting: Bool { !outbox.isEmpty }

    mutating func serve() {
        while true {
            writeDeferredPidfile()
            var fds: [pollfd] = []
            var listenerIndex: Int?
            var clientIndex: Int?
            if case .listening(let fd) = channel, client == nil {
                listenerIndex = fds.count
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if let client, !hostAbsent {
                clientIndex = fds.count
                fds.append(pollfd(fd: client, events: Int16(isWriting ? POLLOUT : POLLIN), revents: 0))
            }
            let processStart = fds.count
            fds += agent.processDescriptors()
            var timeout: Int32 = -1
            if hostAbsent { timeout = Server.absentHostPause }
            if let remaining = freezeTimeRemaining() {
                timeout = timeout < 0 ? remaining : min(timeout, remaining)
            }
            // Signals (SIGCHLD included) arrive on the signalfd, polled with the rest: an idle
            // agent sleeps until something happens.
            let processEnd = fds.count
            fds.append(pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0))
            _ = poll(&fds, nfds_t(fds.count), timeout)
            if drainSignals() { return }
            if fds[processStart..<processEnd].contains(where: { $0.revents != 0 }) {
                agent.serviceProcesses()
            }
            enforceFreezeTimeout()
            if hostAbsent {
                hostAbsent = false  // try the port again
                continue
            }
            if let index = listenerIndex, fds[index].revents != 0, case .listening(let fd) = channel {
                let accepted = accept(fd, nil, nil)
                if accepted >= 0 {
                    _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(accepted, F_SETFL, O_NONBLOCK)
                    client = accepted
                    framer.reset()
                }
            }
            if let index = clientIndex, fds[index].revents != 0 {
                if isWriting {
                    writeOutbox(hungUp: fds[index].revents & Int16(POLLHUP | POLLERR) != 0)
                    handleBacklog()
                } else {
                    readClient()
                }
            }
            if stopRequested { return }
        }
    }

    /// Reads SIGCHLD, SIGHUP and the quitting signals; true when qgad should exit.
    private mutating func drainSignals() -> Bool {
        while let signal = try? signals.next(deadline: .after(.zero)) {
            switch signal {
            case SIGCHLD:
                agent.serviceProcesses()
            case SIGTERM, SIGINT:
                if agent.isFrozen {
                    // As qemu-ga: a frozen guest is not left behind by a restart.
                    log.info("ignoring signal \(signal): filesystems are frozen")
                } else {
                    return true
                }
            default:
                break
            }
        }
        return false
    }

    private mutating func readClient() {
        guard let fd = client else { return }
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in try FileDescriptor(rawValue: fd).readAvailable(into: raw) }
        }
        let n: Int
        switch result {
        case .success(nil):
            return
        case .success(let count?):
            n = count
        case .failure(let error):
            log.error("read: \(FileSystem.strerror(error.errno.rawValue))")
            if case .device(let fd, let path, _) = channel {
                // The port itself failed (unplugged, driver reloaded): reopen it with -r.
                close(fd)
                client = nil
                clearPending()
                guard config.retryPath else {
                    log.error("\(path) failed; exiting (use -r to reopen it)")
                    stopRequested = true
                    return
                }
                if let reopened = try? Channel.open(config, log: log), case .device(let newFD, _, _) = reopened {
                    channel = reopened
                    client = newFD
                }
                return
            }
            dropClient()
            return
        }
        if n == 0 {
            dropClient()
            return
        }
        backlog = buffer.withUnsafeBufferPointer { framer.feed(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        backlogIndex = 0
        handleBacklog()
    }

    /// Handles framed requests in order until one's reply cannot be written at once.
    private mutating func handleBacklog() {
        while !isWriting, client != nil, backlogIndex < backlog.count {
            let event = backlog[backlogIndex]
            backlogIndex += 1
            switch event {
            case .delimiter:
                // The reset asked for by guest-sync-delimited's 0xFF: nothing to answer.
                continue
            case .message(let message):
                if let reply = agent.handle(message) { send(reply) }
            case .junk(let prefix, _):
                send(agent.replyToJunk(prefix))
            case .error(let error):
                send(agent.reply(to: error))
            }
        }
        if backlogIndex >= backlog.count {
            backlog = []
            backlogIndex = 0
        }
    }

    /// Forgets unhandled requests and unwritten replies: their client is gone.
    private mutating func clearPending() {
        backlog = []
        backlogIndex = 0
        outbox = []
        outboxOffset = 0
        framer.reset()
    }

    /// A client that left: listening channels accept the next; a serial port whose host
    /// went away is polled again after a pause.
    private mutating func dropClient() {
        clearPending()
        switch channel {
        case .listening:
            if let client { close(client) }
            client = nil
        case .device:
            hostAbsent = true
        }
    }

    /// Queues a reply and writes what the client takes now.
    private mutating func send(_ reply: GuestAgent.Outgoing) {
        guard client != nil else { return }
        if reply.delimited { outbox.append([Framer.delimiterByte]) }
        outbox.append(reply.bytes)
        writeOutbox(hungUp: false)
    }

    /// Writes queued reply bytes until the client stops taking them (EAGAIN), never waiting.
    private mutating func writeOutbox(hungUp: Bool) {
        guard let fd = client else { return }
        while let chunk = outbox.first {
            guard outboxOffset < chunk.count else {
                outbox.removeFirst()
                outboxOffset = 0
                continue
            }
            let result = chunk.withUnsafeBytes { bytes in
                Result { () throws(SystemError) in
                    try FileDescriptor(rawValue: fd).writeAvailable(UnsafeRawBufferPointer(rebasing: bytes[outboxOffset...]))
                }
            }
            switch result {
            case .success(let n):
                outboxOffset += n
                if outboxOffset == chunk.count {
                    outbox.removeFirst()
                    outboxOffset = 0
                    continue
                }
                // The client takes no more now: the rest goes at its next POLLOUT. A port
                // whose host went away polls as hang-up and never takes the bytes.
                if !hungUp { return }
            case .failure(let error):
                log.error("cannot send a reply: \(FileSystem.strerror(error.errno.rawValue))")
            }
            dropClient()
            return
        }
    }

    /// A daemon that started frozen writes its pidfile once filesystems are thawed.
    private mutating func writeDeferredPidfile() {
        guard let path = deferredPidfile, !agent.isFrozen else { return }
        deferredPidfile = nil
        do {
            pidfile = try Pidfile(path)
        } catch {
            log.error("\(error)")
        }
    }

    /// Milliseconds until the freeze timeout, for poll(2): computed in floating point and
    /// clamped before any conversion, so that any timeout (huge, infinite) is safe.
    private func freezeTimeRemaining() -> Int32? {
        guard config.freezeTimeout > 0, let since = agent.frozenSince else { return nil }
        let left = (config.freezeTimeout - seconds(ContinuousClock.now - since)) * 1000
        guard left < Double(Int32.max - 1) else { return Int32.max }  // also NaN
        return Int32(max(0, left).rounded(.up)) + 1
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
