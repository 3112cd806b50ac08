import Glibc
import QGAProtocol

extension GuestAgent {
    /// The system family: each handler with its catalogue entry.
    static let systemHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestSyncDelimited, guestSyncDelimited),
        Handler(Catalogue.Commands.guestSync, guestSync),
        Handler(Catalogue.Commands.guestPing, guestPing),
        Handler(Catalogue.Commands.guestGetTime, guestGetTime),
        Handler(Catalogue.Commands.guestSetTime, guestSetTime),
        Handler(Catalogue.Commands.guestInfo, guestInfo),
        Handler(Catalogue.Commands.guestGetDevices, guestGetDevices),
        Handler(Catalogue.Commands.guestShutdown, guestShutdown),
        Handler(Catalogue.Commands.guestSuspendDisk, guestSuspendDisk),
        Handler(Catalogue.Commands.guestSuspendRam, guestSuspendRam),
        Handler(Catalogue.Commands.guestSuspendHybrid, guestSuspendHybrid),
        Handler(Catalogue.Commands.guestGetHostName, guestGetHostName),
        Handler(Catalogue.Commands.guestGetTimezone, guestGetTimezone),
        Handler(Catalogue.Commands.guestGetOsinfo, guestGetOsinfo),
        Handler(Catalogue.Commands.guestGetUsers, guestGetUsers),
        Handler(Catalogue.Commands.guestGetLoad, guestGetLoad),
    ]
}

private func guestSyncDelimited(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .int(try args.int("id"))
}

private func guestSync(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .int(try args.int("id"))
}

private func guestPing(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return [:]
}

private func guestGetTime(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return .int(Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
}

private func guestSetTime(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    if let ns = try args.optionalInt("time") {
        var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        guard clock_settime(CLOCK_REALTIME, &ts) == 0 else {
            throw AgentError.generic("Failed to set time to guest: \(FileSystem.strerror(errno))")
        }
    }
    // Keep the hardware clock in step (or, without a time, read the time from it).
    let status = try runProgram(["hwclock", args.has("time") ? "-w" : "-s"])
    guard status == .exited(0) else { throw AgentError.generic("hwclock failed to set hardware clock to system time") }
    return [:]
}

private func guestInfo(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let commands: [JSONValue] = agent.handlers.map { handler in
        [
            "name": .string(handler.info.name), "enabled": .bool(agent.isEnabled(handler.info.name)),
            "success-response": .bool(handler.successResponse),
        ]
    }
    return ["version": .string(GuestAgent.version), "supported_commands": .array(commands)]
}

/// Windows only: listed by guest-info and always disabled, as qemu-ga 7.2 lists it
/// (`GuestAgent.listedThoughNotLinux`).
private func guestGetDevices(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    throw AgentError.generic("this feature or command is not currently supported")
}

private func guestShutdown(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let mode = try args.optionalString("mode") ?? "powerdown"
    let flag: String
    switch mode {
    case "powerdown": flag = "-P"
    case "halt": flag = "-H"
    case "reboot": flag = "-r"
    default: throw AgentError.generic("Parameter 'mode' expects 'halt', 'powerdown' or 'reboot'")
    }
    let argv = flag == "-r"
        ? ["/sbin/shutdown", "-r", "+0", "hypervisor initiated reboot"]
        : ["/sbin/shutdown", "-h", flag, "+0", "hypervisor initiated shutdown"]
    sync()
    guard try runProgram(argv) == .exited(0) else {
        throw AgentError.generic("child process has failed to shutdown")
    }
    return [:]
}

private func guestSuspendDisk(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    try suspend(state: "disk", systemd: "hibernate")
}

private func guestSuspendRam(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    try suspend(state: "mem", systemd: "suspend")
}

private func guestSuspendHybrid(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    try suspend(state: "", systemd: "hybrid-sleep")
}

/// Through systemd when it runs, else by writing `state` (none for hybrid) to /sys/power/state.
private func suspend(state: String, systemd: String) throws -> JSONValue {
    if FileSystem.exists("/run/systemd/system"), try runProgram(["systemctl", systemd]) == .exited(0) { return [:] }
    let supported = readTextFile("/sys/power/state")?.split(separator: " ").map { $0.trimmingWhitespace() } ?? []
    guard !state.isEmpty, supported.contains(where: { $0 == state }) else {
        throw AgentError.generic("this feature or command is not currently supported")
    }
    sync()
    guard FileSystem.write("/sys/power/state", Array(state.utf8)) else {
        throw AgentError.generic("suspend failed: \(FileSystem.strerror(errno))")
    }
    return [:]
}

private func guestGetHostName(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var name = [CChar](repeating: 0, count: 256)
    guard gethostname(&name, name.count - 1) == 0 else {
        throw AgentError.generic("cannot get hostname: \(FileSystem.strerror(errno))")
    }
    return ["host-name": .string(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))]
}

private func guestGetTimezone(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    var result = JSONObject()
    if let zone = parts.tm_zone { result.append(key: "zone", value: .string(String(cString: zone))) }
    result.append(key: "offset", value: .int(parts.tm_gmtoff))
    return .object(result)
}

private func guestGetOsinfo(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .object(osInfo())
}

private func guestGetUsers(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .array(loggedInUsers())
}

private func guestGetLoad(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var loads = [Double](repeating: 0, count: 3)
    guard getloadavg(&loads, 3) == 3 else { throw AgentError.generic("cannot get load average") }
    return ["load1m": .double(loads[0]), "load5m": .double(loads[1]), "load15m": .double(loads[2])]
}

/// uname and os-release (`QGA_OS_RELEASE` overrides the file, as in qemu-ga, for tests).
func osInfo() -> JSONObject {
    var result = JSONObject()
    var names = utsname()
    if uname(&names) == 0 {
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        result.append(key: "kernel-release", value: .string(field(names.release)))
        result.append(key: "kernel-version", value: .string(field(names.version)))
        result.append(key: "machine", value: .string(field(names.machine)))
    }
    let path = getenv("QGA_OS_RELEASE").map { String(cString: $0) }
    let text = path.flatMap { readTextFile($0) } ?? readTextFile("/etc/os-release") ?? readTextFile("/usr/lib/os-release") ?? ""
    var release: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        var value = line[line.index(after: eq)...].trimmingWhitespace()
        if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
            value = value.dropFirst().dropLast()
        }
        release[String(line[..<eq])] = String(value).replacingBackslashEscapes()
    }
    for (key, name) in [
        ("ID", "id"), ("NAME", "name"), ("PRETTY_NAME", "pretty-name"), ("VERSION", "version"),
        ("VERSION_ID", "version-id"), ("VARIANT", "variant"), ("VARIANT_ID", "variant-id"),
    ] {
        if let value = release[key] { result.append(key: name, value: .string(value)) }
    }
    return result
}

extension String {
    fileprivate func replacingBackslashEscapes() -> String {
        guard contains("\\") else { return self }
        var out = ""
        var escaped = false
        for c in self {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// Users with a login session in utmp, each once, with their earliest login time.
func loggedInUsers() -> [JSONValue] {
    var seen: [(String, Double)] = []
    setutxent()
    defer { endutxent() }
    while let entry = getutxent() {
        guard entry.pointee.ut_type == USER_PROCESS else { continue }
        let user = withUnsafeBytes(of: entry.pointee.ut_user) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let time = Double(entry.pointee.ut_tv.tv_sec) + Double(entry.pointee.ut_tv.tv_usec) / 1e6
        if let i = seen.firstIndex(where: { $0.0 == user }) {
            seen[i].1 = min(seen[i].1, time)
        } else {
            seen.append((user, time))
        }
    }
    return seen.map { ["user": .string($0.0), "login-time": .double($0.1)] }
}
