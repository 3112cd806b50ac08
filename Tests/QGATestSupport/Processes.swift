import Foundation
import Glibc

/// Starts a long-running process with its output in `log`; the caller reaps it.
public func spawnDetached(_ executable: String, _ arguments: [String], environment: [String: String] = [:], log: String)
    throws -> pid_t
{
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pid: pid_t = 0
    let rc = spawn(&pid, executable, arguments, environment: environment, actions: &actions)
    guard rc == 0 else { throw POSIXError(.init(rawValue: rc) ?? .EIO) }
    return pid
}

/// Waits up to 10 s for a unix socket to accept a connection.
func waitForSocket(_ path: String, pid: pid_t, log: String) throws {
    for _ in 0..<500 {
        if let fd = connectUnix(path) {
            close(fd)
            return
        }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw MissingTool("the agent exited at start-up: \(text)")
        }
        usleep(20_000)
    }
    throw MissingTool("the agent's socket \(path) did not appear within 10 s")
}
