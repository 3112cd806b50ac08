import CQGAShims
import Glibc
import SystemPackage

// The package's one spawn, one wait and one wait-status decoder.

/// How a child ended: its exit code, or the signal that killed it.
public enum ChildStatus: Sendable, Equatable {
    /// It exited with this code (0 to 255).
    case exited(Int32)
    /// This signal ended it.
    case signaled(Int32)

    /// Decodes a status from `waitpid` (WIFEXITED and friends are macros Swift does not
    /// import). Stopped and continued children are not reported without WUNTRACED.
    public init(waitStatus raw: Int32) {
        let signal = raw & 0x7F
        self = signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
    }

    /// The status a shell would report: the exit code, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// Reaps child `pid` if it has ended (or, with `blocking`, once it ends), retrying EINTR:
/// its status, or nil while it runs. Only ever one pid, never -1, which would steal the
/// children of other code.
public func reapChild(_ pid: pid_t, blocking: Bool = false) throws(SystemError) -> ChildStatus? {
    var raw: Int32 = 0
    while true {
        let rc = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
        if rc == pid { return ChildStatus(waitStatus: raw) }
        if rc >= 0 { return nil }
        let error = Errno.last
        if error != .interrupted { throw SystemError("waitpid", error) }
    }
}

/// What a spawned child's standard descriptor is.
public enum ChildStream: Sendable {
    /// The same as ours.
    case inherited
    /// /dev/null.
    case null
    /// This descriptor of ours, duplicated.
    case descriptor(Int32)
}

/// How to start a child with `spawnProcess`.
public struct SpawnOptions: Sendable {
    /// Its standard input, output and error.
    public var stdin: ChildStream = .inherited
    /// See `stdin`.
    public var stdout: ChildStream = .inherited
    /// See `stdin`.
    public var stderr: ChildStream = .inherited
    /// Its whole environment (`NAME=VALUE`); nil for ours. A PATH in it is where a program
    /// name without a slash is looked for.
    public var environment: [String]?
    /// Starts it in a session of its own (setsid).
    public var newSession = false
    /// Starts it as the leader of a new process group, so that it can be stopped with all
    /// it started.
    public var newProcessGroup = false
    /// A terminal whose foreground process group the child's new group becomes before the
    /// program starts (so that it can read the terminal at once without being stopped by
    /// SIGTTIN); needs `newProcessGroup`.
    public var foregroundTerminal: Int32?
    /// A file the kernel will not execute (ENOEXEC: a script without `#!`) is run by
    /// /bin/sh, as execvp and GLib's spawn do (glibc's posix_spawnp does not).
    public var shellForScripts = false

    /// Everything as ours: the same descriptors, environment, session and group.
    public init() {}
}

/// Starts `argv[0]` with every signal unblocked and at its default, whatever this process
/// blocks or ignores; returns its pid. A name without a slash is searched in PATH (the
/// child's environment's if it sets one, else ours, else /bin:/usr/bin) as execvp searches.
/// Fails with the error that stopped the search, naming operation "spawn" and the program.
public func spawnProcess(_ argv: [String], _ options: SpawnOptions = SpawnOptions()) throws(SystemError) -> pid_t {
    guard let program = argv.first else { throw SystemError("spawn", .invalidArgument) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, stream) in [(Int32(0), options.stdin), (1, options.stdout), (2, options.stderr)] {
        switch stream {
        case .inherited: break
        case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, target)
        case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        }
    }
    if let terminal = options.foregroundTerminal, options.newProcessGroup {
        // In the child, after it has its own group and before exec; its signals are all
        // blocked then, so taking the terminal from the background cannot stop it.
        let rc = qga_spawn_add_tcsetpgrp(&actions, terminal)
        guard rc == 0 else { throw SystemError("posix_spawn_file_actions_addtcsetpgrp_np", Errno(rawValue: rc)) }
    }
    let environment: [UnsafeMutablePointer<CChar>?]? = options.environment.map { $0.map { strdup($0) } + [nil] }
    defer { environment?.forEach { free($0) } }
    // 0x80: POSIX_SPAWN_SETSID, behind _GNU_SOURCE.
    let flags: Int32 = options.newSession ? 0x80 : 0
    var pid: pid_t = 0
    /// posix_spawn's error for one file (0 when started).
    func attempt(_ path: String, _ arguments: [String]) -> Int32 {
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        return withChildSpawnAttributes(flags: flags, processGroup: options.newProcessGroup) { attributes -> Int32 in
            if let environment { return posix_spawn(&pid, path, &actions, &attributes, cArguments, environment) }
            return posix_spawn(&pid, path, &actions, &attributes, cArguments, environ)
        }
    }
    func run(_ path: String) -> Int32 {
        let rc = attempt(path, [program] + argv.dropFirst())
        guard rc == ENOEXEC, options.shellForScripts else { return rc }
        return attempt("/bin/sh", ["/bin/sh", path] + argv.dropFirst())
    }
    var failure: Int32
    if program.contains("/") {
        failure = run(program)
    } else {
        let search = options.environment?.first(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
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
    guard failure == 0 else { throw SystemError("spawn", Errno(rawValue: failure), subject: program) }
    return pid
}

/// A child process sharing our stdin, stdout and stderr.
public final class ChildProcess {
    /// Its process id.
    public let pid: pid_t
    /// How it ended, once `poll()` has reaped it; nil before.
    public private(set) var status: ExitStatus?
    private let ownProcessGroup: Bool

    /// How a child ended.
    public typealias ExitStatus = ChildStatus

    /// Starts `arguments[0]` (searched in PATH) with every signal unblocked and at its
    /// default, whatever this process blocks or ignores; with `ownProcessGroup`, as the
    /// leader of a new process group, so that it can be stopped with all it started.
    ///
    /// With `foreground`, a terminal descriptor, the new process group becomes the terminal's
    /// foreground group before the program starts (so that it can read the terminal at once
    /// without being stopped by SIGTTIN); it needs `ownProcessGroup`.
    public init(_ arguments: [String], ownProcessGroup: Bool = false, foreground terminal: Int32? = nil)
        throws(SystemError)
    {
        var options = SpawnOptions()
        options.newProcessGroup = ownProcessGroup
        options.foregroundTerminal = terminal
        self.pid = try spawnProcess(arguments, options)
        self.ownProcessGroup = ownProcessGroup
    }

    /// Reaps the child if it has ended; returns its status then, nil while it runs.
    @discardableResult
    public func poll() -> ExitStatus? {
        if let status { return status }
        status = (try? reapChild(pid)) ?? nil
        return status
    }

    /// Sends `signal` if the child has not been reaped.
    public func send(_ signal: Int32) {
        guard status == nil else { return }
        kill(pid, signal)
    }

    /// Sends `signal` to the child's process group (or to the child alone if it has none
    /// of its own), even after the child itself has exited.
    public func sendToGroup(_ signal: Int32) {
        if ownProcessGroup {
            kill(-pid, signal)
        } else {
            send(signal)
        }
    }
}

/// posix_spawn attributes that start a child with every signal unblocked and at its
/// default, whatever the parent blocks or ignores, plus `flags`; for `body` to use.
public func withChildSpawnAttributes<R>(flags: Int32 = 0, processGroup: Bool = false, _ body: (inout posix_spawnattr_t) -> R) -> R {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var all = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags
    if processGroup {
        all |= POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setpgroup(&attributes, 0)
    }
    posix_spawnattr_setflags(&attributes, Int16(all))
    return body(&attributes)
}
