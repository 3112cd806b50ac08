import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

/// guest-get-disks, guest-get-fsinfo and guest-get-cpustats from qemu-ga and qgad side by
/// side: on this machine's devices, on a fake sysfs with dm, md, SCSI and partitions (in a
/// mount namespace), and on a loop device made for the test.
@Suite(.serialized) struct DiskInfoTests {
    /// A value with object members sorted and `dropping` left out at any depth, so that
    /// replies compare member for member whatever order each agent sends them in.
    static func canonical(_ value: JSONValue, dropping: Set<String> = []) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.text
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map { canonical($0, dropping: dropping) }.joined(separator: ",") + "]"
        case .object(let o):
            let members = o.keys.filter { !dropping.contains($0) }.sorted().map { key in
                "\"\(key)\":" + canonical(o[key] ?? .null, dropping: dropping)
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// Members qemu-ga 7.2 lacks (QEMU 8.2 added total-bytes-privileged) or that change
    /// between two calls (used-bytes, compared separately).
    static let fsinfoVolatile: Set<String> = ["total-bytes-privileged", "used-bytes"]

    static func both(_ request: String, launcher: [String] = []) throws -> (qemuGA: JSONValue?, qgad: JSONValue?) {
        let qemuGA = try AgentProcess(.qemuGA, launcher: launcher)
        let qgad = try AgentProcess(.qgad, launcher: launcher)
        return (try qemuGA.connect().call(request)?["return"], try qgad.connect().call(request)?["return"])
    }

    @Test func disksAndFilesystemsOfThisMachine() throws {
        let disks = try Self.both(#"{"execute":"guest-get-disks"}"#)
        #expect(disks.qemuGA != nil)
        #expect(disks.qgad.map { Self.canonical($0) } == disks.qemuGA.map { Self.canonical($0) })

        let fsinfo = try Self.both(#"{"execute":"guest-get-fsinfo"}"#)
        #expect(fsinfo.qemuGA != nil)
        #expect(
            fsinfo.qgad.map { Self.canonical($0, dropping: Self.fsinfoVolatile) }
                == fsinfo.qemuGA.map { Self.canonical($0, dropping: Self.fsinfoVolatile) })
    }

    @Test(.enabled(if: FakeSysfs.usable, "needs root, unshare and cc for a fake /sys in a private mount namespace"))
    func disksOnAFakeSysfsWithDmMdAndSCSI() throws {
        let sysfs = try FakeSysfs()
        let disks = try Self.both(#"{"execute":"guest-get-disks"}"#, launcher: try sysfs.launcher())
        let names = disks.qemuGA?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(names.contains("/dev/dm-0") && names.contains("/dev/md0") && names.contains("/dev/vda1"), "\(names)")
        #expect(disks.qgad.map { Self.canonical($0) } == disks.qemuGA.map { Self.canonical($0) })

        // This machine's mounts, their devices looked up in the fake tree. The namespace's
        // bind mounts of /sys and /run show the root device three times: qemu-ga 7.2 lists
        // each, qgad (as current QEMU) only the first mount of a device.
        let fsinfo = try Self.both(#"{"execute":"guest-get-fsinfo"}"#, launcher: try sysfs.launcher())
        let reference = try #require(fsinfo.qemuGA?.array)
        var seen: Set<String> = []
        let firstMounts = reference.reversed().filter { seen.insert($0["name"]?.string ?? "").inserted }.reversed()
        #expect(
            fsinfo.qgad.map { Self.canonical($0, dropping: Self.fsinfoVolatile) }
                == Self.canonical(.array(Array(firstMounts)), dropping: Self.fsinfoVolatile))
    }

    @Test func cpuTimesInMilliseconds() throws {
        let stats = try Self.both(#"{"execute":"guest-get-cpustats"}"#)
        let reference = stats.qemuGA?.array ?? []
        let ours = stats.qgad?.array ?? []
        #expect(!reference.isEmpty)
        #expect(ours.count == reference.count)
        for (a, b) in zip(reference, ours) {
            #expect(a.object?.keys.sorted() == b.object?.keys.sorted())
            for key in ["user", "system", "idle"] {
                // Started a moment apart: allow 5 s of CPU time per counter. Raw clock ticks
                // would be 10 times too small.
                let x = Double(a[key]?.number?.uint64 ?? 0), y = Double(b[key]?.number?.uint64 ?? 0)
                #expect(abs(x - y) <= 5000, "cpu \(a["cpu"] ?? .null) \(key): qemu-ga \(x), qgad \(y)")
            }
        }
    }

    /// A loop device with ext4 on it, mounted; nil where this machine cannot make one.
    final class LoopDevice {
        let directory: TemporaryDirectory
        let device: String
        var mounted = false

        init?() {
            guard getuid() == 0, let directory = try? TemporaryDirectory("loop") else { return nil }
            self.directory = directory
            let image = directory.path + "/image"
            guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, 64 << 20) == 0,
                let attach = try? run("/usr/sbin/losetup", ["-f", "--show", image]), attach.status == 0
            else {
                directory.remove()
                return nil
            }
            device = attach.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func mount() -> Bool {
            let mountpoint = directory.path + "/mnt"
            guard (try? FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: false)) != nil,
                (try? run("/usr/sbin/mkfs.ext4", ["-q", device]))?.status == 0,
                (try? run("/usr/bin/mount", [device, mountpoint]))?.status == 0
            else { return false }
            mounted = true
            return true
        }

        deinit {
            if mounted { _ = try? run("/usr/bin/umount", [directory.path + "/mnt"]) }
            _ = try? run("/usr/sbin/losetup", ["-d", device])
            directory.remove()
        }
    }

    static let canMakeLoopDevice: Bool = LoopDevice() != nil

    /// A mount whose path now leads elsewhere (another mount hides it, with a FIFO at its
    /// name): freeze, thaw and fstrim open each mount point by name, as root, and must not
    /// hang there. A private mount namespace, so the host sees none of it.
    @Test(.enabled(if: canMakeLoopDevice, "cannot attach a loop device here (needs root and /dev/loop-control)"))
    func aFIFOAtAMountPointDoesNotHangTheAgent() throws {
        let loop = try #require(LoopDevice())
        try #require(try run("/usr/sbin/mkfs.ext4", ["-q", loop.device]).status == 0)
        let cover = loop.directory.path + "/cover"
        try FileManager.default.createDirectory(atPath: cover + "/mnt", withIntermediateDirectories: true)
        let script = #"mount "$1" "$2/mnt" && mount -t tmpfs none "$2" && mkfifo "$2/mnt" && shift 2 && exec "$@""#
        let agent = try AgentProcess(
            .qgad, launcher: ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", loop.device, cover])
        let client = try agent.connect()
        let freeze = #"{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["\#(cover)/mnt"]}}"#
        #expect(client.call(freeze, timeout: 5)?["return"] == 0)
        #expect(client.call(#"{"execute":"guest-fsfreeze-thaw"}"#, timeout: 5)?["return"] != nil)
        #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
    }

    @Test(.enabled(if: canMakeLoopDevice, "cannot attach a loop device here (needs root and /dev/loop-control)"))
    func aLoopDeviceAndTheFilesystemOnIt() throws {
        let loop = try #require(LoopDevice())
        let disks = try Self.both(#"{"execute":"guest-get-disks"}"#)
        let names = disks.qemuGA?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(names.contains(loop.device), "\(names)")
        #expect(disks.qgad.map { Self.canonical($0) } == disks.qemuGA.map { Self.canonical($0) })

        try #require(loop.mount())
        let fsinfo = try Self.both(#"{"execute":"guest-get-fsinfo"}"#)
        #expect(
            fsinfo.qgad.map { Self.canonical($0, dropping: Self.fsinfoVolatile) }
                == fsinfo.qemuGA.map { Self.canonical($0, dropping: Self.fsinfoVolatile) })
    }

    /// device-mapper needs the kernel's dm driver; this sandbox's kernel may lack it.
    static let canMakeDmDevice: Bool = {
        guard let loop = LoopDevice() else { return false }
        let table = "0 131072 linear \(loop.device) 0"
        guard (try? run("/usr/sbin/dmsetup", ["create", "--noudevsync", "qga-test-probe", "--table", table]))?.status == 0
        else { return false }
        _ = try? run("/usr/sbin/dmsetup", ["remove", "--noudevsync", "qga-test-probe"])
        return true
    }()

    @Test(.enabled(if: canMakeDmDevice, "cannot create a device-mapper device here (no dm driver in this kernel, or not root)"))
    func aDeviceMapperVolumeOverALoopDevice() throws {
        let loop = try #require(LoopDevice())
        let name = "qga-test-\(getpid())"
        let made = try run("/usr/sbin/dmsetup", ["create", "--noudevsync", name, "--table", "0 131072 linear \(loop.device) 0"])
        try #require(made.status == 0, "\(made)")
        defer { _ = try? run("/usr/sbin/dmsetup", ["remove", "--noudevsync", name]) }
        let disks = try Self.both(#"{"execute":"guest-get-disks"}"#)
        let dm = disks.qemuGA?.array?.first { $0["dependencies"]?.array?.contains(.string(loop.device)) == true }
        #expect(dm != nil, "qemu-ga lists no device over \(loop.device)")
        #expect(disks.qgad.map { Self.canonical($0) } == disks.qemuGA.map { Self.canonical($0) })
    }
}
