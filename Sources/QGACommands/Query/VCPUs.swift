import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga vcpus TARGET`: the guest's virtual CPUs.
struct VCPUs: Query {
    static let configuration = CommandConfiguration(
        commandName: "vcpus",
        abstract: "Show the guest's virtual CPUs and whether each is online.",
        discussion: "One line per logical CPU: whether it is online, and whether the guest lets it be taken offline.")
    static let agentCommand = Catalogue.Commands.guestGetVcpus

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        var rows: [[String]] = []
        for cpu in try elements(value, label: label) {
            guard let id = Human.text(cpu["logical-id"]), let online = cpu["online"]?.bool else {
                throw Self.unexpected(value, label: label)
            }
            rows.append([id, online ? "yes" : "no", Human.text(cpu["can-offline"]) ?? "?"])
        }
        return .table(header: ["CPU", "ONLINE", "CAN-OFFLINE"], rows: rows, rightAligned: [0])
    }
}
