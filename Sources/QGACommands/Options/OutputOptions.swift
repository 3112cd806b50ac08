import ArgumentParser
import QGAClient
import QGAProtocol

/// When to colour JSON output.
enum ColorChoice: String, CaseIterable, ExpressibleByArgument {
    /// On a terminal, unless NO_COLOR is set.
    case auto
    case always
    case never
}

/// How replies are printed; shared by every command that prints agent data.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result on one line (for scripts).")
    var compact = false

    @Flag(help: "Print the agent's reply exactly as received, error replies included (on a terminal, with control characters, line breaks and bidi controls escaped).")
    var raw = false

    @Option(help: "Colour JSON output: auto (on a terminal, unless NO_COLOR is set), always, or never.")
    var color: ColorChoice = .auto

    func validate() throws {
        if compact && raw { throw ValidationError("--compact and --raw cannot be used together") }
    }

    /// The printer these options ask for, for output on stdout.
    var printer: JSONPrinter {
        let useColor: Bool
        switch color {
        case .always: useColor = true
        case .never: useColor = false
        case .auto:
            let noColor = Console.environment("NO_COLOR").map { !$0.isEmpty } ?? false
            useColor = !noColor && Console.isTerminal(1)
        }
        return JSONPrinter(layout: compact ? .compact : .pretty, palette: useColor ? JSONPrinter.Palette() : nil)
    }

    /// Prints a command's result, or the raw reply with `--raw`: byte for byte into a pipe
    /// or file, which is what scripts need, and escaped on a terminal, where a guest's
    /// control characters, line breaks and bidi controls must not act.
    func print(_ reply: Reply?) throws {
        guard let reply else { return }
        if raw {
            try Console.out((Console.isTerminal(1) ? Console.terminalSafe(reply.raw) : reply.raw) + [0x0A])
        } else if case .success(let value, _) = reply.incoming {
            try Console.print(value, with: printer)
        }
    }
}
