import ArgumentParser
import QGAClient
import QGAProtocol

/// How the guest sleeps: each mode is its own agent command.
enum SuspendMode: String, CaseIterable, ExpressibleByArgument {
    /// Suspend to RAM (S3).
    case ram
    /// Suspend to disk, hibernation (S4).
    case disk
    /// Both: the memory is saved to disk, then the guest sleeps in RAM.
    case hybrid

    var command: CommandInfo {
        switch self {
        case .ram: Catalogue.Commands.guestSuspendRam
        case .disk: Catalogue.Commands.guestSuspendDisk
        case .hybrid: Catalogue.Commands.guestSuspendHybrid
        }
    }
}

/// `qga suspend ram|disk|hybrid TARGET`: put the guest to sleep.
struct Suspend: Query {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend the guest to RAM, to disk, or both.",
        discussion: """
            ram is guest-suspend-ram (S3), disk guest-suspend-disk (hibernation), hybrid \
            guest-suspend-hybrid. The agent checks that the guest can sleep that way and \
            answers with an error if not; on success it sends no reply, so qga waits a \
            few seconds (--timeout) for an error and then takes the silence as success, \
            printing nothing ({} with --json). The VM must be set up for it: a guest \
            suspended to RAM needs a wakeup (virsh dompmwakeup), one suspended to disk \
            powers off and resumes when started again.
            """)
    /// The mode's command is the one sent; this is the first of them, for the protocol.
    static let agentCommand = Catalogue.Commands.guestSuspendRam

    @Argument(help: "How to sleep.") var mode: SuspendMode
    @OptionGroup var options: QueryOptions

    func value(on connection: any AgentConnection, arguments: JSONObject?, options: CallOptions) throws -> JSONValue {
        try Self.query(mode.command.name, arguments: arguments, on: connection, options: options)
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView { [] }
}
