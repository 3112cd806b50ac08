import QGAProtocol

/// Turns each polled command's reply into samples. A guest's reply is hostile: missing,
/// mistyped, negative or absurd values are left out rather than failing the whole reply,
/// and no reply yields more than `maxEntries` entries (filesystems, CPUs, devices).
public enum Decode {
    /// The most entries of one reply that become series, per target.
    public static let maxEntries = 1000

    /// The commands polled every --interval, in the order they are sent.
    public static let fastCommands = [
        "guest-get-load", "guest-get-cpustats", "guest-get-diskstats", "guest-network-get-interfaces",
        "guest-get-users", "guest-get-vcpus",
    ]
    /// The commands polled every --slow-interval (guest-info first: it says which others
    /// the agent has).
    public static let slowCommands = ["guest-info", "guest-get-fsinfo", "guest-get-osinfo"]

    /// The samples of `command`'s reply `value`; nil for a command this does not decode.
    public static func samples(_ command: String, _ value: JSONValue) -> [Sample]? {
        switch command {
        case "guest-info": info(value)
        case "guest-get-fsinfo": fsinfo(value)
        case "guest-get-osinfo": osinfo(value)
        case "guest-get-load": load(value)
        case "guest-get-cpustats": cpustats(value)
        case "guest-get-diskstats": diskstats(value)
        case "guest-network-get-interfaces": interfaces(value)
        case "guest-get-users": users(value)
        case "guest-get-vcpus": vcpus(value)
        default: nil
        }
    }

    /// The names of the commands guest-info lists as enabled; nil if it lists none at all.
    public static func supportedCommands(_ value: JSONValue) -> Set<String>? {
        guard let list = value.object?["supported_commands"]?.array else { return nil }
        var names = Set<String>()
        for entry in list {
            guard let object = entry.object, let name = object["name"]?.string else { continue }
            if object["enabled"]?.bool != false { names.insert(name) }
        }
        return names
    }

    /// guest-fsfreeze-status: true for "frozen", false for "thawed", nil otherwise.
    public static func frozen(_ value: JSONValue) -> Bool? {
        switch value.string {
        case "frozen": true
        case "thawed": false
        default: nil
        }
    }

    static func info(_ value: JSONValue) -> [Sample] {
        guard let version = value.object?["version"]?.string else { return [] }
        return [Sample(.agentInfo, [version], 1)]
    }

    static func osinfo(_ value: JSONValue) -> [Sample] {
        guard let object = value.object else { return [] }
        let keys = ["id", "name", "pretty-name", "version-id", "kernel-release", "machine"]
        return [Sample(.osInfo, keys.map { object[$0]?.string ?? "" }, 1)]
    }

    static func fsinfo(_ value: JSONValue) -> [Sample] {
        var samples: [Sample] = []
        for entry in entries(value) {
            guard let object = entry.object, let mountpoint = object["mountpoint"]?.string else { continue }
            let labels = [mountpoint, object["type"]?.string ?? "", object["name"]?.string ?? ""]
            // Only with both counts: a filesystem the guest could not stat reports neither.
            guard let total = unsigned(object["total-bytes"]), let used = unsigned(object["used-bytes"]) else { continue }
            samples.append(Sample(.filesystemSizeBytes, labels, total))
            samples.append(Sample(.filesystemUsedBytes, labels, used))
            samples.append(Sample(.filesystemFreeBytes, labels, max(0, total - used)))
        }
        return samples
    }

    static func load(_ value: JSONValue) -> [Sample] {
        guard let object = value.object else { return [] }
        var samples: [Sample] = []
        for (key, metric) in [("load1m", Metric.load1), ("load5m", .load5), ("load15m", .load15)] {
            if let load = unsigned(object[key]) { samples.append(Sample(metric, [], load)) }
        }
        return samples
    }

    /// Milliseconds per mode; guest and guestnice are left out, as Linux counts them in
    /// user and nice already (node_exporter does the same).
    static func cpustats(_ value: JSONValue) -> [Sample] {
        let modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
        var samples: [Sample] = []
        for entry in entries(value) {
            guard let object = entry.object, let cpu = object["cpu"]?.number?.int64, cpu >= 0 else { continue }
            for mode in modes {
                if let ms = unsigned(object[mode]) { samples.append(Sample(.cpuSecondsTotal, [String(cpu), mode], ms / 1000)) }
            }
        }
        return samples
    }

    static func diskstats(_ value: JSONValue) -> [Sample] {
        let fields: [(String, Metric, Double)] = [
            ("read-sectors", .diskReadBytesTotal, 512), ("write-sectors", .diskWrittenBytesTotal, 512),
            ("read-ios", .diskReadsCompletedTotal, 1), ("write-ios", .diskWritesCompletedTotal, 1),
            ("total-ticks", .diskIOTimeSecondsTotal, 0.001),
        ]
        var samples: [Sample] = []
        for entry in entries(value) {
            guard let object = entry.object, let name = object["name"]?.string, let stats = object["stats"]?.object else { continue }
            for (key, metric, scale) in fields {
                if let count = unsigned(stats[key]) { samples.append(Sample(metric, [name], count * scale)) }
            }
        }
        return samples
    }

    static func interfaces(_ value: JSONValue) -> [Sample] {
        let fields: [(String, Metric)] = [
            ("rx-bytes", .networkReceiveBytesTotal), ("tx-bytes", .networkTransmitBytesTotal),
            ("rx-packets", .networkReceivePacketsTotal), ("tx-packets", .networkTransmitPacketsTotal),
            ("rx-errs", .networkReceiveErrorsTotal), ("tx-errs", .networkTransmitErrorsTotal),
            ("rx-dropped", .networkReceiveDroppedTotal), ("tx-dropped", .networkTransmitDroppedTotal),
        ]
        var samples: [Sample] = []
        for entry in entries(value) {
            // Interfaces without counters (ifb0, say) have no `statistics` at all.
            guard let object = entry.object, let name = object["name"]?.string, let stats = object["statistics"]?.object else {
                continue
            }
            for (key, metric) in fields {
                if let count = unsigned(stats[key]) { samples.append(Sample(metric, [name], count)) }
            }
        }
        return samples
    }

    static func users(_ value: JSONValue) -> [Sample] {
        guard let list = value.array else { return [] }
        return [Sample(.users, [], Double(list.count))]
    }

    static func vcpus(_ value: JSONValue) -> [Sample] {
        guard let list = value.array else { return [] }
        var online = 0
        var offline = 0
        for entry in list {
            switch entry.object?["online"]?.bool {
            case true?: online += 1
            case false?: offline += 1
            case nil: break
            }
        }
        return [Sample(.vcpus, ["online"], Double(online)), Sample(.vcpus, ["offline"], Double(offline))]
    }

    /// The first `maxEntries` elements of an array reply.
    private static func entries(_ value: JSONValue) -> ArraySlice<JSONValue> {
        (value.array ?? []).prefix(maxEntries)
    }

    /// A finite, non-negative number, or nil.
    private static func unsigned(_ value: JSONValue?) -> Double? {
        guard let double = value?.number?.double, double.isFinite, double >= 0 else { return nil }
        return double
    }
}
