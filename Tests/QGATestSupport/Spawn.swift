import Foundation
import Glibc
import QGASystem
import SystemPackage

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
    // Close-on-exec from the start: no other test's child inherits these ends.
    let outPipe = try pipePair()
    let errPipe = try pipePair()
    let inPipe = try pipePair()
    for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
    var options = SpawnOptions()
    options.stdin = .descriptor(inPipe[0])
    options.stdout = .descriptor(outPipe[1])
    options.stderr = .descriptor(errPipe[1])
    let start = Date()
    let pid: pid_t
    do {
        defer { close(inPipe[0]); close(outPipe[1]); close(errPipe[1]) }
        pid = try spawnChild(executable, arguments, environment: environment, options)
    } catch {
        close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
        throw error
    }
    if let stdin { try? FileDescriptor(rawValue: inPipe[1]).writeFully(stdin) }
    close(inPipe[1])

    var out: [UInt8] = []
    var err: [UInt8] = []
    var timedOut = false
    var chunk = [UInt8](repeating: 0, count: 65536)
    var status: ChildStatus?
    var atEOF: Set<Int32> = []
    func drain() {
        for fd in [outPipe[0], errPipe[0]] where !atEOF.contains(fd) {
            while true {
                let got = (try? chunk.withUnsafeMutableBytes { try FileDescriptor(rawValue: fd).readAvailable(into: $0) }) ?? nil
                if got == 0 { atEOF.insert(fd) }
                guard let got, got > 0 else { break }
                if fd == outPipe[0] { out += chunk[0..<got] } else { err += chunk[0..<got] }
            }
        }
    }
    while true {
        drain()
        status = try? reapChild(pid)
        if status != nil { break }
        if Date().timeIntervalSince(start) > timeout {
            timedOut = true
            kill(pid, SIGKILL)
            status = try? reapChild(pid, blocking: true)
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
    return ProcessResult(
        status: status?.shellStatus ?? 128 + SIGKILL, stdout: out, stderr: String(decoding: err, as: UTF8.self), seconds: seconds,
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

/// QGASystem's spawn of `executable` with `environment` merged into ours. The child starts
/// with every signal unblocked and at its default: the test runner's threads block most
/// signals, and a child would inherit that mask (a qemu-ga deaf to SIGTERM, a qga deaf to
/// SIGINT).
func spawnChild(_ executable: String, _ arguments: [String], environment: [String: String], _ options: SpawnOptions)
    throws -> pid_t
{
    var options = options
    options.environment = environmentMergedIntoOurs(environment)
    return try spawnProcess([executable] + arguments, options)
}

/// Our environment with `environment` set over it, as `NAME=VALUE` strings.
func environmentMergedIntoOurs(_ environment: [String: String]) -> [String] {
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    return env.map { "\($0.key)=\($0.value)" }
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

/// A close-on-exec pipe as `[reader, writer]`.
func pipePair() throws -> [Int32] {
    let ends = try FileDescriptor.closeOnExecPipe()
    return [ends.reader.rawValue, ends.writer.rawValue]
}
