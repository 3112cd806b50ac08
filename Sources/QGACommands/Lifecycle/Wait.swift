import ArgumentParser
import QGAClient

/// `qga wait TARGET [--timeout S]`
struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until the guest's agent answers.",
        discussion: """
            Returns (exit 0) as soon as the agent answers guest-ping: for scripts right \
            after a VM starts or reboots. A domain's own agent channel \
            (org.qemu.guest_agent.0) is watched through libvirt's agent-lifecycle events, \
            and pinged once libvirt says the guest has opened it; a domain that is not \
            running yet is waited for. A socket, which may not exist yet, is tried on a \
            fresh connection 10 ms later, then twice as long after each failure, up to \
            every 500 ms.

            --timeout limits the whole wait (default: 60 s). When it runs out: exit 3 if \
            the agent never answered, exit 2 if there was never anything to connect to. An \
            unknown domain, one without an agent channel, or one that shuts off while \
            waited for fails at once (exit 2), and so does an agent's error reply (exit 1).
            """)

    /// How long `qga wait` waits without --timeout.
    static let defaultSeconds = 60.0

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: targetHelp, transform: Target.argument) var target: Target

    func run() throws {
        let watch = try agent.watch(target)
        try Lifecycle.waiting(agent.timeout ?? Wait.defaultSeconds) { deadline throws(ClientError) in
            try watch.untilAnswering(by: deadline, options: agent.callOptions)
        }
    }
}
