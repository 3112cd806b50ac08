import Glibc
import QGAProtocol

/// Block devices and where they sit on their buses, read from sysfs and the udev database by
/// qemu-ga's rules (guest-get-disks, guest-get-fsinfo), so that libvirt, which parses these
/// replies strictly, accepts ours as it accepts qemu-ga's.
///
/// Every path is read under `root` ("" on a live system), so tests run against a fake tree.
struct BlockDevices {
    /// A prefix for /sys and /run/udev; empty on a live system.
    var root = ""

    /// Nested virtual devices (dm on md on dm...) are followed this deep, and no deeper:
    /// sysfs has no cycles, a fake or broken tree might.
    static let maxDepth = 16

    // MARK: guest-get-disks

    /// Every root block device of non-zero size, each followed by its partitions, in
    /// qemu-ga's order (the reverse of /sys/block's directory order).
    func disks() -> [JSONValue] {
        var found: [JSONValue] = []
        for entry in FileSystem.entries(root + "/sys/block") where entry.type == UInt8(DT_LNK) {
            let dir = root + "/sys/block/" + entry.name
            // qemu-ga skips a disk whose size it cannot read or that reads exactly "0\n".
            guard let size = readTextFile(dir + "/size", limit: 64), size != "0\n" else { continue }
            guard let node = deviceNode(dir) else { continue }
            var disk: JSONObject = ["name": .string(node), "partition": false]
            if let slaves = FileSystem.entriesIfDirectory(dir + "/slaves") {
                // qemu-ga prepends each dependency, so they come out in reverse order.
                let names = slaves.reversed().compactMap { deviceNode(dir + "/slaves/" + $0.name) }
                disk.append(key: "dependencies", value: .array(names.map { .string($0) }))
            }
            // Virtual devices (dm, md, zram, loop) have no bus address.
            if let real = FileSystem.realPath(dir), !isVirtual(real), let address = addresses(of: dir).disks.first {
                disk.append(key: "address", value: address)
            }
            if let alias = udevProperty(dir, "DM_NAME"), !alias.isEmpty {
                disk.append(key: "alias", value: .string(alias))
            }
            found.append(.object(disk))
            for part in FileSystem.entries(dir) where part.type & UInt8(DT_DIR) != 0 && isPartition(part.name, of: entry.name) {
                guard let partNode = deviceNode(dir + "/" + part.name) else { continue }
                found.append(["name": .string(partNode), "partition": true, "dependencies": [.string(node)]])
            }
        }
        return found.reversed()
    }

    /// "<disk><digit>..." or "<disk>p<digit>...", as qemu-ga tells partitions apart.
    private func isPartition(_ name: String, of disk: String) -> Bool {
        guard name.hasPrefix(disk) else { return false }
        let rest = name.utf8.dropFirst(disk.utf8.count)
        let isDigit = { (c: UInt8?) in c.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        return isDigit(rest.first) || (rest.first == UInt8(ascii: "p") && isDigit(rest.dropFirst().first))
    }

    // MARK: guest-get-fsinfo

    /// The name fsinfo reports for a device number, and the addresses of the disks under it
    /// (through dm and md down to the real disks), in qemu-ga's order.
    func filesystem(major: Int, minor: Int) -> (name: String, disks: [JSONValue]) {
        addresses(of: root + "/sys/dev/block/\(major):\(minor)")
    }

    /// qemu-ga's walk from a sysfs device path: a virtual device stands for its slaves, a
    /// real one for its own address. The name is the first path's last component.
    func addresses(of path: String) -> (name: String, disks: [JSONValue]) {
        var visited: [JSONValue] = []
        var name: String?
        collect(path, into: &visited, name: &name, depth: 0)
        // qemu-ga prepends each address as it finds it.
        return (name ?? basename(path), visited.reversed())
    }

    private func collect(_ path: String, into found: inout [JSONValue], name: inout String?, depth: Int) {
        guard depth <= Self.maxDepth else { return }
        guard let real = FileSystem.realPath(path) else {
            // A device node the guest hides (in a container, say): the name only.
            if name == nil { name = basename(path) }
            return
        }
        if name == nil { name = basename(real) }
        if isVirtual(real) {
            for slave in FileSystem.entries(real + "/slaves") where slave.type == UInt8(DT_LNK) {
                collect(real + "/slaves/" + slave.name, into: &found, name: &name, depth: depth + 1)
            }
        } else if let address = realDeviceAddress(real) {
            found.append(address.json)
        }
    }

    private func isVirtual(_ realPath: String) -> Bool { realPath.contains("/devices/virtual/block/") }

    private func basename(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

    // MARK: Addresses

    /// A GuestDiskAddress. The PCI controller is always there (-1s when unknown, as
    /// qemu-ga sends it): libvirt refuses a reply whose address lacks it.
    struct Address {
        var pci: [Int64] = [-1, -1, -1, -1]
        var busType = "unknown"
        var bus: Int64 = 0, target: Int64 = 0, unit: Int64 = 0
        var serial: String?
        var dev: String?
        var ccw: [Int64]?

        var json: JSONValue {
            var o: JSONObject = [
                "pci-controller": [
                    "domain": .int(pci[0]), "bus": .int(pci[1]), "slot": .int(pci[2]), "function": .int(pci[3]),
                ],
                "bus-type": .string(busType), "bus": .int(bus), "target": .int(target), "unit": .int(unit),
            ]
            if let serial { o.append(key: "serial", value: .string(serial)) }
            if let dev { o.append(key: "dev", value: .string(dev)) }
            if let ccw {
                o.append(key: "ccw-address", value: [
                    "cssid": .int(ccw[0]), "ssid": .int(ccw[1]), "subchno": .int(ccw[2]), "devno": .int(ccw[3]),
                ])
            }
            return .object(o)
        }
    }

    /// The address of a non-virtual device at a resolved sysfs path, or nil when neither
    /// the bus nor udev says anything about it (qemu-ga then lists no address at all).
    func realDeviceAddress(_ syspath: String) -> Address? {
        var address = Address()
        address.dev = deviceNode(syspath)
        if let serial = udevProperty(syspath, "ID_SERIAL"), !serial.isEmpty { address.serial = serial }
        let known: Bool
        if syspath.contains("/devices/pci") {
            known = pciAddress(syspath, &address)
        } else if syspath.contains("/devices/css") {
            known = ccwAddress(syspath, &address)
        } else if syspath.contains("/virtio") {
            known = nonPCIVirtioAddress(syspath, &address)
        } else {
            known = false
        }
        return known || address.dev != nil || address.serial != nil ? address : nil
    }

    /// Drivers whose disks qemu-ga knows how to place.
    private static let knownDrivers: Set<String> = ["ata_piix", "sym53c8xx", "virtio-pci", "ahci", "nvme", "xhci_hcd", "ehci-pci"]

    private func pciAddress(_ syspath: String, _ address: inout Address) -> Bool {
        guard let start = syspath.firstRange(of: "/devices/pci")?.upperBound else { return false }
        // "/devices/pciDDDD:BB/DDDD:BB:SS.F": the root bus, then the first function.
        var s = Scanner(syspath[start...])
        guard s.hex() != nil, s.take(":"), s.hex() != nil, s.take("/"), var pci = s.pciFunction() else { return false }
        var driver: String
        while true {
            driver = basename(FileSystem.realPath(String(syspath[..<s.position]) + "/driver") ?? "")
            if Self.knownDrivers.contains(driver) { break }
            // Behind a bridge: the next function down the path.
            var next = s
            guard next.take("/"), let function = next.pciFunction() else { return false }
            pci = function
            s = next
        }
        let tgt = targetNumbers(syspath)
        var host: UInt32?
        var hosts: [UInt32] = []
        let ata = syspath.firstRange(of: "/ata")
        if let marker = ata ?? syspath.firstRange(of: "/host") {
            var h = Scanner(syspath[marker.upperBound...])
            if let n = h.decimal() {
                host = n
                // The controller's hosts (or ata ports), sorted: a disk's bus or unit is
                // its host's position among them.
                guard let entries = FileSystem.entriesIfDirectory(String(syspath[..<marker.lowerBound])) else { return false }
                let prefix = ata != nil ? "ata" : "host"
                // qemu-ga looks at the first eight, in directory order.
                let numbers = entries.compactMap { entry -> UInt32? in
                    guard entry.name.hasPrefix(prefix) else { return nil }
                    var e = Scanner(entry.name.dropFirst(prefix.count))
                    return e.decimal()
                }
                hosts = numbers.prefix(8).sorted()
            }
        }
        address.pci = pci
        switch driver {
        case "ata_piix":
            // One host per IDE bus; target*:0:<unit>:0.
            guard let host, let tgt, let index = hosts.firstIndex(of: host) else { return false }
            address.busType = "ide"
            address.bus = Int64(index)
            address.unit = Int64(tgt[1])
        case "sym53c8xx":
            guard let tgt else { return false }
            address.busType = "scsi"
            address.unit = Int64(tgt[1])
        case "virtio-pci":
            if let tgt {
                // virtio-scsi: target*:0:0:<unit>
                address.busType = "scsi"
                address.unit = Int64(tgt[2])
            } else {
                address.busType = "virtio"  // virtio-blk: one disk per device
            }
        case "ahci":
            // One host per unit.
            guard let host, tgt != nil, let index = hosts.firstIndex(of: host) else { return false }
            address.busType = "sata"
            address.unit = Int64(index)
        case "nvme":
            address.busType = "nvme"
        default:  // ehci-pci, xhci_hcd
            address.busType = "usb"
        }
        return true
    }

    /// The last three numbers of ".../targetH:C:T/H:C:T:L/...".
    private func targetNumbers(_ syspath: String) -> [UInt32]? {
        guard let marker = syspath.firstRange(of: "/target") else { return nil }
        var s = Scanner(syspath[marker.upperBound...])
        guard s.decimal() != nil, s.take(":"), s.decimal() != nil, s.take(":"), s.decimal() != nil, s.take("/"),
            s.decimal() != nil, s.take(":"), let a = s.decimal(), s.take(":"), let b = s.decimal(), s.take(":"),
            let c = s.decimal()
        else { return nil }
        return [a, b, c]
    }

    /// s390x channel I/O: ".../devices/cssN/C.S.SUBCH/X.Y.DEVNO/...".
    private func ccwAddress(_ syspath: String, _ address: inout Address) -> Bool {
        guard let marker = syspath.firstRange(of: "/devices/css") else { return false }
        var s = Scanner(syspath[marker.upperBound...])
        guard s.hex() != nil, s.take("/"), let cssid = s.hex(), s.take("."), let ssid = s.hex(), s.take("."),
            let subchno = s.hex(), s.take("/"), s.hex() != nil, s.take("."), s.hex() != nil, s.take("."),
            let devno = s.hex(), s.take("/")
        else { return false }
        address.ccw = [Int64(cssid), Int64(ssid), Int64(subchno), Int64(devno)]
        if syspath[marker.lowerBound...].contains("/virtio") { _ = nonPCIVirtioAddress(syspath, &address) }
        return true
    }

    private func nonPCIVirtioAddress(_ syspath: String, _ address: inout Address) -> Bool {
        guard syspath.contains("/virtio"), syspath.contains("/block") else { return false }
        if let marker = syspath.firstRange(of: "/target") {
            var s = Scanner(syspath[marker.upperBound...])
            if s.decimal() != nil, s.take(":"), s.decimal() != nil, s.take(":"), s.decimal() != nil, s.take("/"),
                s.decimal() != nil, s.take(":"), let bus = s.decimal(), s.take(":"), let target = s.decimal(),
                s.take(":"), let unit = s.decimal()
            {
                address.busType = "scsi"
                (address.bus, address.target, address.unit) = (Int64(bus), Int64(target), Int64(unit))
                return true
            }
        }
        address.busType = "virtio"
        return true
    }

    // MARK: uevent and the udev database

    /// "/dev/NAME" from the device's uevent file (what libudev calls the devnode).
    func deviceNode(_ syspath: String) -> String? {
        ueventValue(syspath, "DEVNAME").map { $0.hasPrefix("/") ? $0 : "/dev/" + $0 }
    }

    private func ueventValue(_ syspath: String, _ key: String) -> String? {
        guard let text = readTextFile(syspath + "/uevent", limit: 8192) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + "=") {
            return String(line.dropFirst(key.count + 1))
        }
        return nil
    }

    /// A property udev stored for the device ("E:KEY=value" in /run/udev/data/bMAJ:MIN);
    /// without a running udev there is none, and qemu-ga reports none either.
    func udevProperty(_ syspath: String, _ key: String) -> String? {
        guard let major = ueventValue(syspath, "MAJOR").flatMap({ UInt32($0) }),
            let minor = ueventValue(syspath, "MINOR").flatMap({ UInt32($0) }),
            let text = readTextFile(root + "/run/udev/data/b\(major):\(minor)", limit: 1 << 16)
        else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("E:" + key + "=") {
            return String(line.dropFirst(key.count + 3))
        }
        return nil
    }
}

/// A cursor over a sysfs path for the few numeric patterns qemu-ga matches there.
private struct Scanner {
    let text: Substring.UTF8View
    var position: String.Index

    init(_ text: Substring) {
        self.text = text.utf8
        position = text.startIndex
    }

    mutating func take(_ literal: Character) -> Bool {
        guard let ascii = literal.asciiValue, position < text.endIndex, text[position] == ascii else { return false }
        position = text.index(after: position)
        return true
    }

    /// Digits in `radix`, as a UInt32 (nil if none, or too large for one).
    private mutating func number(radix: UInt32) -> UInt32? {
        var value: UInt32 = 0
        var digits = 0
        while position < text.endIndex, let digit = Self.digit(text[position], radix: radix) {
            let (times, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = times.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = sum
            digits += 1
            position = text.index(after: position)
        }
        return digits > 0 ? value : nil
    }

    mutating func hex() -> UInt32? { number(radix: 16) }
    mutating func decimal() -> UInt32? { number(radix: 10) }

    /// "DDDD:BB:SS.F" as [domain, bus, slot, function].
    mutating func pciFunction() -> [Int64]? {
        var s = self
        guard let domain = s.hex(), s.take(":"), let bus = s.hex(), s.take(":"), let slot = s.hex(), s.take("."),
            let function = s.hex()
        else { return nil }
        self = s
        return [Int64(domain), Int64(bus), Int64(slot), Int64(function)]
    }

    private static func digit(_ c: UInt8, radix: UInt32) -> UInt32? {
        let value: UInt32
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt32(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt32(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
        return value < radix ? value : nil
    }
}

/// Used, total (what unprivileged users may fill) and privileged-total bytes from statvfs
/// numbers, as qemu-ga computes them; nil when the numbers are inconsistent or the products
/// do not fit in 64 bits (the members are optional, so they are left out).
func filesystemUsage(fragmentSize: UInt64, blocks: UInt64, free: UInt64, available: UInt64)
    -> (used: UInt64, total: UInt64, privileged: UInt64)?
{
    guard free <= blocks else { return nil }
    let usedBlocks = blocks - free
    let (userBlocks, o1) = usedBlocks.addingReportingOverflow(available)
    let (used, o2) = usedBlocks.multipliedReportingOverflow(by: fragmentSize)
    let (total, o3) = userBlocks.multipliedReportingOverflow(by: fragmentSize)
    let (privileged, o4) = blocks.multipliedReportingOverflow(by: fragmentSize)
    guard !o1, !o2, !o3, !o4 else { return nil }
    return (used, total, privileged)
}
