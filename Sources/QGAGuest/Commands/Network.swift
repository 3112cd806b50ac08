import Glibc
import QGAProtocol

extension GuestAgent {
    /// The network family: each handler with its catalogue entry.
    static let networkHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestNetworkGetInterfaces, guestNetworkGetInterfaces),
        Handler(Catalogue.Commands.guestNetworkGetRoute, guestNetworkGetRoute),
    ]
}

private func guestNetworkGetInterfaces(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { throw AgentError.generic("getifaddrs failed: \(FileSystem.strerror(errno))") }
    defer { freeifaddrs(list) }
    var order: [String] = []
    var addresses: [String: [JSONValue]] = [:]
    var entry = list
    while let current = entry {
        defer { entry = current.pointee.ifa_next }
        let name = String(cString: current.pointee.ifa_name)
        if !order.contains(name) { order.append(name) }
        guard let address = current.pointee.ifa_addr else { continue }
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { continue }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let raw = UnsafeRawPointer(address)
        if family == AF_INET {
            var a = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
            inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
        } else {
            var a = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
            inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
        }
        let prefix = current.pointee.ifa_netmask.map { prefixLength($0, family: family) } ?? 0
        addresses[name, default: []].append([
            "ip-address": .string(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)), "ip-address-type": .string(family == AF_INET ? "ipv4" : "ipv6"),
            "prefix": .int(prefix),
        ])
    }
    return .array(order.map { name in
        var interface: JSONObject = ["name": .string(name)]
        if let mac = FileSystem.value("/sys/class/net/\(name)/address") {
            interface.append(key: "hardware-address", value: .string(mac))
        }
        // As in qemu-ga, addresses and statistics only for an interface with an address.
        guard let list = addresses[name] else { return .object(interface) }
        interface.append(key: "ip-addresses", value: .array(list))
        var statistics = JSONObject()
        for (key, file) in [
            ("rx-bytes", "rx_bytes"), ("rx-packets", "rx_packets"), ("rx-errs", "rx_errors"),
            ("rx-dropped", "rx_dropped"), ("tx-bytes", "tx_bytes"), ("tx-packets", "tx_packets"),
            ("tx-errs", "tx_errors"), ("tx-dropped", "tx_dropped"),
        ] {
            if let v = FileSystem.value("/sys/class/net/\(name)/statistics/\(file)").flatMap({ UInt64($0) }) {
                statistics.append(key: key, value: .uint(v))
            }
        }
        if !statistics.isEmpty { interface.append(key: "statistics", value: .object(statistics)) }
        return .object(interface)
    })
}

private func guestNetworkGetRoute(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var routes: [JSONValue] = []
    for line in (readTextFile("/proc/net/route") ?? "").split(separator: "\n").dropFirst() {
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard f.count >= 11 else { continue }
        func ip(_ hex: Substring) -> String {
            let v = UInt32(hex, radix: 16) ?? 0
            return "\(v & 0xFF).\(v >> 8 & 0xFF).\(v >> 16 & 0xFF).\(v >> 24)"
        }
        routes.append([
            "iface": .string(String(f[0])), "destination": .string(ip(f[1])), "gateway": .string(ip(f[2])),
            "flags": .int(Int(f[3], radix: 16) ?? 0), "refcnt": .int(Int(f[4]) ?? 0), "use": .int(Int(f[5]) ?? 0),
            "metric": .int(Int(f[6]) ?? 0), "mask": .string(ip(f[7])), "mtu": .int(Int(f[8]) ?? 0),
            "window": .int(Int(f[9]) ?? 0), "irtt": .int(Int(f[10]) ?? 0), "version": 4,
        ])
    }
    for line in (readTextFile("/proc/net/ipv6_route") ?? "").split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 10 else { continue }
        func ip6(_ hex: Substring) -> String {
            stride(from: 0, to: 32, by: 4).map { i -> String in
                let start = hex.index(hex.startIndex, offsetBy: i)
                return String(hex[start..<hex.index(start, offsetBy: 4)])
            }.joined(separator: ":")
        }
        guard f[0].count == 32, f[2].count == 32, f[4].count == 32 else { continue }
        routes.append([
            "iface": .string(String(f[9])), "destination": .string(ip6(f[0])),
            "desprefixlen": .string(String(Int(f[1], radix: 16) ?? 0)), "source": .string(ip6(f[2])),
            "srcprefixlen": .string(String(Int(f[3], radix: 16) ?? 0)), "nexthop": .string(ip6(f[4])),
            "metric": .int(Int(f[5], radix: 16) ?? 0), "refcnt": .int(Int(f[6], radix: 16) ?? 0),
            "use": .int(Int(f[7], radix: 16) ?? 0), "flags": .int(Int(f[8], radix: 16) ?? 0), "version": 6,
        ])
    }
    return .array(routes)
}

/// The number of leading one bits of a netmask.
private func prefixLength(_ mask: UnsafeMutablePointer<sockaddr>, family: Int32) -> Int {
    let raw = UnsafeRawPointer(mask)
    let bytes: [UInt8]
    if family == AF_INET {
        var a = raw.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_addr
        bytes = withUnsafeBytes(of: &a) { Array($0) }
    } else {
        var a = raw.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_addr
        bytes = withUnsafeBytes(of: &a) { Array($0) }
    }
    return bytes.reduce(0) { $0 + $1.nonzeroBitCount }
}
