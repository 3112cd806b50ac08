import Glibc
import QGAProtocol
import QGASystem

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
    guard let program = argv.first else { throw .generic("no program to run") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, source) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
        if let source {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        } else {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        }
    }
    let cEnv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
    defer { cEnv?.forEach { free($0) } }
    var pid: pid_t = 0
    /// posix_spawn's error for one file (0 when started).
    func attempt(_ path: String, _ arguments: [String]) -> Int32 {
        let cArgs = arguments.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        // 0x80: POSIX_SPAWN_SETSID, behind _GNU_SOURCE: helpers do not share the agent's session.
        return withChildSpawnAttributes(flags: 0x80) { attributes -> Int32 in
            if let cEnv { return posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv) }
            return posix_spawn(&pid, path, &actions, &attributes, cArgs, environ)
        }
    }
    func run(_ path: String) -> Int32 {
        let rc = attempt(path, [program] + argv.dropFirst())
        return rc == ENOEXEC ? attempt("/bin/sh", ["/bin/sh", path] + argv.dropFirst()) : rc
    }
    var failure: Int32
    if program.contains("/") {
        failure = run(program)
    } else {
        let search = environment?.first(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
            ?? getenv("PATH").map { String(cString: $0) } ?? "/bin:/usr/bin"
        failure = ENOENT
        var deniedOnce = false
        for directory in search.split(separator: ":", omittingEmptySubsequences: false) {
            // An empty entry is the current directory.
            failure = run(directory.isEmpty ? program : "\(directory)/\(program)")
            if failure == 0 { break }
            if failure == EACCES { deniedOnce = true }
            // As execvp: these mean "not here", anything else ends the search.
            guard [EACCES, ENOENT, ESTALE, ENOTDIR, ENODEV, ETIMEDOUT].contains(failure) else { break }
        }
        if failure != 0 && deniedOnce && [ENOENT, ESTALE, ENOTDIR, ENODEV, ETIMEDOUT].contains(failure) { failure = EACCES }
    }
    guard failure == 0 else {
        throw .generic("Guest agent command failed, error was 'Failed to execute child process \u{201C}\(program)\u{201D} (\(FileSystem.strerror(failure)))'")
    }
    return pid
}

/// How a child ended: the exit code, or the signal that killed it.
enum ChildStatus: Equatable {
    case exited(Int32)
    case signaled(Int32)

    init(raw: Int32) {
        let signal = raw & 0x7F
        self = signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
    }
}

/// Runs a program to completion (at most `timeout` seconds, then it is killed), feeding
/// it `input`; for short helpers (shutdown, hwclock, chpasswd).
func runProgram(_ argv: [String], input: [UInt8]? = nil, timeout: Double = 60) throws(AgentError) -> ChildStatus {
    var pipeFDs: [Int32] = [-1, -1]
    if input != nil {
        guard pipe(&pipeFDs) == 0 else { throw .generic("pipe: \(FileSystem.strerror(errno))") }
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
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
        _ = FileSystem.writeAll(pipeFDs[1], input)
        close(pipeFDs[1])
    }
    var raw: Int32 = 0
    var waited = 0.0
    while true {
        let rc = waitpid(pid, &raw, WNOHANG)
        if rc == pid { return ChildStatus(raw: raw) }
        if rc < 0 && errno != EINTR { throw .generic("waitpid: \(FileSystem.strerror(errno))") }
        if waited >= timeout {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &raw, 0)
            throw .generic("\(argv[0]) did not finish within \(Int(timeout)) s")
        }
        usleep(10_000)
        waited += 0.01
    }
}
