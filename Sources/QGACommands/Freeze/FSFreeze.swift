import ArgumentParser
import QGAClient
import QGAProtocol

/// What `fsfreeze` does.
enum FreezeAction: String, CaseIterable, ExpressibleByArgument {
    case status
    case freeze
    case thaw
}

/// `qga fsfreeze status|freeze|thaw TARGET [--mountpoint PATH]...`
struct FSFreeze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsfreeze",
        abstract: "Show, freeze or thaw the guest's filesystems.",
        discussion: """
            Prints 'frozen' or 'thawed' for status, and the number of filesystems frozen or \
            thawed otherwise (--json for {"status": ...}, {"frozen": N}, {"thawed": N}). \
            libvirt domains use virDomainFSFreeze and virDomainFSThaw. While frozen, the \
            guest blocks every write: prefer 'qga freeze-run', which always thaws.
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions

    @Argument(help: "status, freeze or thaw.") var action: FreezeAction
    @Argument(help: targetHelp, transform: Target.argument) var target: Target

    @Option(name: .customLong("mountpoint"), help: ArgumentHelp("Freeze only this mount point (repeatable).", valueName: "path"))
    var mountpoints: [String] = []

    @Flag(help: "Print the result as one JSON object.") var json = false

    func validate() throws {
        if !mountpoints.isEmpty && action != .freeze {
            throw ValidationError("--mountpoint goes with freeze only")
        }
    }

    func run() throws {
        let agent = try self.agent.connect(target)
        let options = self.agent.callOptions
        switch action {
        case .status:
            let value = try agent.call("guest-fsfreeze-status", options: options)
            guard let status = value?.string else {
                throw ClientError(.protocolViolation, "\(agent.label): guest-fsfreeze-status returned \(value?.kindName ?? "nothing")")
            }
            if json {
                try Console.line(JSONPrinter(layout: .compact).string(["status": .string(status)]))
            } else {
                try Console.line(status)
            }
        case .freeze:
            let n = try agent.freeze(mountpoints: mountpoints, options: options)
            try Console.line(json ? #"{"frozen":\#(n)}"# : "\(n)")
        case .thaw:
            let n = try agent.thaw(options: options)
            try Console.line(json ? #"{"thawed":\#(n)}"# : "\(n)")
        }
    }
}
