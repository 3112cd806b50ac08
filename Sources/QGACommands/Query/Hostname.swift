import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga hostname TARGET`: the guest's host name.
struct Hostname: Query {
    static let configuration = CommandConfiguration(
        commandName: "hostname",
        abstract: "Show the guest's host name.",
        discussion: "")
    static let agentCommand = Catalogue.Commands.guestGetHostName

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard let name = value["host-name"]?.string else { throw Self.unexpected(value, label: label) }
        return .value(name, column: "HOSTNAME")
    }
}
