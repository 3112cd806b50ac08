import Glibc
import QGAProtocol

extension GuestAgent {
    /// The hardware family: each handler with its catalogue entry.
    static let hardwareHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestGetVcpus, guestGetVcpus),
        Handler(Catalogue.Commands.guestSetVcpus, guestSetVcpus),
        Handler(Catalogue.Commands.guestGetMemoryBlocks, guestGetMemoryBlocks),
        Handler(Catalogue.Commands.guestSetMemoryBlocks, guestSetMemoryBlocks),
        Handler(Catalogue.Commands.guestGetMemoryBlockInfo, guestGetMemoryBlockInfo),
        Handler(Catalogue.Commands.guestGetFsinfo, guestGetFsinfo),
        Handler(Catalogue.Commands.guestGetDisks, guestGetDisks),
        Handler(Catalogue.Commands.guestGetDiskstats, guestGetDiskstats),
        Handler(Catalogue.Commands.guestGetCpustats, guestGetCpustats),
    ]
}

private func guestGetVcpus(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .array(cpuIDs().map { id in
        let online = FileSystem.value("/sys/devices/system/cpu/cpu\(id)/online")
        return [
            "logical-id": .int(id), "online": .bool(online.map { $0 == "1" } ?? true),
            "can-offline": .bool(online != nil),
        ]
    })
}

private func guestSetVcpus(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var processed = 0
    for vcpu in try args.objects("vcpus") {
        let entry = Arguments(checked: vcpu)
        let id = try entry.int("logical-id")
        let online = try entry.bool("online")
        let path = "/sys/devices/system/cpu/cpu\(id)/online"
        let current = FileSystem.value(path)
        if current == nil {
            // Not hot-pluggable: fine while asked to stay online.
            guard online, FileSystem.exists("/sys/devices/system/cpu/cpu\(id)") else {
                if processed == 0 { throw AgentError.generic("logical processor #\(id) cannot be offlined") }
                break
            }
        } else if current != (online ? "1" : "0"), !FileSystem.write(path, Array((online ? "1" : "0").utf8)) {
            if processed == 0 { throw AgentError.generic("failed to set logical processor #\(id): \(FileSystem.strerror(errno))") }
            break
        }
        processed += 1
    }
    return .int(processed)
}

private func guestGetMemoryBlocks(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .array(memoryBlocks().map { index in
        let base = "/sys/devices/system/memory/memory\(index)"
        return [
            "phys-index": .int(index), "online": .bool(FileSystem.value(base + "/state") == "online"),
            "can-offline": .bool(FileSystem.value(base + "/removable") == "1"),
        ]
    })
}

private func guestSetMemoryBlocks(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    var results: [JSONValue] = []
    for block in try args.objects("mem-blks") {
        let entry = Arguments(checked: block)
        let index = try entry.int("phys-index")
        let online = try entry.bool("online")
        let path = "/sys/devices/system/memory/memory\(index)/state"
        var result: JSONObject = ["phys-index": .int(index)]
        if !FileSystem.exists(path) {
            result.append(key: "response", value: "not-found")
        } else if FileSystem.write(path, Array((online ? "online" : "offline").utf8)) {
            result.append(key: "response", value: "success")
        } else {
            result.append(key: "response", value: "operation-failed")
            result.append(key: "error-code", value: .int(errno))
        }
        results.append(.object(result))
    }
    return .array(results)
}

private func guestGetMemoryBlockInfo(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    guard let text = FileSystem.value("/sys/devices/system/memory/block_size_bytes"), let size = UInt64(text, radix: 16) else {
        throw AgentError.generic("this feature or command is not currently supported")
    }
    return ["size": .uint(size)]
}

private func guestGetFsinfo(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let devices = BlockDevices()
    // Newest mount first, as qemu-ga lists them.
    return .array(realMounts().reversed().map { mount in
        let device = devices.filesystem(major: mount.major, minor: mount.minor)
        var info: JSONObject = [
            "name": .string(device.name), "mountpoint": .string(mount.mountpoint), "type": .string(mount.fstype),
        ]
        var stats = statvfs()
        if statvfs(mount.mountpoint, &stats) == 0,
            let usage = filesystemUsage(
                fragmentSize: UInt64(stats.f_frsize), blocks: UInt64(stats.f_blocks),
                free: UInt64(stats.f_bfree), available: UInt64(stats.f_bavail))
        {
            info.append(key: "used-bytes", value: .uint(usage.used))
            info.append(key: "total-bytes", value: .uint(usage.total))
            info.append(key: "total-bytes-privileged", value: .uint(usage.privileged))
        }
        info.append(key: "disk", value: .array(device.disks))
        return .object(info)
    })
}

private func guestGetDisks(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    return .array(BlockDevices().disks())
}

private func guestGetDiskstats(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let keys = [
        "read-ios", "read-merges", "read-sectors", "read-ticks", "write-ios", "write-merges", "write-sectors",
        "write-ticks", "ios-pgr", "total-ticks", "weight-ticks", "discard-ios", "discard-merges",
        "discard-sectors", "discard-ticks", "flush-ios", "flush-ticks",
    ]
    var result: [JSONValue] = []
    for line in (readTextFile("/proc/diskstats") ?? "").split(separator: "\n") {
        let f = line.split(separator: " ")
        guard f.count >= 14, let major = Int64(f[0]), let minor = Int64(f[1]) else { continue }
        var stats = JSONObject()
        for (key, value) in zip(keys, f.dropFirst(3)) {
            if let v = UInt64(value) { stats.append(key: key, value: .uint(v)) }
        }
        result.append(["name": .string(String(f[2])), "major": .int(major), "minor": .int(minor), "stats": .object(stats)])
    }
    return .array(result)
}

private func guestGetCpustats(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    return .array(cpuStats(readTextFile("/proc/stat") ?? "", ticksPerSecond: ticks > 0 ? UInt64(ticks) : 100))
}

/// The logical CPU numbers in /sys/devices/system/cpu.
func cpuIDs() -> [Int] {
    FileSystem.list("/sys/devices/system/cpu").compactMap { name in
        name.hasPrefix("cpu") ? Int(name.dropFirst(3)) : nil
    }.sorted()
}

func memoryBlocks() -> [Int] {
    FileSystem.list("/sys/devices/system/memory").compactMap { name in
        name.hasPrefix("memory") ? Int(name.dropFirst(6)) : nil
    }.sorted()
}
