import Foundation
import Glibc
import QGASystem
import SystemPackage

/// Starts a long-running process with its output in `log`; the caller reaps it.
public func spawnDetached(_ executable: String, _ arguments: [String], environment: [String: String] = [:], log: String)
    throws -> pid_t
{
    let logFD = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard logFD >= 0 else { throw SystemError("open", Errno(rawValue: errno), subject: log) }
    defer { close(logFD) }
    var options = SpawnOptions()
    options.stdin = .null
    options.stdout = .descriptor(logFD)
    options.stderr = .descriptor(logFD)
    return try spawnChild(executable, arguments, environment: environment, options)
}

/// Waits up to 10 s for a unix socket to accept a connection.
func waitForSocket(_ path: String, pid: pid_t, log: String) throws {
    for _ in 0..<500 {
        if let fd = connectUnix(path) {
            close(fd)
            return
        }
        if (try? reapChild(pid)) != nil {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw MissingTool("the agent exited at start-up: \(text)")
        }
        usleep(20_000)
    }
    throw MissingTool("the agent's socket \(path) did not appear within 10 s")
}
