import CQGAShims
import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// qgad's entry point: options, daemonizing, socket activation, then the pieces started in
/// order (`Pidfile`, `Log`, `Channel`, and `Server`, which runs the serving loop).
public enum Daemon {
    public static func main() -> Never {
        signal(SIGPIPE, SIG_IGN)
        let environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }
        let (config, action): (Config, Action)
        do {
            (config, action) = try parseCommandLine(Array(CommandLine.arguments.dropFirst()), environment: environment)
        } catch {
            printError("qgad: \(error.message)\nTry 'qgad --help' for more information.")
            exit(1)
        }
        switch action {
        case .help:
            print(usage)
            exit(0)
        case .version:
            print("QEMU Guest Agent compatible qgad \(GuestAgent.version)")
            exit(0)
        case .dumpConfig:
            print(config.dump, terminator: "")
            exit(0)
        case .listRPCs:
            let agent = GuestAgent(config: config, log: Log(verbose: false))
            for name in agent.commandNames { print(name) }
            exit(0)
        case .run:
            break
        }
        do {
            try run(config)
            exit(0)
        } catch {
            printError("qgad: \(error)")
            exit(1)
        }
    }

    static func run(_ config: Config) throws {
        // What qgad creates is root's alone (CVE-2013-2007). qemu-ga sets this when it
        // daemonizes; qgad always does, and guest-file-open sets its own mode.
        umask(0o077)
        let listener = try socketActivation()
        // Started frozen (a previous instance left filesystems frozen): as qemu-ga, the log
        // file and the pidfile wait for the thaw, since writing them could block.
        let startsFrozen = FileSystem.exists(GuestAgent.frozenMarker(statedir: config.statedir))
        // As qemu-ga: a pidfile only for a daemon, so that agents in the foreground (two
        // channels, tests) can run side by side. It is locked before stderr is let go, so
        // that a second daemon says why it stops.
        var pidfile: Pidfile?
        if config.daemonize {
            try daemonize { () throws(ConfigError) in
                if !startsFrozen { pidfile = try Pidfile(config.pidfile) }
            }
        }
        var server: Server?
        defer { (server?.pidfile ?? pidfile)?.remove() }
        let log = try config.logfile.map { path throws(ConfigError) in
            try Log(path: path, verbose: config.verbose, deferOpening: startsFrozen)
        } ?? Log(verbose: config.verbose)
        let agent = GuestAgent(config: config, log: log)
        let signals = try SignalWatcher([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
        let channel = try listener.map { Channel.listening(FileDescriptor(rawValue: $0)) } ?? Channel.open(config, log: log)
        log.info("qgad \(GuestAgent.version) serving on \(channel.description)")
        releaseStartupPages()
        server = Server(agent: agent, channel: channel, signals: signals, log: log, config: config)
        server?.deferredPidfile = config.daemonize && startsFrozen ? config.pidfile : nil
        server?.pidfile = pidfile
        server?.serve()
        log.info("exiting")
        log.flush(milliseconds: 1000)
    }

    /// A socket handed over by systemd (`LISTEN_FDS`, `LISTEN_PID`).
    static func socketActivation() throws -> Int32? {
        guard let count = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }) else { return nil }
        if let pid = getenv("LISTEN_PID").flatMap({ Int32(String(cString: $0)) }), pid != getpid() { return nil }
        guard count == 1 else { throw ConfigError("qgad only supports listening on one socket") }
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        return 3
    }

    /// Forks into the background, runs `beforeDetaching` in the child while stderr is still
    /// the caller's, then leaves the session and the standard descriptors.
    static func daemonize(beforeDetaching: () throws(ConfigError) -> Void) throws {
        let pid = fork()
        guard pid >= 0 else { throw ConfigError("fork: \(FileSystem.strerror(errno))") }
        if pid > 0 { exit(0) }
        try beforeDetaching()
        setsid()
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0)
            dup2(null, 1)
            dup2(null, 2)
            if null > 2 { close(null) }
        }
    }

    static func printError(_ text: String) {
        _ = try? FileDescriptor.standardError.writeFully(Array((text + "\n").utf8))
    }

    static let usage = """
        Usage: qgad [-m <method> -p <path>] [<options>]
        A drop-in for the QEMU Guest Agent (qemu-ga) on Linux guests.

          -m, --method      transport method: virtio-serial (default), isa-serial,
                            unix-listen or vsock-listen
          -p, --path        device or socket path (virtio-serial default:
                            /dev/virtio-ports/org.qemu.guest_agent.0; isa-serial:
                            /dev/ttyS0; vsock-listen: <cid>:<port>)
          -l, --logfile     log file (default: stderr)
          -f, --pidfile     pid file (default: /var/run/qemu-ga.pid)
          -F, --fsfreeze-hook[=PATH]
                            run PATH (default /etc/qemu/fsfreeze-hook) with 'freeze'
                            and 'thaw'; no space between -F and PATH
          -t, --statedir    state directory (default: /var/run)
          -v, --verbose     log every command
          -V, --version     print the version and exit
          -d, --daemonize   become a daemon
          -b, --block-rpcs  comma-separated commands to disable ('help' or '?' lists
                            them; --blacklist is the deprecated name)
          -a, --allow-rpcs  comma-separated commands to allow, all others disabled
          -D, --dump-conf   print the effective configuration as a config file
          -r, --retry-path  reopen the channel when it is unavailable or closed
          -c, --config      config file (default: $QGA_CONF, else
                            /etc/qemu-ga/qemu-ga.conf)
              --freeze-timeout SECONDS
                            thaw by itself after SECONDS frozen, 0 to 31536000
                            (a year); qgad only; 0, the default: never
          -h, --help        display this help and exit
        """
}
