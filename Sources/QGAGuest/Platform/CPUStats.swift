import QGAProtocol

/// guest-get-cpustats from the text of /proc/stat: one entry per "cpuN" line (the "cpu"
/// total is left out), times in milliseconds as qemu-ga reports them (the kernel counts
/// clock ticks, `ticksPerSecond` of them a second: sysconf(_SC_CLK_TCK)).
func cpuStats(_ text: String, ticksPerSecond: UInt64) -> [JSONValue] {
    let keys = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestnice"]
    var result: [JSONValue] = []
    for line in text.split(separator: "\n") where line.hasPrefix("cpu") {
        let fields = line.split(separator: " ")
        guard let cpu = Int64(fields[0].dropFirst(3)) else { continue }  // "cpu" alone is the total
        // The leading run of numbers, as sscanf("%lu ...") reads them.
        var values: [UInt64] = []
        for field in fields.dropFirst().prefix(keys.count) {
            guard let v = UInt64(field) else { break }
            values.append(v)
        }
        // user, nice, system and idle are mandatory; qemu-ga stops at a line without them.
        guard values.count >= 4 else { break }
        var stats: JSONObject = ["type": "linux", "cpu": .int(cpu)]
        for (key, ticks) in zip(keys, values) {
            stats.append(key: key, value: .uint(milliseconds(ticks: ticks, perSecond: ticksPerSecond)))
        }
        result.append(.object(stats))
    }
    return result
}

/// ticks * 1000 / perSecond, rounded down like qemu-ga's integer arithmetic, without
/// overflowing on the way (clamped if the result itself does not fit).
func milliseconds(ticks: UInt64, perSecond: UInt64) -> UInt64 {
    guard perSecond > 0 else { return ticks }
    let (whole, rest) = ticks.quotientAndRemainder(dividingBy: perSecond)
    let (wholeMs, overflow) = whole.multipliedReportingOverflow(by: 1000)
    // rest < perSecond, so rest * 1000 / perSecond < 1000; rest * 1000 fits for any sane tick rate.
    let (restTimes, restOverflow) = rest.multipliedReportingOverflow(by: 1000)
    let (sum, sumOverflow) = wholeMs.addingReportingOverflow(restOverflow ? 999 : restTimes / perSecond)
    return overflow || sumOverflow ? UInt64.max : sum
}
