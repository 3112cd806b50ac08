import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga ifaddr TARGET`: the guest's network interfaces.
struct IfAddr: Query {
    static let configuration = CommandConfiguration(
        commandName: "ifaddr",
        abstract: "Show the guest's network interfaces and addresses, as ip -br addr does.",
        discussion: "One line per interface: its name, hardware address and IP addresses with their prefix lengths.")
    static let agentCommand = Catalogue.Commands.guestNetworkGetInterfaces

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        var rows: [[String]] = []
        for interface in try elements(value, label: label) {
            guard let name = interface["name"]?.string else { throw Self.unexpected(value, label: label) }
            let addresses = (interface["ip-addresses"]?.array ?? []).compactMap { address -> String? in
                guard let ip = address["ip-address"]?.string else { return nil }
                return Human.text(address["prefix"]).map { "\(ip)/\($0)" } ?? ip
            }
            rows.append([name, interface["hardware-address"]?.string ?? "", addresses.joined(separator: " ")])
        }
        return .table(header: ["NAME", "HWADDR", "ADDRESSES"], rows: rows)
    }
}
