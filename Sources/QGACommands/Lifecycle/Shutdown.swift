import ArgumentParser
import QGAClient

/// `qga shutdown TARGET [--mode powerdown|halt|reboot] [--wait [SECONDS]] [--fallback acpi]`
struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown",
        abstract: "Shut the guest down through its agent.",
        discussion: """
            libvirt domains go through virDomainShutdownFlags in agent mode (halt through \
            guest-shutdown); sockets get guest-shutdown. If the agent is absent it fails \
            (exit 2 or 3) and says so: it never presses the ACPI power button unless asked \
            with --fallback acpi.
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp, transform: Target.argument) var target: Target

    @Option(help: "How to go down.") var mode: ShutdownMode = .powerdown

    @Option(
        defaultAsFlag: WaitTime.commandDefault("120, or 300 with --mode reboot"), parsing: .next,
        help: ArgumentHelp(
            "Wait until the guest is down (the domain is shut off; for a socket, the agent no longer answers), at most SECONDS.",
            valueName: "seconds"))
    var wait: WaitTime?

    @OptionGroup var fallback: FallbackOption

    func validate() throws {
        try fallback.validate(target: target)
        try wait?.validate()
    }

    func run() throws {
        // A domain going down is watched through its state; anything else through its agent.
        let watching = wait != nil && (mode == .reboot || !target.isDomain)
        let lifecycle = try LifecycleTarget(target, options: agent, watching: watching)
        try Lifecycle.request(mode, lifecycle, fallback: fallback.fallback, options: agent.callOptions)
        guard let wait else { return }
        if mode == .reboot {
            try Lifecycle.waitUntilRebooted(lifecycle, seconds: wait.seconds ?? 300, options: agent.callOptions)
        } else {
            try Lifecycle.waitUntilDown(lifecycle, seconds: wait.seconds ?? 120, options: agent.callOptions)
        }
    }
}
