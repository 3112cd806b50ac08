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

    /// The signalfd, for a caller that polls it along with other descriptors.
    public var descriptor: Int32 { fd }

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
    public init(_ arguments: [String], ownProcessGroup: Bool = false) throws(SystemError) {
        guard let program = arguments.first else { throw SystemError("spawn", .invalidArgument) }
        self.ownProcessGroup = ownProcessGroup
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = withChildSpawnAttributes(processGroup: ownProcessGroup) { attributes in
            posix_spawnp(&pid, program, nil, &attributes, argv, environ)
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
