import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// Starts a program with the given descriptors as its stdin, stdout and stderr (/dev/null
/// where nil), every signal at its default and unblocked. Returns its pid.
///
/// The program is found as GLib's spawn (qemu-ga's) finds it: a name without a slash is
/// looked up in the PATH of `environment` if it sets one, else in the agent's own; a file
/// the kernel will not execute (ENOEXEC: a script without `#!`) is run by /bin/sh, as
/// execvp does.
func spawn(_ argv: [String], environment: [String]? = nil, stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil)
    throws(AgentError) -> pid_t
{
    guard !argv.isEmpty else { throw .generic("no program to run") }
    var options = SpawnOptions()
    options.stdin = stdin.map { .descriptor($0) } ?? .null
    options.stdout = stdout.map { .descriptor($0) } ?? .null
    options.stderr = stderr.map { .descriptor($0) } ?? .null
    options.environment = environment
    // Helpers do not share the agent's session.
    options.newSession = true
    options.shellForScripts = true
    do {
        return try spawnProcess(argv, options)
    } catch {
        let reason = FileSystem.strerror(error.errno.rawValue)
        throw .generic("Guest agent command failed, error was 'Failed to execute child process \u{201C}\(argv[0])\u{201D} (\(reason))'")
    }
}

/// Runs a program to completion (at most `timeout` seconds, then it is killed), feeding
/// it `input`; for short helpers (shutdown, hwclock, chpasswd).
func runProgram(_ argv: [String], input: [UInt8]? = nil, timeout: Double = 60) throws(AgentError) -> ChildStatus {
    var pipeFDs: [Int32] = [-1, -1]
    if input != nil {
        do {
            let ends = try FileDescriptor.closeOnExecPipe()
            pipeFDs = [ends.reader.rawValue, ends.writer.rawValue]
        } catch {
            throw .generic("pipe: \(FileSystem.strerror(error.errno.rawValue))")
        }
    }
    let pid: pid_t
    do {
        pid = try spawn(argv, stdin: input != nil ? pipeFDs[0] : nil)
    } catch {
        if input != nil { close(pipeFDs[0]); close(pipeFDs[1]) }
        throw error
    }
    if let input {
        close(pipeFDs[0])
        _ = try? FileDescriptor(rawValue: pipeFDs[1]).writeFully(input)
        close(pipeFDs[1])
    }
    var waited = 0.0
    while true {
        do {
            if let status = try reapChild(pid) { return status }
        } catch {
            throw .generic("waitpid: \(FileSystem.strerror(error.errno.rawValue))")
        }
        if waited >= timeout {
            kill(pid, SIGKILL)
            _ = try? reapChild(pid, blocking: true)
            throw .generic("\(argv[0]) did not finish within \(Int(timeout)) s")
        }
        usleep(10_000)
        waited += 0.01
    }
}
