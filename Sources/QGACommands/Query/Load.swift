import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga load TARGET`: the guest's load averages.
struct Load: Query {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Show the guest's load averages.",
        discussion: "The 1, 5 and 15 minute load averages, as uptime writes them.")
    static let agentCommand = Catalogue.Commands.guestGetLoad

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        let loads = ["load1m", "load5m", "load15m"].compactMap { value[$0]?.number?.double }
        guard loads.count == 3, loads.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 1e9 }) else {
            throw Self.unexpected(value, label: label)
        }
        let text = loads.map(Human.hundredths).joined(separator: ", ")
        return .value("load average: " + text, column: "LOAD AVERAGE", cell: text)
    }
}
