import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga users TARGET`: who is logged in to the guest.
struct Users: Query {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Show the users logged in to the guest.",
        discussion: "One line per user with the time of their first login in UTC (and the domain, for Windows guests).")
    static let agentCommand = Catalogue.Commands.guestGetUsers

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        let users = try elements(value, label: label)
        let withDomain = users.contains { $0["domain"] != nil }
        var rows: [[String]] = []
        for user in users {
            guard let name = user["user"]?.string else { throw Self.unexpected(value, label: label) }
            let login = user["login-time"]?.number?.double.flatMap(Human.utcTime) ?? ""
            rows.append([name] + (withDomain ? [user["domain"]?.string ?? ""] : []) + [login])
        }
        return .table(header: ["USER"] + (withDomain ? ["DOMAIN"] : []) + ["LOGIN (UTC)"], rows: rows)
    }
}
