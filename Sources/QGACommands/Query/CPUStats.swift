import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga stats cpu TARGET`: the time each guest CPU has spent in each state.
struct CPUStats: Query {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Show the time each guest CPU has spent in each state.",
        discussion: """
            One row per CPU: milliseconds in user, nice, system, idle, iowait, irq, softirq, \
            steal, guest and guestnice time since boot, as the agent reports them from \
            /proc/stat (a column the agent leaves out for every CPU is not shown).
            """)
    static let agentCommand = Catalogue.Commands.guestGetCpustats

    @OptionGroup var options: QueryOptions

    static let states = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestnice"]

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView {
        let entries = try elements(value, label: label)
        // The union has one branch so far; a CPU of another type shows its number only
        // (--json has what the agent sent).
        let shown = Self.states.filter { state in entries.contains { $0[state] != nil } }
        var rows: [[String]] = []
        for entry in entries {
            guard let type = entry["type"]?.string, let cpu = entry["cpu"]?.number?.description,
                let counters = Human.counters(entry, shown)
            else { throw Self.unexpected(value, label: label) }
            rows.append([cpu] + (type == "linux" ? counters : []))
        }
        return .table(header: ["CPU"] + shown.map { $0.uppercased() }, rows: rows, rightAligned: Set(0...shown.count))
    }
}
