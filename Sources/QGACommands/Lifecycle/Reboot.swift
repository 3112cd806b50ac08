import ArgumentParser
import QGAClient

/// `qga reboot TARGET [--wait [SECONDS]] [--fallback acpi]`
struct Reboot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reboot",
        abstract: "Reboot the guest through its agent.",
        discussion: """
            libvirt domains go through virDomainReboot in agent mode; sockets get \
            guest-shutdown with mode reboot. With --wait, returns once the guest has gone \
            down and its agent answers again, watched as qga wait watches it (libvirt's \
            agent events for a domain).
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp, transform: Target.argument) var target: Target

    @Option(
        defaultAsFlag: WaitTime(seconds: 300), parsing: .next,
        help: ArgumentHelp("Wait until the guest has gone down and its agent answers again, at most SECONDS.", valueName: "seconds"))
    var wait: WaitTime?

    @OptionGroup var fallback: FallbackOption

    func validate() throws {
        try fallback.validate(target: target)
        try wait?.validate()
    }

    func run() throws {
        let lifecycle = try LifecycleTarget(target, options: agent, watching: wait != nil)
        try Lifecycle.request(.reboot, lifecycle, fallback: fallback.fallback, options: agent.callOptions)
        if let wait {
            try Lifecycle.waitUntilRebooted(lifecycle, seconds: wait.seconds ?? 300, options: agent.callOptions)
        }
    }
}
