import ArgumentParser
import QGAClient

/// `qga shutdown TARGET [--mode powerdown|halt|reboot] [--wait [SECONDS]] [--fallback acpi]`
struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shut the guest down through its agent.",
        discussion: """
            libvirt domains go through virDomainShutdownFlags in agent mode (halt through \
            guest-shutdown); sockets get guest-shutdown. If the agent is absent it fails \
            (exit 2 or 3) and says so: it never presses the ACPI power button unless asked \
            with --fallback acpi.
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp) var target: String

    @Option(help: "How to go down.") var mode: ShutdownMode = .powerdown

    @Option(help: ArgumentHelp(
        "Wait until the guest is down (the domain is shut off; for a socket, the agent no longer answers), at most SECONDS (default 120).",
        valueName: "seconds"))
    var wait: WaitTime?

    @OptionGroup var fallback: FallbackOption

    func validate() throws { try fallback.validate(target: target) }

    func run() throws {
        let resolved = try agent.resolve(target)
        try Lifecycle.request(mode, resolved, fallback: fallback.fallback, options: agent.callOptions)
        guard let wait else { return }
        if mode == .reboot {
            try Lifecycle.waitUntilRebooted(resolved, targetText: target, agent: agent, seconds: wait.seconds ?? 300)
        } else {
            try Lifecycle.waitUntilDown(resolved, targetText: target, agent: agent, seconds: wait.seconds ?? 120)
        }
    }
}
