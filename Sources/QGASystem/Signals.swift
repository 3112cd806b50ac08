import CQGAShims
import Glibc
import SystemPackage

/// Turns signals into readable events: blocks them for the calling thread (and for threads
/// it starts later) and reads them from a signalfd, so a waiting loop can poll for a signal,
/// a child's exit and a deadline at once. Create it before any other thread exists.
public final class SignalWatcher {
    private let fd: Int32
    /// The signals it watches.
    public let signals: [Int32]

    /// Blocks `signals` for this thread and opens a signalfd for them.
    public init(_ signals: [Int32]) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { throw SystemError("pthread_sigmask", .last) }
        let fd = qga_signalfd(&set)
        guard fd >= 0 else { throw SystemError("signalfd", .last) }
        self.fd = fd
        self.signals = signals
    }

    deinit { close(fd) }

    /// Every signal whose default action ends the process and that a program can defer:
    /// the quit signals, SIGUSR1/2, the timers, SIGIO, SIGPWR, the resource limits and the
    /// real-time signals. Not SIGPIPE (ignore it instead), nor the faults a program raises on
    /// itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT), which blocking
    /// cannot defer.
    public static var terminating: [Int32] {
        var signals = [
            SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGSTKFLT, SIGVTALRM, SIGPROF,
            SIGIO, SIGPWR, SIGXCPU, SIGXFSZ,
        ]
        // SIGRTMIN is a glibc function, not a constant: glibc keeps the first few for itself.
        let first = __libc_current_sigrtmin()
        let last = __libc_current_sigrtmax()
        if first > 0, first <= last { signals += Array(first...last) }
        return signals
    }

    /// The signals that stop a process and that a program can defer (not SIGSTOP).
    public static let stopping: [Int32] = [SIGTSTP, SIGTTIN, SIGTTOU]

    /// The signalfd, for a caller that polls it along with other descriptors.
    public var descriptor: Int32 { fd }

    /// Waits until a signal is pending (true) or `done` is readable or closed (false),
    /// without a deadline: for a caller whose other side bounds its own time.
    public func waitForSignal(or done: CompletionNotice) throws(SystemError) -> Bool {
        while true {
            var entries = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: done.waitEnd, events: Int16(POLLIN), revents: 0),
            ]
            let rc = poll(&entries, 2, -1)
            if rc < 0 {
                if Errno.last == .interrupted { continue }
                throw SystemError("poll", .last)
            }
            if entries[0].revents != 0 { return true }
            if entries[1].revents != 0 { return false }
        }
    }

    /// The next signal, or nil when the deadline passes first.
    public func next(deadline: Deadline) throws(SystemError) -> Int32? {
        while true {
            let signo = qga_signalfd_read(fd)
            if signo > 0 { return signo }
            if signo < 0 { throw SystemError("read signalfd", .last) }
            if deadline.hasPassed { return nil }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&entry, 1, deadline.pollMilliseconds)
            if rc < 0 && Errno.last != .interrupted { throw SystemError("poll", .last) }
        }
    }
}

/// Tells a thread waiting in `SignalWatcher.waitForSignal(or:)` that work on another thread
/// has finished: that thread calls `finish()`, once.
public final class CompletionNotice: @unchecked Sendable {
    let waitEnd: Int32
    private let doneEnd: Int32

    /// A fresh notice: a connected socket pair, one end for each thread.
    public init() throws(SystemError) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SystemError("socketpair", .last)
        }
        waitEnd = pair[0]
        doneEnd = pair[1]
    }

    /// Wakes the waiter: closes the finishing end, which the finishing thread owns alone,
    /// so no other descriptor can take its number while it is in use.
    public func finish() { close(doneEnd) }

    deinit { close(waitEnd) }
}
