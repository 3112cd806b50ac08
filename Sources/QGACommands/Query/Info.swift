import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga info TARGET`: the agent's version and commands.
struct Info: Query {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the agent's version and its commands.",
        discussion: "A table of the commands the agent has: whether each is enabled (qemu-ga's --block-rpcs disables some) and whether it replies on success. 'qga commands TARGET' compares them with the catalogue.")
    static let agentCommand = Catalogue.Commands.guestInfo

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard let version = value["version"]?.string else { throw Self.unexpected(value, label: label) }
        let offered = try Offered.list(value, from: label).sorted { $0.name < $1.name }
        let rows = offered.map { command in
            [command.name, command.enabled ? "yes" : "no", command.successResponse.map { $0 ? "yes" : "no" } ?? "?"]
        }
        let enabled = offered.count { $0.enabled }
        return HumanView(
            lines: Table.fields([("version", version)]) + [""] + Table.lines(header: ["COMMAND", "ENABLED", "REPLIES"], rows: rows),
            columns: .init(header: ["VERSION", "COMMANDS", "ENABLED"], rows: [[version, "\(offered.count)", "\(enabled)"]], rightAligned: [1, 2]))
    }
}
