import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga hostname TARGET`: the guest's host name.
struct Hostname: Query {
    static let configuration = CommandConfiguration(
        commandName: "hostname",
        abstract: "Show the guest's host name.",
        discussion: "")
    static let agentCommand = "guest-get-host-name"

    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: targetHelp, transform: Target.argument) var target: Target
    @Flag(help: queryJSONHelp) var json = false

    func human(_ value: JSONValue, label: String) throws(ClientError) -> [String] {
        guard let name = value["host-name"]?.string else { throw Self.unexpected(Self.agentCommand, value, label: label) }
        return [name]
    }
}
