import ArgumentParser
import Glibc
import QGAClient
import QGAProtocol

/// What every query takes: the targets (or --all), `--json`, and the agent, output and
/// fan-out options.
struct QueryOptions: ParsableArguments {
    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var fanOut: FanOutOptions
    @Argument(help: targetsHelp, completion: DomainCompletion.names, transform: Target.argument) var targets: [Target] = []
    @Flag(help: "Print the agent's value unchanged, as JSON (on one line with --compact); with several targets, one JSON line per target.") var json = false

    func validate() throws {
        guard !output.raw else { throw ValidationError("--raw goes with exec only") }
        try fanOut.check(targets)
    }
}

/// A typed query: one agent command, printed as a human view or, with `--json`, as the
/// agent's value unchanged; on several targets at once with one line or row per target.
protocol Query: ParsableCommand {
    /// The agent command this query runs.
    static var agentCommand: CommandInfo { get }
    var options: QueryOptions { get }
    /// The agent command's arguments, worked out once before any agent is reached (a
    /// password read from the terminal, a time parsed from the command line); nil for none.
    func agentArguments() throws -> JSONObject?
    /// This query's value from one agent, given `agentArguments()`: by default the value of
    /// `agentCommand`. A query that picks its command per invocation (suspend's mode) or
    /// needs more than one request (set the clock, then read it) provides its own.
    func value(on connection: any AgentConnection, arguments: JSONObject?, options: CallOptions) throws -> JSONValue
    /// The human view of the agent's value; a value of the wrong shape is the guest
    /// breaking the protocol (`Query.unexpected`).
    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView
}

extension Query {
    func agentArguments() throws -> JSONObject? { nil }

    func value(on connection: any AgentConnection, arguments: JSONObject?, options: CallOptions) throws -> JSONValue {
        try Self.query(Self.agentCommand.name, arguments: arguments, on: connection, options: options)
    }

    func run() throws {
        let arguments = try agentArguments()
        if !options.fanOut.isFanOut(options.targets), let target = options.targets.first {
            return try runOne(target, arguments: arguments)
        }
        try runMany(arguments: arguments)
    }

    /// One target: its view, or its value with --json; a failure is the command's.
    private func runOne(_ target: Target, arguments: JSONObject?) throws {
        let connection = try options.agent.connect(target)
        let value = try value(on: connection, arguments: arguments, options: options.agent.callOptions)
        if options.json {
            try Console.print(value, with: options.output.printer)
        } else {
            for line in try human(value, label: connection.label).lines { try Console.line(line) }
        }
    }

    /// Several targets: JSON lines in the targets' order with --json, else one table (or
    /// `TARGET: line` lines) once all have answered; failures on stderr.
    private func runMany(arguments: JSONObject?) throws {
        let plan = FanOutPlan(targets: options.targets, fanOut: options.fanOut, agent: options.agent)
        let callOptions = options.agent.callOptions
        var printer = options.output.printer
        printer.layout = .compact
        var report = FanOutReport()
        var views: [(label: String, view: HumanView)] = []
        try plan.run({ target, connection -> Outcome in
            let value = try value(on: connection, arguments: arguments, options: callOptions)
            return options.json ? .value(value) : .view(try human(value, label: connection.label))
        }, deliver: { target, result in
            switch result {
            case .success(.value(let value)):
                report.succeeded()
                try Console.print(FanOutReport.jsonLine(target, value: value), with: printer)
            case .success(.view(let view)):
                report.succeeded()
                views.append((target.label, view))
            case .failure(let error):
                try report.failed(target, error, json: options.json ? printer : nil)
            }
        })
        for line in HumanView.combine(views) { try Console.line(line) }
        try report.finish()
    }

    /// Runs `command` and returns its value. An agent that lacks the command (an older
    /// QEMU) gets a message naming the command, the QEMU version that added it and the
    /// agent's version, rather than the agent's bare CommandNotFound.
    static func query(_ command: String, arguments: JSONObject? = nil, on connection: any AgentConnection, options: CallOptions) throws -> JSONValue {
        let value: JSONValue?
        do {
            value = try connection.call(command, arguments: arguments, options: options)
        } catch {
            guard case .agentError(let agentError) = error.code, agentError.errorClass == "CommandNotFound",
                let missing = missingCommand(command, on: connection, options: options)
            else { throw error }
            throw missing
        }
        guard let value else {
            // Silence is how a command without a success reply (guest-suspend-*) succeeds.
            if Catalogue.info(command)?.successResponse == false { return .object([:]) }
            throw unexpected(command, nil, label: connection.label)
        }
        return value
    }

    /// The failure for a command the agent does not have, or nil when it has it (it is
    /// disabled, and the agent's own error says so) or guest-info cannot tell.
    private static func missingCommand(_ command: String, on connection: any AgentConnection, options: CallOptions) -> CommandFailure? {
        guard let info = try? connection.call("guest-info", options: options),
            let offered = try? Offered.list(info, from: connection.label),
            !offered.contains(where: { $0.name == command })
        else { return nil }
        let since = Catalogue.info(command)?.since.map { "added in QEMU \($0)" } ?? "not in qga's catalogue"
        let version = info["version"]?.string.map { "version \($0)" } ?? "which gave no version"
        return CommandFailure(
            code: ExitCodes.agentError,
            message: "\(connection.label): the agent has no \(command) (\(since)); it is \(version)")
    }

    /// The protocol violation of a value of this query's command that does not have the
    /// schema's shape.
    static func unexpected(_ value: JSONValue?, label: String) -> ClientError {
        unexpected(agentCommand.name, value, label: label)
    }

    /// The protocol violation of a value that does not have the schema's shape.
    static func unexpected(_ command: String, _ value: JSONValue?, label: String) -> ClientError {
        ClientError(.protocolViolation, "\(label): \(command) returned \(value?.kindName ?? "nothing") of an unexpected shape")
    }

    /// The members of an array return value, or a protocol violation.
    func elements(_ value: JSONValue, label: String) throws(ClientError) -> [JSONValue] {
        guard let array = value.array else { throw Self.unexpected(value, label: label) }
        return array
    }
}

/// What one target of several gives a query: its value (--json) or its human view.
enum Outcome: Sendable {
    case value(JSONValue)
    case view(HumanView)
}

/// Formatting shared by the human views.
enum Human {
    /// A JSON scalar as text: strings as they are, numbers as sent, booleans as yes/no.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s): s
        case .number(let n): n.description
        case .bool(let b): b ? "yes" : "no"
        default: nil
        }
    }

    /// A byte count as `df -h` writes it: powers of 1024, one decimal below 10, rounded up.
    static func size(_ bytes: Int64) -> String {
        guard bytes >= 1024 else { return "\(max(0, bytes))" }
        var value = Double(bytes)
        var unit = 0
        let units = ["", "K", "M", "G", "T", "P", "E"]
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if value < 10 {
            let tenths = (value * 10).rounded(.up)
            if tenths < 100 { return "\(Int(tenths) / 10).\(Int(tenths) % 10)\(units[unit])" }
            value = 10
        }
        let whole = value.rounded(.up)
        if whole >= 1024, unit < units.count - 1 { return "1.0\(units[unit + 1])" }
        return "\(Int(whole))\(units[unit])"
    }

    /// `used` as a percentage of `total`, rounded up as df does; nil when total is 0.
    static func percent(_ used: Int64, of total: Int64) -> String? {
        guard total > 0, used >= 0 else { return nil }
        let (product, overflow) = used.multipliedReportingOverflow(by: 100)
        // Past Int64 only a guest's nonsense (used far above total) gets here: clamped.
        if overflow { return "\(Int(min(1e9, (Double(used) * 100 / Double(total)).rounded(.up))))%" }
        return "\(product / total + (product % total == 0 ? 0 : 1))%"
    }
}

extension Human {
    /// `n` as at least two digits.
    static func twoDigits(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// A non-negative finite number below 1e9 with two decimals, as uptime writes loads.
    static func hundredths(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        return "\(hundredths / 100).\(twoDigits(hundredths % 100))"
    }

    /// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS` in UTC; nil outside years 1..9999.
    static func utcTime(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds > -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
