import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga fsinfo TARGET`: the guest's mounted filesystems.
struct FSInfo: Query {
    static let configuration = CommandConfiguration(
        commandName: "fsinfo",
        abstract: "Show the guest's mounted filesystems, as df -h does.",
        discussion: "A table of each mount point: its type, size and use (powers of 1024, as df -h; empty where the agent does not report them) and the disks under it.")
    static let agentCommand = Catalogue.Commands.guestGetFsinfo

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        var rows: [[String]] = []
        for filesystem in try elements(value, label: label) {
            guard let mount = filesystem["mountpoint"]?.string else { throw Self.unexpected(value, label: label) }
            let total = filesystem["total-bytes"]?.number?.int64
            let used = filesystem["used-bytes"]?.number?.int64
            let disks = (filesystem["disk"]?.array ?? []).compactMap { disk in
                disk["dev"]?.string ?? [Human.text(disk["bus-type"]), Human.text(disk["target"])].compactMap { $0 }.joined(separator: ":")
            }
            rows.append([
                mount, filesystem["type"]?.string ?? "",
                total.map(Human.size) ?? "", used.map(Human.size) ?? "",
                used.flatMap { used in total.flatMap { Human.percent(used, of: $0) } } ?? "",
                disks.joined(separator: ","),
            ])
        }
        return .table(header: ["MOUNT", "TYPE", "SIZE", "USED", "USE%", "DISKS"], rows: rows, rightAligned: [2, 3, 4])
    }
}
