import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga fstrim TARGET [--minimum BYTES]`: discard the unused blocks of the guest's
/// filesystems.
struct FSTrim: Query {
    static let configuration = CommandConfiguration(
        commandName: "fstrim",
        abstract: "Discard the unused blocks of the guest's filesystems.",
        discussion: """
            The agent trims every mounted filesystem, as fstrim -a does, and reports each: \
            the bytes it trimmed (powers of 1024) or why it could not. A filesystem that \
            failed shows its error in the table; qga still exits 0, since the agent did \
            what it could (--json has the agent's report unchanged). Trimming can take \
            minutes: the default timeout is 600 seconds.
            """)
    static let agentCommand = Catalogue.Commands.guestFstrim

    @OptionGroup var options: QueryOptions

    @Option(help: ArgumentHelp("Skip free ranges smaller than SIZE (K, M and G suffixes allowed).", valueName: "size"))
    var minimum: ByteSize?

    func agentArguments() throws -> JSONObject? {
        minimum.map { ["minimum": .number(JSONNumber($0.bytes))] }
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard let paths = value["paths"]?.array else { throw Self.unexpected(value, label: label) }
        var rows: [[String]] = []
        for path in paths {
            guard let name = path["path"]?.string else { throw Self.unexpected(value, label: label) }
            let trimmed = path["trimmed"]?.number.map { $0.int64.flatMap { $0 >= 0 ? Human.size($0) : nil } ?? $0.description } ?? ""
            rows.append([name, trimmed, path["error"].flatMap(Human.text) ?? ""])
        }
        return .table(header: ["PATH", "TRIMMED", "ERROR"], rows: rows, rightAligned: [1])
    }
}
