import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga ping TARGET`: whether the agent answers.
struct Ping: Query {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that the agent answers.",
        discussion: "Prints 'ok' when the agent answers guest-ping (exit 0); --json prints its empty object.")
    static let agentCommand = Catalogue.Commands.guestPing

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView { .value("ok", column: "PING") }
}
