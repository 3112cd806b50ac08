import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga disks TARGET`: the guest's block devices.
struct Disks: Query {
    static let configuration = CommandConfiguration(
        commandName: "disks",
        abstract: "Show the guest's disks and partitions.",
        discussion: "One line per block device: whether it is a partition, the devices it is built on, and its bus and serial number where the agent reports them.")
    static let agentCommand = Catalogue.Commands.guestGetDisks

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        var rows: [[String]] = []
        for disk in try elements(value, label: label) {
            guard let name = disk["name"]?.string, let partition = disk["partition"]?.bool else {
                throw Self.unexpected(value, label: label)
            }
            let dependencies = (disk["dependencies"]?.array ?? []).compactMap(\.string)
            let address = disk["address"]
            rows.append([
                name, partition ? "part" : "disk", dependencies.joined(separator: ","),
                Human.text(address?["bus-type"]) ?? "", address?["serial"]?.string ?? "",
            ])
        }
        return .table(header: ["NAME", "TYPE", "DEPENDS", "BUS", "SERIAL"], rows: rows)
    }
}
