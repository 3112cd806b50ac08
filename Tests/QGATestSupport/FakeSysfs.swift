import Foundation

/// A fake /sys and /run/udev laid out as the kernel and udev lay them out, for a guest with:
/// vda (virtio-blk, two partitions), sda (virtio-scsi, unit 3, a udev serial), sdb (on a
/// controller qemu-ga does not know), dm-0 (an LVM volume on vda2, named by udev), md0 (a
/// RAID over sda and sdb), zram0 (size 0) and loop0 (size 0). Shared by the in-process tests
/// of qgad's reader and the side-by-side test of both agents on it (in a mount namespace).
public final class FakeSysfs: @unchecked Sendable {
    /// Holds sys/ and run/udev/data.
    public let root: String

    /// Whether agents can be started on the tree (root, util-linux's unshare, a C compiler).
    public static var usable: Bool {
        getuid() == 0 && ["/usr/bin/unshare", "/usr/bin/cc"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// An `AgentProcess` launcher that runs the agent in a private mount namespace with this
    /// tree mounted over /sys and /run, so qemu-ga and qgad read the same fake devices.
    /// libudev (in qemu-ga) also checks that what it reads is sysfs, with fstatfs; a preloaded
    /// shim says so for paths under /sys (qgad does not ask).
    public func launcher() throws -> [String] {
        let source = root + "/sysfs-magic.c", library = root + "/sysfs-magic.so"
        if !FileManager.default.fileExists(atPath: library) {
            try Self.shim.write(toFile: source, atomically: false, encoding: .utf8)
            let built = try run("/usr/bin/cc", ["-shared", "-fPIC", "-o", library, source, "-ldl"])
            guard built.status == 0 else { throw MissingTool("cannot build the fstatfs shim: \(built)") }
        }
        return [
            "/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
            #"mount --bind "$0/sys" /sys && mount --bind "$0/run" /run && exec /usr/bin/env LD_PRELOAD="$0/sysfs-magic.so" "$@""#,
            root,
        ]
    }

    private static let shim = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <linux/magic.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/vfs.h>
        #include <unistd.h>

        int fstatfs(int fd, struct statfs *buf) {
            static int (*real)(int, struct statfs *);
            if (!real) real = (int (*)(int, struct statfs *))dlsym(RTLD_NEXT, "fstatfs");
            int r = real(fd, buf);
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (r == 0 && n >= 5 && strncmp(target, "/sys/", 5) == 0) buf->f_type = SYSFS_MAGIC;
            return r;
        }
        int fstatfs64(int fd, struct statfs64 *buf) __attribute__((alias("fstatfs")));
        """

    public init() throws {
        root = NSTemporaryDirectory() + "qgad-sysfs-" + UUID().uuidString
        let vda = "devices/pci0000:00/0000:00:04.0/virtio2/block/vda"
        try disk("vda", at: vda, major: 254, minor: 0, size: "41943040")
        try partition("vda1", of: vda, major: 254, minor: 1)
        try partition("vda2", of: vda, major: 254, minor: 2)
        try driver("devices/pci0000:00/0000:00:04.0", "virtio-pci")

        let sda = "devices/pci0000:00/0000:00:05.0/virtio3/host2/target2:0:0/2:0:0:3/block/sda"
        try disk("sda", at: sda, major: 8, minor: 0, size: "2097152")
        try driver("devices/pci0000:00/0000:00:05.0", "virtio-pci")
        try udev(major: 8, minor: 0, "E:ID_SERIAL=0QEMU_QEMU_HARDDISK_data\nE:ID_TYPE=disk\n")

        // Behind a bridge whose driver qemu-ga does not know, then an unknown controller.
        let sdb = "devices/pci0000:00/0000:00:1e.0/0000:01:02.0/host3/target3:0:1/3:0:1:0/block/sdb"
        try disk("sdb", at: sdb, major: 8, minor: 16, size: "2097152")
        try driver("devices/pci0000:00/0000:00:1e.0", "pcieport")
        try driver("devices/pci0000:00/0000:00:1e.0/0000:01:02.0", "megaraid_sas")

        let dm = "devices/virtual/block/dm-0"
        try disk("dm-0", at: dm, major: 253, minor: 0, size: "20971520")
        try link("\(root)/sys/\(dm)/slaves/vda2", to: "../../../../pci0000:00/0000:00:04.0/virtio2/block/vda/vda2")
        try udev(major: 253, minor: 0, "E:DM_NAME=vg-root\nE:DM_UUID=LVM-x\n")

        let md = "devices/virtual/block/md0"
        try disk("md0", at: md, major: 9, minor: 0, size: "2095104")
        try link("\(root)/sys/\(md)/slaves/sda", to: "../../../../pci0000:00/0000:00:05.0/virtio3/host2/target2:0:0/2:0:0:3/block/sda")
        try link("\(root)/sys/\(md)/slaves/sdb", to: "../../../../pci0000:00/0000:00:1e.0/0000:01:02.0/host3/target3:0:1/3:0:1:0/block/sdb")

        try disk("zram0", at: "devices/virtual/block/zram0", major: 252, minor: 0, size: "0")
        try disk("loop0", at: "devices/virtual/block/loop0", major: 7, minor: 0, size: "0")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    private func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    private func link(_ path: String, to target: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// A whole disk: its directory, /sys/block and /sys/dev/block links, an empty slaves/.
    private func disk(_ name: String, at path: String, major: Int, minor: Int, size: String) throws {
        try write("\(root)/sys/\(path)/uevent", "MAJOR=\(major)\nMINOR=\(minor)\nDEVNAME=\(name)\nDEVTYPE=disk\n")
        try write("\(root)/sys/\(path)/size", size + "\n")
        try FileManager.default.createDirectory(atPath: "\(root)/sys/\(path)/slaves", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/sys/\(path)/holders", withIntermediateDirectories: true)
        try subsystem(path)
        try link("\(root)/sys/block/\(name)", to: "../\(path)")
        try link("\(root)/sys/dev/block/\(major):\(minor)", to: "../../\(path)")
    }

    private func partition(_ name: String, of disk: String, major: Int, minor: Int) throws {
        try write("\(root)/sys/\(disk)/\(name)/uevent", "MAJOR=\(major)\nMINOR=\(minor)\nDEVNAME=\(name)\nDEVTYPE=partition\n")
        try write("\(root)/sys/\(disk)/\(name)/partition", "1\n")
        try subsystem("\(disk)/\(name)")
        try link("\(root)/sys/dev/block/\(major):\(minor)", to: "../../\(disk)/\(name)")
    }

    /// libudev reads the udev database only for a device whose subsystem it knows.
    private func subsystem(_ device: String) throws {
        try FileManager.default.createDirectory(atPath: "\(root)/sys/class/block", withIntermediateDirectories: true)
        let depth = device.split(separator: "/").count
        try link("\(root)/sys/\(device)/subsystem", to: String(repeating: "../", count: depth) + "class/block")
    }

    private func driver(_ device: String, _ name: String) throws {
        try FileManager.default.createDirectory(atPath: "\(root)/sys/bus/pci/drivers/\(name)", withIntermediateDirectories: true)
        let depth = device.split(separator: "/").count
        try link("\(root)/sys/\(device)/driver", to: String(repeating: "../", count: depth) + "bus/pci/drivers/\(name)")
    }

    private func udev(major: Int, minor: Int, _ text: String) throws {
        try write("\(root)/run/udev/data/b\(major):\(minor)", text)
    }
}
