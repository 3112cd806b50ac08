import Glibc
import QGASystem
import SystemPackage

/// qgad's log, at qemu-ga's levels: errors always, everything else only with `-v`.
///
/// Lines go through a bounded queue to a writer thread, so a log that cannot take a write
/// (a file on a frozen filesystem, a pipe nobody drains) never blocks the serving loop;
/// lines that do not fit are counted and dropped. As in qemu-ga, logging is off while
/// filesystems are frozen, and a log file that could not be opened at start-up because
/// qgad started frozen is opened at thaw. Used from the serving loop's thread only.
public final class Log {
    let verbose: Bool
    private let writer: LogWriter
    private var suspended = false
    private var deferredPath: String?

    /// Logs to stderr.
    public init(verbose: Bool) {
        self.verbose = verbose
        writer = LogWriter(fd: 2)
    }

    /// Logs to `path`, opened (append, created 0600 under qgad's umask) now, or at the first
    /// thaw when `deferOpening` (the filesystem holding it may be frozen); stderr until then.
    public init(path: String, verbose: Bool, deferOpening: Bool) throws(ConfigError) {
        self.verbose = verbose
        if deferOpening {
            writer = LogWriter(fd: 2)
            deferredPath = path
        } else {
            let fd = Log.open(path)
            guard fd >= 0 else { throw ConfigError("unable to open specified log file: \(FileSystem.strerror(errno))") }
            writer = LogWriter(fd: fd)
        }
    }

    /// Opens (or creates) a log file for appending; -1 and errno on failure.
    static func open(_ path: String) -> Int32 {
        retryingEINTR { Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0o600) }
    }

    /// A failure: always logged (unless filesystems are frozen).
    public func error(_ message: String) { write("error: \(message)") }
    /// A normal event (start, stop, freeze): only with `-v`, as qemu-ga.
    public func info(_ message: String) { if verbose { write("info: \(message)") } }
    /// Detail for debugging: only with `-v`.
    public func debug(_ message: String) { if verbose { write("debug: \(message)") } }

    /// Filesystems are about to be frozen: nothing more is written until `resume`.
    func suspend() {
        info("disabling logging while filesystems are frozen")
        suspended = true
    }

    /// Filesystems were thawed: a deferred log file is opened (by the writer thread: an
    /// open can block too), and logging starts again.
    func resume() {
        guard suspended else { return }
        if let path = deferredPath {
            writer.enqueue(.open(path))
            deferredPath = nil
        }
        suspended = false
        info("logging re-enabled after thaw")
    }

    /// Gives the writer thread up to `milliseconds` to write what is queued (at exit).
    public func flush(milliseconds: Int) { writer.flush(milliseconds: milliseconds) }

    private func write(_ line: String) {
        guard !suspended else { return }
        writer.enqueue(.line(Array("qgad: \(line)\n".utf8)))
    }
}

/// The queue between the serving loop and the thread that does the blocking writes.
private final class LogWriter: @unchecked Sendable {
    enum Entry {
        case line([UInt8])
        /// Switch to this file (stderr when it cannot be opened, as qemu-ga).
        case open(String)
    }

    /// Queued bytes past which new lines are dropped (the writer may hold as much again).
    static let capacity = 256 << 10

    // Guarded by `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Entry] = []
    private var queuedBytes = 0
    private var dropped = 0
    private var writing = false
    private var started = false
    /// Touched by the writer thread only, once it runs.
    private var fd: Int32

    init(fd: Int32) {
        self.fd = fd
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    // Never deinitialised: the writer thread holds a reference for the life of the process.

    func enqueue(_ entry: Entry) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if case .line(let bytes) = entry {
            guard queuedBytes <= LogWriter.capacity - bytes.count else {
                dropped += 1
                return
            }
            queuedBytes += bytes.count
        }
        queue.append(entry)
        // Started on first use, after qgad has daemonized (a thread does not survive fork).
        if !started { started = startThread() }
        pthread_cond_broadcast(changed)
    }

    /// Waits until the queue is written or `milliseconds` pass.
    func flush(milliseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int(now.tv_nsec) + max(0, min(milliseconds, 60_000)) * 1_000_000
        var end = timespec(tv_sec: now.tv_sec + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while started && (!queue.isEmpty || writing) {
            if pthread_cond_timedwait(changed, mutex, &end) == ETIMEDOUT { return }
        }
    }

    private func startThread() -> Bool {
        // Signals belong to the serving loop's signalfd: the thread starts with all of them
        // blocked (it inherits the mask), whether or not the loop has blocked them yet.
        var all = sigset_t()
        var saved = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<LogWriter>.fromOpaque(context).takeUnretainedValue().run()
        }, context)
        guard rc == 0 else {
            Unmanaged<LogWriter>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    private func run() -> Never {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty { pthread_cond_wait(changed, mutex) }
            let batch = queue
            let lost = dropped
            queue = []
            queuedBytes = 0
            dropped = 0
            writing = true
            pthread_mutex_unlock(mutex)

            if lost > 0 { _ = try? FileDescriptor(rawValue: fd).writeFully(Array("qgad: error: \(lost) log line(s) dropped\n".utf8)) }
            for entry in batch {
                switch entry {
                case .line(let bytes):
                    _ = try? FileDescriptor(rawValue: fd).writeFully(bytes)
                case .open(let path):
                    let opened = Log.open(path)
                    if opened >= 0 {
                        if fd > 2 { close(fd) }
                        fd = opened
                    } else {
                        let reason = FileSystem.strerror(errno)
                        _ = try? FileDescriptor(rawValue: fd).writeFully(Array("qgad: error: unable to open log file \(path): \(reason)\n".utf8))
                    }
                }
            }

            pthread_mutex_lock(mutex)
            writing = false
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(mutex)
        }
    }
}
