import ArgumentParser
import QGAClient

/// The help for every command's TARGET argument.
let targetHelp = ArgumentHelp(
    "A libvirt domain (name, UUID or id), or the agent's socket: a path containing '/', or unix:PATH.",
    valueName: "target")

/// Whether a target names a libvirt domain (rather than a socket).
func isDomain(_ target: String) -> Bool {
    if case .domain = try? Target(parsing: target) { return true }
    return false
}

/// A number of seconds to wait, or the command's default when written `--wait` alone.
struct WaitTime: ExpressibleByArgument {
    /// Stands for "the default" when `--wait` has no number after it (see `normalizeWait`).
    static let defaultMarker = "default"
    var seconds: Double?

    init?(argument: String) {
        if argument == WaitTime.defaultMarker {
            seconds = nil
        } else if let s = Double(argument), s > 0, s <= 86400 {
            seconds = s
        } else {
            return nil
        }
    }
}

/// Lets `--wait` take an optional number, which ArgumentParser options cannot: a `--wait`
/// not followed by a number gets the default marker inserted after it.
func normalizeWait(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var index = 0
    while index < arguments.count {
        let word = arguments[index]
        out.append(word)
        if word == "--" {
            out += arguments[(index + 1)...]
            break
        }
        if word == "--wait" {
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            if next.flatMap(Double.init) == nil { out.append(WaitTime.defaultMarker) }
        }
        index += 1
    }
    return out
}

/// A failure a command reports itself with a specific exit code (freeze-run's statuses).
struct CommandFailure: Error {
    var code: Int32
    var message: String?
    /// Further lines of our own after the message (each printed, and escaped, on its own), so
    /// that a guest's text inside `message` can never start a line.
    var notes: [String] = []
}
