import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga timezone TARGET`: the guest's time zone.
struct Timezone: Query {
    static let configuration = CommandConfiguration(
        commandName: "timezone",
        abstract: "Show the guest's time zone.",
        discussion: "The zone's name (when the agent reports one) and its offset from UTC.")
    static let agentCommand = Catalogue.Commands.guestGetTimezone

    @OptionGroup var options: QueryOptions

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        // Any Int64 may come from the guest; a day either way is the most a zone can be off.
        guard let offset = value["offset"]?.number?.int64, (-86400...86400).contains(offset) else {
            throw Self.unexpected(value, label: label)
        }
        let magnitude = abs(offset)
        let utc = "UTC\(offset < 0 ? "-" : "+")\(Human.twoDigits(magnitude / 3600)):\(Human.twoDigits(magnitude % 3600 / 60))"
        guard let zone = value["zone"]?.string else { return .value(utc, column: "TIMEZONE") }
        return .value("\(zone) (\(utc))", column: "TIMEZONE")
    }
}
