import Foundation
import Glibc

/// Debian's real qemu-ga, started on a unix-listen socket in a temporary directory, with no
/// VM: `qemu-ga -m unix-listen -p SOCK -t STATEDIR -f PIDFILE`.
public final class QemuGA: @unchecked Sendable {
    public static let candidates = ["/usr/sbin/qemu-ga", "/usr/bin/qemu-ga"]

    public let directory: TemporaryDirectory
    public let socketPath: String
    public let pid: pid_t

    /// Starts the agent with `extraArguments` (for example `["-b", "guest-get-osinfo"]`) and
    /// waits until its socket accepts connections.
    public init(_ extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        guard let binary = QemuGA.candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw MissingTool("qemu-ga is not installed: apt-get install qemu-guest-agent")
        }
        directory = try TemporaryDirectory("qemu-ga")
        socketPath = directory.path + "/qga.sock"
        let arguments = ["-m", "unix-listen", "-p", socketPath, "-t", directory.path, "-f", directory.path + "/qemu-ga.pid"]
            + extraArguments
        pid = try spawnDetached(binary, arguments, environment: environment, log: directory.path + "/qemu-ga.log")
        try waitForSocket(socketPath, pid: pid, log: directory.path + "/qemu-ga.log")
    }

    /// Stops the agent and removes its directory.
    public func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, WNOHANG)
        directory.remove()
    }

    deinit { stop() }
}

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
