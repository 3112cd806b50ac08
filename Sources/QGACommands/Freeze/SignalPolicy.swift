import Dispatch
import Glibc
import QGAClient
import QGASystem

/// freeze-run's signals, read from a signalfd so that none of them can end or stop qga
/// between a freeze and its thaw:
/// - every signal whose default action would end qga (`SignalWatcher.terminating`) is a
///   request to quit: qga thaws, stops the host command and exits 128+N;
/// - SIGTSTP, SIGTTIN and SIGTTOU are ignored: a qga stopped with the guest frozen would
///   keep it frozen past --max-frozen (SIGTSTP, a Ctrl-Z, gets a note on stderr);
/// - SIGCHLD only wakes the wait for the host command. SIGPIPE stays ignored, as in every
///   qga command.
final class SignalPolicy {
    private let watcher: SignalWatcher
    private let stopping: Set<Int32>

    /// Blocks the signals; call it first, before any other thread exists, so that every
    /// thread started later (Dispatch's, libvirt's) inherits the mask.
    init() throws(SystemError) {
        watcher = try SignalWatcher(SignalWatcher.terminating + SignalWatcher.stopping + [SIGCHLD])
        stopping = Set(SignalWatcher.stopping)
    }

    /// The next quit signal, or nil when the deadline passes first (or a signal that is not
    /// one was handled and `wakeOnChild` asks to return on SIGCHLD).
    func nextQuit(deadline: Deadline, wakeOnChild: Bool = false) throws(SystemError) -> Int32? {
        while let signal = try watcher.next(deadline: deadline) {
            if signal == SIGCHLD {
                if wakeOnChild { return nil }
                continue
            }
            if stopping.contains(signal) {
                if signal == SIGTSTP {
                    Console.error("qga: not stopping (SIGTSTP) while the guest may be frozen; it is thawed within --max-frozen")
                }
                continue
            }
            return signal
        }
        return nil
    }

    /// A quit signal that has already arrived, if any.
    func pendingQuit() throws(SystemError) -> Int32? {
        try nextQuit(deadline: .after(.zero))
    }

    /// Runs `body` on a thread of its own and waits for it or for a quit signal, whichever
    /// comes first. On a signal the call is abandoned where it stands (the caller cancels
    /// what it can); `body` must bound its own time, as every agent and libvirt call does.
    func run<T>(_ body: @escaping () -> T) throws(SystemError) -> Interruptible<T> {
        let notice = try CompletionNotice()
        let box = HandOff<T>()
        let work = Unchecked(body)
        try startDetachedThread {
            box.set(work.value())
            notice.finish()
        }
        while true {
            if try watcher.waitForSignal(or: notice) {
                if let signal = try pendingQuit() { return .signal(signal) }
            } else if let value = box.take() {
                return .done(value)
            }
        }
    }
}

/// How a call run by `SignalPolicy.run` ended.
enum Interruptible<T> {
    case done(T)
    /// A quit signal came first; the call was abandoned.
    case signal(Int32)
}

/// A value handed from one thread to another (the poll on the closed socket orders them).
private final class HandOff<T>: @unchecked Sendable {
    private var value: T?
    private let lock = DispatchSemaphore(value: 1)
    func set(_ v: T) {
        lock.wait()
        value = v
        lock.signal()
    }
    func take() -> T? {
        lock.wait()
        defer { lock.signal() }
        return value
    }
}

/// Carries a closure to the worker thread: it and what it captures are used there only
/// (the agent's `cancel` excepted, which is safe from any thread).
private struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The controlling terminal, opened, when qga's process group is its foreground group (so
/// that the host command can be given the terminal); nil otherwise.
func foregroundTerminal() -> Int32? {
    let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    guard tcgetpgrp(fd) == getpgrp() else {
        close(fd)
        return nil
    }
    return fd
}
