import Foundation
import QGAProtocol
import QGATestSupport
import Testing

@testable import QGAGuest

extension FakeSysfs {
    var devices: BlockDevices { BlockDevices(root: root) }
}

/// What libvirt's qemuAgentGetDiskAddress insists on: every member, pci-controller included.
private func libvirtAccepts(_ address: JSONValue) -> Bool {
    guard let pci = address["pci-controller"], address["bus-type"]?.string != nil else { return false }
    return ["bus", "target", "unit"].allSatisfy { address[$0]?.number != nil }
        && ["domain", "bus", "slot", "function"].allSatisfy { pci[$0]?.number != nil }
}

@Suite struct BlockDevicesTests {
    let sysfs: FakeSysfs
    init() throws { sysfs = try FakeSysfs() }

    private func disk(_ disks: [JSONValue], _ name: String) -> JSONValue? {
        disks.first { $0["name"]?.string == name }
    }

    @Test func zeroSizedDisksAreLeftOutAndVirtualOnesHaveNoAddress() {
        let disks = sysfs.devices.disks()
        let names = Set(disks.compactMap { $0["name"]?.string })
        #expect(names == ["/dev/vda", "/dev/vda1", "/dev/vda2", "/dev/sda", "/dev/sdb", "/dev/dm-0", "/dev/md0"])
        #expect(disk(disks, "/dev/dm-0")?["address"] == nil)
        #expect(disk(disks, "/dev/md0")?["address"] == nil)
    }

    @Test func everyAddressIsOneLibvirtAccepts() {
        let disks = sysfs.devices.disks()
        for d in disks {
            if let address = d["address"] { #expect(libvirtAccepts(address), "\(d)") }
        }
        for (major, minor) in [(254, 2), (253, 0), (9, 0), (8, 16)] {
            for address in sysfs.devices.filesystem(major: major, minor: minor).disks {
                #expect(libvirtAccepts(address), "\(major):\(minor) \(address)")
            }
        }
    }

    @Test func dependenciesOfDmAndMdAndPartitions() {
        let disks = sysfs.devices.disks()
        #expect(disk(disks, "/dev/dm-0")?["dependencies"] == [.string("/dev/vda2")])
        let md = disk(disks, "/dev/md0")?["dependencies"]?.array?.compactMap(\.string)
        #expect(Set(md ?? []) == ["/dev/sda", "/dev/sdb"])
        // A disk without slaves still has the (empty) list, as qemu-ga sends it.
        #expect(disk(disks, "/dev/vda")?["dependencies"] == .array([]))
        #expect(disk(disks, "/dev/vda1")?["dependencies"] == [.string("/dev/vda")])
        #expect(disk(disks, "/dev/vda1")?["partition"] == true)
        #expect(disk(disks, "/dev/vda")?["partition"] == false)
        // udev's DM_NAME is the alias.
        #expect(disk(disks, "/dev/dm-0")?["alias"] == "vg-root")
        #expect(disk(disks, "/dev/vda")?["alias"] == nil)
    }

    @Test func partitionsComeBeforeTheirDiskAsQemuGAListsThem() {
        let names = sysfs.devices.disks().compactMap { $0["name"]?.string }
        let disk = names.firstIndex(of: "/dev/vda") ?? -1
        #expect((names.firstIndex(of: "/dev/vda1") ?? .max) < disk)
        #expect((names.firstIndex(of: "/dev/vda2") ?? .max) < disk)
    }

    @Test func busAddresses() {
        let disks = sysfs.devices.disks()
        let vda = disk(disks, "/dev/vda")?["address"]
        #expect(vda?["bus-type"] == "virtio")
        #expect(vda?["pci-controller"] == ["domain": 0, "bus": 0, "slot": 4, "function": 0])
        #expect(vda?["dev"] == "/dev/vda")
        #expect(vda?["serial"] == nil, "no udev data for vda: no serial, as qemu-ga")

        let sda = disk(disks, "/dev/sda")?["address"]
        #expect(sda?["bus-type"] == "scsi")
        #expect(sda?["unit"] == 3)
        #expect(sda?["pci-controller"]?["slot"] == 5)
        #expect(sda?["serial"] == "0QEMU_QEMU_HARDDISK_data")

        // qemu-ga walks past the bridge, finds no driver it knows, and sends the address
        // with a PCI controller of -1s (and the bus type unknown).
        let sdb = disk(disks, "/dev/sdb")?["address"]
        #expect(sdb?["bus-type"] == "unknown")
        #expect(sdb?["pci-controller"] == ["domain": -1, "bus": -1, "slot": -1, "function": -1])
        #expect(sdb?["dev"] == "/dev/sdb")
    }

    @Test func fsinfoFollowsVirtualDevicesDownToTheirDisks() {
        let lvm = sysfs.devices.filesystem(major: 253, minor: 0)
        #expect(lvm.name == "dm-0")
        #expect(lvm.disks.count == 1)
        #expect(lvm.disks.first?["dev"] == "/dev/vda2")
        #expect(lvm.disks.first?["bus-type"] == "virtio")

        let raid = sysfs.devices.filesystem(major: 9, minor: 0)
        #expect(raid.name == "md0")
        #expect(Set(raid.disks.compactMap { $0["dev"]?.string }) == ["/dev/sda", "/dev/sdb"])

        let partition = sysfs.devices.filesystem(major: 254, minor: 1)
        #expect(partition.name == "vda1")
        #expect(partition.disks.first?["dev"] == "/dev/vda1")

        // A device number the guest does not show: its number as the name, no disks.
        let hidden = sysfs.devices.filesystem(major: 230, minor: 7)
        #expect(hidden.name == "230:7")
        #expect(hidden.disks.isEmpty)
    }

    @Test func aDeviceWithNothingKnownHasNoAddressAtAll() throws {
        // Neither a bus qemu-ga understands, nor a device node, nor a serial.
        let path = sysfs.root + "/sys/devices/platform/foo/block/xyz"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(sysfs.devices.realDeviceAddress(path) == nil)
    }
}

@Suite struct FilesystemUsageTests {
    @Test func usedTotalAndPrivileged() {
        let usage = filesystemUsage(fragmentSize: 4096, blocks: 1000, free: 300, available: 250)
        #expect(usage?.used == 700 * 4096)
        #expect(usage?.total == 950 * 4096)
        #expect(usage?.privileged == 1000 * 4096)
    }

    @Test func inconsistentOrHugeNumbersAreLeftOutInsteadOfTrapping() {
        #expect(filesystemUsage(fragmentSize: 4096, blocks: 10, free: 11, available: 0) == nil)
        #expect(filesystemUsage(fragmentSize: 1 << 40, blocks: 1 << 30, free: 0, available: 0) == nil)
        #expect(filesystemUsage(fragmentSize: 1, blocks: .max, free: 0, available: 1) == nil)
    }
}

@Suite struct CPUStatsTests {
    let stat = """
        cpu  200 4 60 10000 30 0 5 7 0 0
        cpu0 100 2 30 5000 15 0 3 4 0 0
        cpu1 100 2 30 5000 15 0 2 3 0 1
        intr 12345 0 0
        ctxt 999
        """

    @Test func millisecondsPerCPUWithoutTheTotal() {
        let stats = cpuStats(stat, ticksPerSecond: 100)
        #expect(stats.count == 2)
        #expect(stats.first?["cpu"] == 0)
        #expect(stats.first?["type"] == "linux")
        #expect(stats.first?["user"] == 1000)
        #expect(stats.first?["idle"] == 50000)
        #expect(stats.first?["softirq"] == 30)
        #expect(stats.last?["guestnice"] == 10)
    }

    @Test func olderKernelsWithFewerColumns() {
        let stats = cpuStats("cpu0 1 2 3 4 5\n", ticksPerSecond: 250)
        #expect(stats.first?.object?.keys == ["type", "cpu", "user", "nice", "system", "idle", "iowait"])
        #expect(stats.first?["user"] == 4)
        #expect(stats.first?["iowait"] == 20)
    }

    @Test func conversionRoundsDownAndNeverTraps() {
        #expect(milliseconds(ticks: 1, perSecond: 300) == 3)
        #expect(milliseconds(ticks: .max, perSecond: 100) == UInt64.max)
        #expect(milliseconds(ticks: UInt64.max / 1000 * 100, perSecond: 100) == UInt64.max / 1000 * 1000)
    }
}

@Suite struct MountsTests {
    let mountinfo = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        40 27 0:45 / /srv rw,relatime - btrfs /dev/vdb rw,space_cache
        41 27 0:46 / /lost rw,relatime - btrfs /dev/gone rw
        42 27 254:0 /home /home rw,relatime - ext4 /dev/vda rw
        """

    @Test func btrfsTakesItsDeviceNumberFromTheDeviceNode() {
        let mounts = realMounts(mountinfo) { $0 == "/dev/vdb" ? (254, 16) : nil }
        #expect(mounts.map(\.mountpoint) == ["/", "/srv"])
        #expect(mounts.last?.major == 254)
        #expect(mounts.last?.minor == 16)
    }

    @Test func deviceNumbersOfBlockDevicesOnly() {
        #expect(blockDeviceNumber("/") == nil)
        #expect(blockDeviceNumber("/no/such/device") == nil)
    }
}
