import Foundation
import Glibc
import QGASystem
import SystemPackage

/// A program running in the background while a test talks to it: sends it signals, types
/// on its terminal, and reads what it wrote so far; `finish` reaps it.
///
/// Two ways to start it:
/// - `.processGroup`: stdout and stderr on pipes, stdin from /dev/null, in a process group
///   of its own inside the test runner's session. The group is not orphaned (its parent is
///   in another group of the same session), so SIGTSTP really stops it unless it defends
///   itself.
/// - `.terminal`: a new session whose controlling terminal is a fresh pty, on stdin, stdout
///   and stderr, as a shell starts a foreground job; `type` writes to the terminal.
public final class BackgroundProcess: @unchecked Sendable {
    public enum Mode { case processGroup, terminal }

    public let pid: pid_t
    private let outFD: Int32
    private let errFD: Int32?
    private let output = Mutex<(out: [UInt8], err: [UInt8])>(([], []))
    private let readerDone = DispatchSemaphore(value: 0)
    private var result: ProcessResult?
    private let start = Date()

    public init(_ executable: String, _ arguments: [String], mode: Mode, environment: [String: String] = [:]) throws {
        let pid: pid_t
        switch mode {
        case .processGroup:
            let outPipe = try pipePair()
            let errPipe = try pipePair()
            var options = SpawnOptions()
            options.stdin = .null
            options.stdout = .descriptor(outPipe[1])
            options.stderr = .descriptor(errPipe[1])
            options.newProcessGroup = true
            defer { close(outPipe[1]); close(errPipe[1]) }
            pid = try spawnChild(executable, arguments, environment: environment, options)
            outFD = outPipe[0]
            errFD = errPipe[0]
        case .terminal:
            // posix_openpt and friends do not import: the Linux ioctls behind them
            // (TIOCSPTLCK to unlock the pair, TIOCGPTN for its number).
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard master >= 0, ioctl(master, UInt(0x4004_5431), &unlock) == 0, ioctl(master, UInt(0x8004_5430), &number) == 0
            else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            // Not QGASystem's spawnProcess: the child must open the pty itself, after
            // setsid and without O_NOCTTY, for it to become its controlling terminal, and
            // spawnProcess's streams are only ours or /dev/null.
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/pts/\(number)", O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environmentMergedIntoOurs(environment).map { strdup($0) } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var child: pid_t = 0
            // 0x80: POSIX_SPAWN_SETSID (glibc 2.26+), which Swift does not import.
            let rc = withChildSpawnAttributes(flags: 0x80) { posix_spawn(&child, executable, &actions, &$0, argv, envp) }
            guard rc == 0 else { throw SystemError("spawn", Errno(rawValue: rc), subject: executable) }
            pid = child
            outFD = master
            errFD = nil
        }
        self.pid = pid
        let fds = [outFD] + (errFD.map { [$0] } ?? [])
        let output = output
        let readerDone = readerDone
        let outFD = outFD
        Thread {
            defer { readerDone.signal() }
            var open = Set(fds)
            var chunk = [UInt8](repeating: 0, count: 65536)
            while !open.isEmpty {
                var entries = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                if poll(&entries, nfds_t(entries.count), -1) < 0 {
                    if errno == EINTR { continue }
                    return
                }
                for entry in entries where entry.revents != 0 {
                    let n = read(entry.fd, &chunk, chunk.count)
                    // A pty master reads EIO once the last holder of the terminal has gone.
                    if n <= 0 {
                        open.remove(entry.fd)
                        continue
                    }
                    output.withLock {
                        if entry.fd == outFD { $0.out += chunk[0..<n] } else { $0.err += chunk[0..<n] }
                    }
                }
            }
        }.start()
    }

    /// What it wrote to stderr so far (to the terminal, in `.terminal` mode).
    public var stderrSoFar: String {
        output.withLock { String(decoding: errFD == nil ? $0.out : $0.err, as: UTF8.self) }
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Writes to the terminal (`.terminal` mode).
    public func type(_ text: String) {
        try? FileDescriptor(rawValue: outFD).writeFully(Array(text.utf8))
    }

    /// The process's state letter from /proc (R, S, T for stopped...), nil once reaped.
    public var state: Character? {
        guard result == nil, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(close, offsetBy: 2)...].first
    }

    /// Waits up to `timeout` seconds for it to exit (then kills it, with its group when it
    /// has its own) and returns what it left behind.
    public func finish(timeout: Double) -> ProcessResult {
        if let result { return result }
        let end = Date().addingTimeInterval(timeout)
        var status = try? reapChild(pid)
        var timedOut = false
        while status == nil {
            if Date() > end {
                timedOut = true
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                status = try? reapChild(pid, blocking: true)
                break
            }
            usleep(10_000)
            status = try? reapChild(pid)
        }
        // The pipes reach end of stream when the last writer (a left-over host command
        // too) has gone; the pty when its last holder has.
        _ = readerDone.wait(timeout: .now() + 5)
        close(outFD)
        if let errFD { close(errFD) }
        let (out, err) = output.withLock { ($0.out, $0.err) }
        let finished = ProcessResult(
            status: status?.shellStatus ?? 128 + SIGKILL, stdout: out, stderr: String(decoding: errFD == nil ? out : err, as: UTF8.self),
            seconds: Date().timeIntervalSince(start), timedOut: timedOut)
        result = finished
        return finished
    }

    deinit { _ = finish(timeout: 0) }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
public func poll(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
