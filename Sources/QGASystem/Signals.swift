import CQGAShims
import Glibc
import SystemPackage

/// Turns signals into readable events: blocks them for the calling thread (and for threads
/// it starts later) and reads them from a signalfd, so a waiting loop can poll for a signal,
/// a child's exit and a deadline at once. Create it before any other thread exists.
public final class SignalWatcher {
    private let fd: Int32
    public let signals: [Int32]

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

/// A child process started with `posix_spawnp`, sharing our stdin, stdout and stderr.
public final class ChildProcess {
    public let pid: pid_t
    public private(set) var status: ExitStatus?
    private let ownProcessGroup: Bool

    /// How a child ended.
    public enum ExitStatus: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)

        /// The status a shell would report: the exit code, or 128 + the signal.
        public var shellStatus: Int32 {
            switch self {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    /// Starts `arguments[0]` (searched in PATH) with every signal unblocked and at its
    /// default, whatever this process blocks or ignores; with `ownProcessGroup`, as the
    /// leader of a new process group, so that it can be stopped with all it started.
    ///
    /// With `foreground`, a terminal descriptor, the new process group becomes the terminal's
    /// foreground group before the program starts (so that it can read the terminal at once
    /// without being stopped by SIGTTIN); it needs `ownProcessGroup`.
    public init(_ arguments: [String], ownProcessGroup: Bool = false, foreground terminal: Int32? = nil)
        throws(SystemError)
    {
        guard let program = arguments.first else { throw SystemError("spawn", .invalidArgument) }
        self.ownProcessGroup = ownProcessGroup
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let terminal, ownProcessGroup {
            // In the child, after it has its own group and before exec; its signals are all
            // blocked then, so taking the terminal from the background cannot stop it.
            let rc = qga_spawn_add_tcsetpgrp(&actions, terminal)
            guard rc == 0 else { throw SystemError("posix_spawn_file_actions_addtcsetpgrp_np", Errno(rawValue: rc)) }
        }
        var pid: pid_t = 0
        let rc = withChildSpawnAttributes(processGroup: ownProcessGroup) { attributes in
            posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        }
        guard rc == 0 else { throw SystemError("spawn", Errno(rawValue: rc), subject: program) }
        self.pid = pid
    }

    /// Reaps the child if it has ended; returns its status then, nil while it runs.
    @discardableResult
    public func poll() -> ExitStatus? {
        if let status { return status }
        var raw: Int32 = 0
        let rc = waitpid(pid, &raw, WNOHANG)
        guard rc == pid else { return nil }
        // WIFEXITED and friends are macros Swift does not import.
        let signal = raw & 0x7F
        status = signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
        return status
    }

    /// Sends `signal` if the child has not been reaped.
    public func send(_ signal: Int32) {
        guard status == nil else { return }
        kill(pid, signal)
    }

    /// Sends `signal` to the child's process group (or to the child alone if it has none
    /// of its own), even after the child itself has exited.
    public func sendToGroup(_ signal: Int32) {
        if ownProcessGroup {
            kill(-pid, signal)
        } else {
            send(signal)
        }
    }
}

/// posix_spawn attributes that start a child with every signal unblocked and at its
/// default, whatever the parent blocks or ignores, plus `flags`; for `body` to use.
public func withChildSpawnAttributes<R>(flags: Int32 = 0, processGroup: Bool = false, _ body: (inout posix_spawnattr_t) -> R) -> R {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var all = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags
    if processGroup {
        all |= POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setpgroup(&attributes, 0)
    }
    posix_spawnattr_setflags(&attributes, Int16(all))
    return body(&attributes)
}
