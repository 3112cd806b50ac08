import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga stats disk TARGET`: the guest's I/O counters per disk.
struct DiskStats: Query {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "Show the guest's I/O counters per disk.",
        discussion: """
            One row per block device, from /proc/diskstats: reads and writes completed, \
            sectors (512 bytes) read and written, discards and flushes completed, I/Os in \
            flight, and milliseconds spent doing I/O. --json has every counter the agent \
            reports, merges and per-kind times included.
            """)
    static let agentCommand = Catalogue.Commands.guestGetDiskstats

    @OptionGroup var options: QueryOptions

    /// The columns shown, with the agent's member under each.
    static let columns: [(header: String, member: String)] = [
        ("READS", "read-ios"), ("READ-SECTORS", "read-sectors"), ("WRITES", "write-ios"), ("WRITE-SECTORS", "write-sectors"),
        ("DISCARDS", "discard-ios"), ("FLUSHES", "flush-ios"), ("IN-FLIGHT", "ios-pgr"), ("IO-MS", "total-ticks"),
    ]

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        var rows: [[String]] = []
        for disk in try elements(value, label: label) {
            guard let name = disk["name"]?.string, let major = disk["major"]?.number?.description, let minor = disk["minor"]?.number?.description,
                disk["stats"]?.object != nil, let counters = Human.counters(disk["stats"], Self.columns.map(\.member))
            else { throw Self.unexpected(value, label: label) }
            rows.append([name, "\(major):\(minor)"] + counters)
        }
        return .table(header: ["NAME", "MAJ:MIN"] + Self.columns.map(\.header), rows: rows, rightAligned: Set(2..<(2 + Self.columns.count)))
    }
}
