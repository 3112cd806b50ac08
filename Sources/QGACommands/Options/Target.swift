import ArgumentParser
import QGAClient

/// The help for every command's TARGET argument.
let targetHelp = ArgumentHelp(
    "A libvirt domain (name, UUID or id), or the agent's socket: a path containing '/', or unix:PATH.",
    valueName: "target")

extension Target {
    /// Reads a TARGET argument, for `@Argument(transform:)`: parsed once, by ArgumentParser,
    /// which reports why a value is refused (exit 64).
    static func argument(_ text: String) throws -> Target {
        try Target(parsing: text)
    }

    /// Whether the target names a libvirt domain (rather than a socket).
    var isDomain: Bool {
        if case .domain = self { return true }
        return false
    }
}

/// A number of seconds to wait; `--wait` alone stands for the command's default.
struct WaitTime: ExpressibleByArgument, CustomStringConvertible {
    /// nil: the command's default, which `defaultText` describes in the help.
    var seconds: Double?
    private var defaultText = ""

    /// What `--wait` alone means, shown in the help as its "default as flag".
    static func commandDefault(_ text: String) -> WaitTime {
        var wait = WaitTime(seconds: nil)
        wait.defaultText = text
        return wait
    }

    init(seconds: Double?) { self.seconds = seconds }

    /// Any number (the range is checked by `validate`, which can say what it is); anything
    /// else is not a value of `--wait`, which then stands alone.
    init?(argument: String) {
        guard let seconds = Double(argument) else { return nil }
        self.seconds = seconds
    }

    /// Throws unless the number of seconds, if given, is in (0, 86400].
    func validate() throws {
        if let seconds, !(seconds > 0 && seconds <= 86400) {
            throw ValidationError("--wait must be between 0 and 86400 seconds")
        }
    }

    var description: String {
        guard let seconds else { return defaultText }
        return seconds == seconds.rounded() && abs(seconds) < 1e15 ? "\(Int64(seconds))" : "\(seconds)"
    }
}

/// A failure a command reports itself with a specific exit code (freeze-run's statuses).
struct CommandFailure: Error {
    var code: Int32
    var message: String?
    /// Further lines of our own after the message (each printed, and escaped, on its own), so
    /// that a guest's text inside `message` can never start a line.
    var notes: [String] = []
}
