import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga commands [TARGET]`: the catalogue, and what one agent offers of it.
struct Commands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands",
        abstract: "List the agent commands qga knows, and which ones an agent has.",
        discussion: """
            Without a target: every command of the catalogue (QEMU's qga schema), with the \
            QEMU version that introduced it, whether Linux and Windows builds of qemu-ga have \
            it, and whether it replies on success. With a target, an AGENT column says \
            whether that agent has each command and has it enabled (from guest-info; a \
            command can be disabled with qemu-ga's --block-rpcs), and commands the agent has \
            that the catalogue does not know are listed at the end. --json prints the list \
            as a JSON array (one line with --compact). 'qga exec --describe COMMAND' shows \
            one command in full.
            """)

    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: targetHelp, transform: Target.argument)
    var target: Target?

    @Flag(help: "Print the list as a JSON array (on one line with --compact).")
    var json = false

    func validate() throws {
        guard !output.raw else { throw ValidationError("--raw goes with exec only") }
    }

    func run() throws {
        var offered: [Offered]?
        if let target {
            let resolved = try agent.connect(target)
            offered = try Offered.list(try resolved.call("guest-info", options: agent.callOptions), from: resolved.label)
        }
        let rows = CommandRow.rows(offered: offered)
        if json {
            try Console.print(.array(rows.map { $0.json(withAgent: offered != nil) }), with: output.printer)
        } else {
            for line in CommandRow.table(rows, withAgent: offered != nil) { try Console.line(line) }
        }
    }
}

/// One entry of `guest-info`'s `supported_commands`.
struct Offered: Equatable {
    var name: String
    var enabled: Bool
    var successResponse: Bool?

    /// The agent's commands from a `guest-info` return value; anything else in the reply
    /// (it comes from the guest) is a protocol violation.
    static func list(_ value: JSONValue?, from label: String) throws(ClientError) -> [Offered] {
        guard let entries = value?["supported_commands"]?.array else {
            throw ClientError(.protocolViolation, "\(label): guest-info returned no supported_commands list")
        }
        var list: [Offered] = []
        for entry in entries {
            guard let name = entry["name"]?.string, let enabled = entry["enabled"]?.bool else {
                throw ClientError(.protocolViolation, "\(label): guest-info lists a command without a name or enabled flag")
            }
            list.append(Offered(name: name, enabled: enabled, successResponse: entry["success-response"]?.bool))
        }
        return list
    }
}

/// A line of `qga commands`.
struct CommandRow: Equatable {
    var name: String
    /// nil for a command the catalogue does not know.
    var info: CommandInfo?
    /// With a target: what the agent said of it (nil: the agent does not have it).
    var offered: Offered?

    /// The catalogue's commands by name, each with what the agent says of it, then the
    /// agent's commands the catalogue does not know.
    static func rows(offered: [Offered]?) -> [CommandRow] {
        var rows = Catalogue.commands.map { info in
            CommandRow(name: info.name, info: info, offered: offered?.first { $0.name == info.name })
        }
        rows.sort { $0.name < $1.name }
        let unknown = (offered ?? []).filter { Catalogue.info($0.name) == nil }.sorted { $0.name < $1.name }
        return rows + unknown.map { CommandRow(name: $0.name, info: nil, offered: $0) }
    }

    /// `enabled`, `disabled` or `-` (not offered).
    var agentText: String {
        guard let offered else { return "-" }
        return offered.enabled ? "enabled" : "disabled"
    }

    var repliesText: String {
        guard let replies = info?.successResponse ?? offered?.successResponse else { return "?" }
        return replies ? "yes" : "no"
    }

    /// A table with a header line, columns padded to their widest cell (`Table.lines`, which
    /// escapes names an agent sent before measuring them).
    static func table(_ rows: [CommandRow], withAgent: Bool) -> [String] {
        let yesNo = { (b: Bool?) in b.map { $0 ? "yes" : "no" } ?? "?" }
        let header = ["COMMAND", "SINCE", "LINUX", "WINDOWS", "REPLIES"] + (withAgent ? ["AGENT"] : [])
        let cells = rows.map { row in
            let linux = row.info.map { $0.condition?.holdsOnLinux ?? true }
            let windows = row.info.map { $0.condition?.holdsOnWindows ?? true }
            return [row.name, row.info?.since ?? (row.info == nil ? "?" : "-"), yesNo(linux), yesNo(windows), row.repliesText]
                + (withAgent ? [row.agentText] : [])
        }
        return Table.lines(header: header, rows: cells)
    }

    /// `{"name", "since", "linux", "windows", "success-response"}`, and with a target
    /// `"supported"` and `"enabled"`; null where the catalogue does not know.
    func json(withAgent: Bool) -> JSONValue {
        var object: JSONObject = ["name": .string(name)]
        object["since"] = info?.since.map { .string($0) } ?? .null
        object["linux"] = info.map { .bool($0.condition?.holdsOnLinux ?? true) } ?? .null
        object["windows"] = info.map { .bool($0.condition?.holdsOnWindows ?? true) } ?? .null
        object["success-response"] = (info?.successResponse ?? offered?.successResponse).map { .bool($0) } ?? .null
        if withAgent {
            object["supported"] = .bool(offered != nil)
            object["enabled"] = .bool(offered?.enabled ?? false)
        }
        return .object(object)
    }
}
