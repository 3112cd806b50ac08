import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga stats cpu|disk TARGET`: the guest's CPU and disk counters.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the guest's CPU or disk counters.",
        discussion: "The counters since the guest booted, as its kernel keeps them (Linux guests).",
        subcommands: [CPUStats.self, DiskStats.self])
}

extension Human {
    /// A counter as the guest sent it (the number's own text: no arithmetic, so no size
    /// can trap), empty when absent; anything but a number is the guest breaking the
    /// protocol.
    static func counter(_ value: JSONValue?) -> String? {
        switch value {
        case nil: ""
        case .number(let n)?: n.description
        default: nil
        }
    }

    /// The counters `names` of `object`, or nil when one of them is not a number.
    static func counters(_ object: JSONValue?, _ names: [String]) -> [String]? {
        var cells: [String] = []
        for name in names {
            guard let cell = counter(object?[name]) else { return nil }
            cells.append(cell)
        }
        return cells
    }
}
