import ArgumentParser
import Glibc
import NIOCore
import NIOPosix
import QGAExporter
import QGAProtocol

@main
struct Exporter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qga-exporter",
        abstract: "Serve what guest agents know (filesystems, load, CPU, disks, network, users) as Prometheus metrics.",
        discussion: """
            Polls the guest agent of every running domain of each libvirt connection (-c, \
            repeatable; qemu:///system when neither -c nor --socket is given) and of each \
            --socket in the background, and serves the latest results on /metrics: a scrape \
            never waits on an agent. The address it listens on goes to stderr. Exits 0 on \
            SIGTERM or SIGINT, 1 when it cannot listen, 64 on invalid options.
            """,
        version: Release.version)

    @Option(name: [.short, .customLong("connect")], help: ArgumentHelp("A libvirt URI whose running domains are polled (repeatable).", valueName: "URI"))
    var connect: [String] = []

    @Option(name: .customLong("socket"), help: ArgumentHelp("The host socket of an agent to poll (repeatable).", valueName: "PATH"))
    var socket: [String] = []

    @Option(name: .customLong("web.listen-address"), help: ArgumentHelp("Where to serve HTTP: HOST:PORT, [IPV6]:PORT or :PORT.", valueName: "ADDRESS"))
    var listenAddress = ":9942"

    @Option(name: .customLong("web.telemetry-path"), help: ArgumentHelp("The path of the metrics.", valueName: "PATH"))
    var telemetryPath = "/metrics"

    @Option(help: ArgumentHelp("Seconds between polls of the fast commands and listings of the domains.", valueName: "SECONDS"))
    var interval: Double = 15

    @Option(name: .customLong("slow-interval"), help: ArgumentHelp("Seconds between polls of guest-info, guest-get-fsinfo and guest-get-osinfo.", valueName: "SECONDS"))
    var slowInterval: Double = 120

    @Option(help: ArgumentHelp("How many agents are polled at once.", valueName: "N"))
    var concurrency: Int = 8

    @Option(name: .customLong("agent-timeout"), help: ArgumentHelp("Seconds each agent call may take.", valueName: "SECONDS"))
    var agentTimeout: Double = 5

    @Option(help: ArgumentHelp("A guest command not to poll (repeatable).", valueName: "COMMAND"))
    var disable: [String] = []

    func validate() throws {
        guard ListenAddress(parsing: listenAddress) != nil else {
            throw ValidationError("--web.listen-address must be HOST:PORT, [IPV6]:PORT or :PORT (got '\(listenAddress)')")
        }
        guard telemetryPath.hasPrefix("/"), telemetryPath != "/", telemetryPath != "/-/healthy",
            !telemetryPath.contains(where: { $0 == "?" || $0 == "#" || $0 == " " })
        else {
            throw ValidationError("--web.telemetry-path must be a path such as /metrics, other than / and /-/healthy")
        }
        for (flag, value) in [("--interval", interval), ("--slow-interval", slowInterval), ("--agent-timeout", agentTimeout)] {
            guard value.isFinite, value > 0, value <= 86400 else {
                throw ValidationError("\(flag) must be a number of seconds above 0 (and at most a day)")
            }
        }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        for path in socket where path.isEmpty { throw ValidationError("--socket needs a path") }
        for uri in connect where uri.isEmpty { throw ValidationError("-c/--connect needs a URI") }
        for command in disable where !PollerConfig.disableable.contains(command) {
            throw ValidationError(
                "--disable: '\(command)' is not a command qga-exporter polls (it polls \(PollerConfig.disableable.sorted().joined(separator: ", ")))")
        }
    }

    func run() throws {
        // validate() accepted it.
        guard let address = ListenAddress(parsing: listenAddress) else { throw ExitCode.validationFailure }
        exitOnTerminationSignals()
        let store = SnapshotStore()
        let config = PollerConfig(
            connections: connect.isEmpty && socket.isEmpty ? ["qemu:///system"] : connect, sockets: socket,
            interval: .seconds(interval), slowInterval: .seconds(slowInterval),
            concurrency: concurrency, agentTimeout: .seconds(agentTimeout), disabled: Set(disable))
        let poller = Poller(config: config, store: store, log: { printError("qga-exporter: \($0)") })

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server: Channel
        do {
            server = try HTTPServer.start(group: group, address: address, telemetryPath: telemetryPath, store: store)
        } catch {
            printError("qga-exporter: cannot listen on \(address): \(error)")
            throw ExitCode(1)
        }
        // The port actually bound (it may have been 0), for whoever started the exporter.
        if let local = server.localAddress, let ip = local.ipAddress, let port = local.port {
            printError("qga-exporter: listening on \(ip.contains(":") ? "[\(ip)]" : ip):\(port)")
        }
        do {
            try poller.start()
        } catch {
            printError("qga-exporter: cannot start polling: \(error)")
            throw ExitCode(1)
        }
        try server.closeFuture.wait()
    }
}

/// One line on stderr.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// SIGTERM and SIGINT end the process at once with status 0: nothing is left to flush
/// (the metrics live in memory, the agents' sessions close with the process).
private func exitOnTerminationSignals() {
    signal(SIGTERM) { _ in _exit(0) }
    signal(SIGINT) { _ in _exit(0) }
}
