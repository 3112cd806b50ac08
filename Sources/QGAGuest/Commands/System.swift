import Glibc
import QGAProtocol

extension GuestAgent {
    func registerSystem() {
        add("guest-sync-delimited") { _, a in
            let args = try Arguments(a, allowed: ["id"])
            return .int(try args.int("id"))
        }
        add("guest-sync") { _, a in
            let args = try Arguments(a, allowed: ["id"])
            return .int(try args.int("id"))
        }
        add("guest-ping") { _, a in
            _ = try Arguments(a, allowed: [])
            return [:]
        }
        add("guest-get-time") { _, a in
            _ = try Arguments(a, allowed: [])
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            return .int(Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
        }
        add("guest-set-time") { _, a in
            let args = try Arguments(a, allowed: ["time"])
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
        add("guest-info") { agent, a in
            _ = try Arguments(a, allowed: [])
            let commands: [JSONValue] = agent.handlers.map { handler in
                [
                    "name": .string(handler.name), "enabled": .bool(agent.isEnabled(handler.name)),
                    "success-response": .bool(handler.successResponse),
                ]
            }
            return ["version": .string(GuestAgent.version), "supported_commands": .array(commands)]
        }
        // Windows only: registered for guest-info, disabled (GuestAgent.unsupported).
        add("guest-get-devices") { _, _ in
            throw AgentError.generic("this feature or command is not currently supported")
        }
        add("guest-shutdown", successResponse: false) { _, a in
            let args = try Arguments(a, allowed: ["mode"])
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
        for (name, state, systemd) in [
            ("guest-suspend-disk", "disk", "hibernate"), ("guest-suspend-ram", "mem", "suspend"),
            ("guest-suspend-hybrid", "", "hybrid-sleep"),
        ] {
            add(name, successResponse: false) { _, a in
                _ = try Arguments(a, allowed: [])
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
        }
        add("guest-get-host-name") { _, a in
            _ = try Arguments(a, allowed: [])
            var name = [CChar](repeating: 0, count: 256)
            guard gethostname(&name, name.count - 1) == 0 else {
                throw AgentError.generic("cannot get hostname: \(FileSystem.strerror(errno))")
            }
            return ["host-name": .string(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))]
        }
        add("guest-get-timezone") { _, a in
            _ = try Arguments(a, allowed: [])
            var now = time(nil)
            var parts = tm()
            localtime_r(&now, &parts)
            var result = JSONObject()
            if let zone = parts.tm_zone { result.append(key: "zone", value: .string(String(cString: zone))) }
            result.append(key: "offset", value: .int(parts.tm_gmtoff))
            return .object(result)
        }
        add("guest-get-osinfo") { _, a in
            _ = try Arguments(a, allowed: [])
            return .object(osInfo())
        }
        add("guest-get-users") { _, a in
            _ = try Arguments(a, allowed: [])
            return .array(loggedInUsers())
        }
        add("guest-get-load") { _, a in
            _ = try Arguments(a, allowed: [])
            var loads = [Double](repeating: 0, count: 3)
            guard getloadavg(&loads, 3) == 3 else { throw AgentError.generic("cannot get load average") }
            return ["load1m": .double(loads[0]), "load5m": .double(loads[1]), "load15m": .double(loads[2])]
        }
    }
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
