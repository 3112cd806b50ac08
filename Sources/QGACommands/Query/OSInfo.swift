import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga osinfo TARGET`: the guest's operating system.
struct OSInfo: Query {
    static let configuration = CommandConfiguration(
        commandName: "osinfo",
        abstract: "Show the guest's operating system.",
        discussion: "The fields of guest-get-osinfo (from the guest's os-release and uname), one a line.")
    static let agentCommand = Catalogue.Commands.guestGetOsinfo

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        guard value.object != nil else { throw Self.unexpected(value, label: label) }
        let names = ["pretty-name", "name", "id", "version", "version-id", "variant", "variant-id", "kernel-release", "kernel-version", "machine"]
        let row = ["pretty-name", "kernel-release", "machine"].map { Human.text(value[$0]) ?? "" }
        return HumanView(
            lines: Table.fields(names.map { ($0, Human.text(value[$0])) }),
            columns: .init(header: ["PRETTY-NAME", "KERNEL-RELEASE", "MACHINE"], rows: [row]))
    }
}
