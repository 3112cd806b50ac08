import Foundation
import Glibc
import QGASystem

/// What a finished child process left behind.
public struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit status, or 128 + signal number when a signal ended it.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: String
    /// Wall-clock seconds from spawn to exit.
    public var seconds: Double
    /// True when the runner had to kill it at its deadline.
    public var timedOut: Bool

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

    public var description: String {
        "status \(status)\(timedOut ? " (killed at deadline)" : "") after \(seconds) s\nstdout: \(stdoutText)\nstderr: \(stderr)"
    }
}

/// Runs a program with arguments, collects its output, and kills it if it outlives
/// `timeout` seconds, so that a hanging binary fails a test instead of stalling the suite.
public func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
    timeout: Double = 30
) throws -> ProcessResult {
    var outPipe: [Int32] = [0, 0]
    var errPipe: [Int32] = [0, 0]
    var inPipe: [Int32] = [0, 0]
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
        throw POSIXError(.init(rawValue: errno) ?? .EIO)
    }
    // pipe2(O_CLOEXEC) does not import; another test's child may inherit these ends in the
    // meantime, which is why the loop below ends on the child's exit, not on EOF.
    for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

    var pid: pid_t = 0
    let start = Date()
    let rc = spawn(&pid, executable, arguments, environment: environment, actions: &actions)
    close(inPipe[0])
    close(outPipe[1])
    close(errPipe[1])
    guard rc == 0 else {
        close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
        throw POSIXError(.init(rawValue: rc) ?? .EIO)
    }
    if let stdin {
        _ = stdin.withUnsafeBytes { write(inPipe[1], $0.baseAddress, $0.count) }
    }
    close(inPipe[1])

    var out: [UInt8] = []
    var err: [UInt8] = []
    var timedOut = false
    var chunk = [UInt8](repeating: 0, count: 65536)
    var status: Int32 = 0
    var usage = rusage()
    var atEOF: Set<Int32> = []
    func drain() {
        for fd in [outPipe[0], errPipe[0]] where !atEOF.contains(fd) {
            while true {
                let got = read(fd, &chunk, chunk.count)
                if got == 0 { atEOF.insert(fd) }
                guard got > 0 else { break }
                if fd == outPipe[0] { out += chunk[0..<got] } else { err += chunk[0..<got] }
            }
        }
    }
    while true {
        drain()
        if wait4(pid, &status, WNOHANG, &usage) == pid { break }
        if Date().timeIntervalSince(start) > timeout {
            timedOut = true
            kill(pid, SIGKILL)
            while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
            break
        }
        var fds = [outPipe[0], errPipe[0]].filter { !atEOF.contains($0) }.map {
            pollfd(fd: $0, events: Int16(POLLIN), revents: 0)
        }
        if fds.isEmpty { usleep(10_000) } else { _ = poll(&fds, nfds_t(fds.count), 20) }
    }
    drain()
    close(outPipe[0])
    close(errPipe[0])
    let seconds = Date().timeIntervalSince(start)
    // WIFEXITED / WEXITSTATUS / WTERMSIG by hand: the macros do not import.
    let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return ProcessResult(
        status: code, stdout: out, stderr: String(decoding: err, as: UTF8.self), seconds: seconds,
        timedOut: timedOut)
}

/// A fresh temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "qga-test") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// posix_spawn with the environment merged into ours, and with every signal unblocked and
/// set to its default: the test runner's threads block most signals, and a child would
/// inherit that mask (a qemu-ga deaf to SIGTERM, a qga deaf to SIGINT).
func spawn(
    _ pid: inout pid_t, _ executable: String, _ arguments: [String], environment: [String: String],
    actions: inout posix_spawn_file_actions_t, flags: Int32 = 0
) -> Int32 {
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    return withChildSpawnAttributes(flags: flags) { posix_spawn(&pid, executable, &actions, &$0, argv, envp) }
}

/// Runs a program under GNU time and returns its result and its peak RSS in KiB.
///
/// Not from our own `wait4`: posix_spawn starts the child with `vfork` semantics on our
/// address space, and Linux carries that address space's high-water mark (the whole test
/// runner's) into the child's `ru_maxrss`. GNU time forks a small copy of itself instead.
public func runMeasuringPeakRSS(_ executable: String, _ arguments: [String], timeout: Double = 30) throws
    -> (ProcessResult, Int)
{
    let dir = try TemporaryDirectory("rss")
    defer { dir.remove() }
    let report = dir.path + "/rss"
    let result = try run("/usr/bin/time", ["-f", "%M", "-o", report, executable] + arguments, timeout: timeout)
    let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
    let kib = text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? Int.max
    return (result, kib)
}
