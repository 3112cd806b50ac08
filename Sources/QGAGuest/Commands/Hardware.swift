import Glibc
import QGAProtocol

extension GuestAgent {
    func registerHardware() {
        add("guest-get-vcpus") { _, a in
            _ = try Arguments(a, allowed: [])
            return .array(cpuIDs().map { id in
                let online = FileSystem.value("/sys/devices/system/cpu/cpu\(id)/online")
                return [
                    "logical-id": .int(id), "online": .bool(online.map { $0 == "1" } ?? true),
                    "can-offline": .bool(online != nil),
                ]
            })
        }
        add("guest-set-vcpus") { _, a in
            let args = try Arguments(a, allowed: ["vcpus"])
            var processed = 0
            for vcpu in try args.objects("vcpus") {
                let entry = try Arguments(vcpu, allowed: ["logical-id", "online", "can-offline"])
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
        add("guest-get-memory-blocks") { _, a in
            _ = try Arguments(a, allowed: [])
            return .array(memoryBlocks().map { index in
                let base = "/sys/devices/system/memory/memory\(index)"
                return [
                    "phys-index": .int(index), "online": .bool(FileSystem.value(base + "/state") == "online"),
                    "can-offline": .bool(FileSystem.value(base + "/removable") == "1"),
                ]
            })
        }
        add("guest-set-memory-blocks") { _, a in
            let args = try Arguments(a, allowed: ["mem-blks"])
            var results: [JSONValue] = []
            for block in try args.objects("mem-blks") {
                let entry = try Arguments(block, allowed: ["phys-index", "online", "can-offline"])
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
        add("guest-get-memory-block-info") { _, a in
            _ = try Arguments(a, allowed: [])
            guard let text = FileSystem.value("/sys/devices/system/memory/block_size_bytes"), let size = UInt64(text, radix: 16) else {
                throw AgentError.generic("this feature or command is not currently supported")
            }
            return ["size": .uint(size)]
        }
        add("guest-get-fsinfo") { _, a in
            _ = try Arguments(a, allowed: [])
            // Newest mount first, as qemu-ga lists them.
            return .array(realMounts().reversed().map { mount in
                var info: JSONObject = [
                    "name": .string(blockName(major: mount.major, minor: mount.minor) ?? mount.source),
                    "mountpoint": .string(mount.mountpoint), "type": .string(mount.fstype),
                ]
                var stats = statvfs()
                if statvfs(mount.mountpoint, &stats) == 0 {
                    let total = UInt64(stats.f_frsize) * UInt64(stats.f_blocks)
                    let used = total - UInt64(stats.f_frsize) * UInt64(stats.f_bfree)
                    let privileged = UInt64(stats.f_frsize) * (UInt64(stats.f_blocks) - UInt64(stats.f_bfree) + UInt64(stats.f_bavail))
                    info.append(key: "used-bytes", value: .uint(used))
                    info.append(key: "total-bytes", value: .uint(privileged))
                    info.append(key: "total-bytes-privileged", value: .uint(total))
                }
                let disks = blockName(major: mount.major, minor: mount.minor).map { diskAddresses($0) } ?? []
                info.append(key: "disk", value: .array(disks))
                return .object(info)
            })
        }
        add("guest-get-disks") { _, a in
            _ = try Arguments(a, allowed: [])
            var disks: [JSONValue] = []
            for name in FileSystem.list("/sys/block") where !name.hasPrefix("loop") && !name.hasPrefix("ram") {
                var disk: JSONObject = ["name": .string("/dev/\(name)"), "partition": false]
                if let address = diskAddresses(name).first { disk.append(key: "address", value: address) }
                let holders = FileSystem.list("/sys/block/\(name)/slaves").map { JSONValue.string("/dev/\($0)") }
                if !holders.isEmpty { disk.append(key: "dependencies", value: .array(holders)) }
                disks.append(.object(disk))
                for part in FileSystem.list("/sys/block/\(name)") where part.hasPrefix(name) {
                    disks.append([
                        "name": .string("/dev/\(part)"), "partition": true, "dependencies": [.string("/dev/\(name)")],
                    ])
                }
            }
            return .array(disks)
        }
        add("guest-get-diskstats") { _, a in
            _ = try Arguments(a, allowed: [])
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
        add("guest-get-cpustats") { _, a in
            _ = try Arguments(a, allowed: [])
            let keys = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestnice"]
            var result: [JSONValue] = []
            for line in (readTextFile("/proc/stat") ?? "").split(separator: "\n") where line.hasPrefix("cpu") {
                let f = line.split(separator: " ")
                guard let cpu = Int64(f[0].dropFirst(3)) else { continue }  // "cpu" alone is the total
                var stats: JSONObject = ["type": "linux", "cpu": .int(cpu)]
                for (key, value) in zip(keys, f.dropFirst()) {
                    if let v = UInt64(value) { stats.append(key: key, value: .uint(v)) }
                }
                result.append(.object(stats))
            }
            return .array(result)
        }
    }
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

/// The kernel's name of a block device by number ("vda1"), via /sys/dev/block.
func blockName(major: Int, minor: Int) -> String? {
    FileSystem.realPath("/sys/dev/block/\(major):\(minor)").flatMap { $0.split(separator: "/").last.map(String.init) }
}

/// Where a block device (or the disk under a partition) sits on its bus, from sysfs.
func diskAddresses(_ name: String) -> [JSONValue] {
    guard let path = FileSystem.realPath("/sys/class/block/\(name)") else { return [] }
    // A partition's disk is its parent directory.
    let diskPath = FileSystem.exists(path + "/partition") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : path
    let diskName = String(diskPath.split(separator: "/").last ?? "")
    let components = diskPath.split(separator: "/").map(String.init)
    var address: JSONObject = [:]
    let busType: String
    if components.contains(where: { $0.hasPrefix("virtio") }) && !components.contains(where: { $0.hasPrefix("host") }) {
        busType = "virtio"
    } else if components.contains(where: { $0.hasPrefix("ata") }) {
        busType = "sata"
    } else if components.contains(where: { $0.hasPrefix("host") }) {
        busType = "scsi"
    } else if components.contains(where: { $0.hasPrefix("nvme") }) {
        busType = "nvme"
    } else {
        busType = "unknown"
    }
    // The last PCI function on the path (dddd:bb:ss.f) is the controller.
    if let pci = components.last(where: { isPCIAddress($0) }) {
        let parts = pci.split(whereSeparator: { $0 == ":" || $0 == "." })
        if parts.count == 4, let domain = Int(parts[0], radix: 16), let bus = Int(parts[1], radix: 16),
            let slot = Int(parts[2], radix: 16), let function = Int(parts[3], radix: 16)
        {
            address.append(key: "pci-controller", value: [
                "domain": .int(domain), "bus": .int(bus), "slot": .int(slot), "function": .int(function),
            ])
        }
    }
    address.append(key: "bus-type", value: .string(busType))
    // SCSI-style host:channel:target:lun, when there is one.
    if let hctl = components.last(where: { $0.split(separator: ":").count == 4 && !isPCIAddress($0) }) {
        let n = hctl.split(separator: ":").compactMap { Int($0) }
        if n.count == 4 {
            address.append(key: "bus", value: .int(n[1]))
            address.append(key: "target", value: .int(n[2]))
            address.append(key: "unit", value: .int(n[3]))
        }
    } else {
        address.append(key: "bus", value: 0)
        address.append(key: "target", value: 0)
        address.append(key: "unit", value: 0)
    }
    if let serial = FileSystem.value(diskPath + "/serial") ?? FileSystem.value(diskPath + "/device/serial"), !serial.isEmpty {
        address.append(key: "serial", value: .string(serial))
    }
    address.append(key: "dev", value: .string("/dev/\(diskName)"))
    return [.object(address)]
}

private func isPCIAddress(_ s: String) -> Bool {
    let parts = s.split(whereSeparator: { $0 == ":" || $0 == "." })
    return parts.count == 4 && s.count == 12 && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
}
