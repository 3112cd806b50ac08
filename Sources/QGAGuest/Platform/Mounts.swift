import Glibc

/// One line of /proc/self/mountinfo.
struct Mount: Equatable {
    var mountpoint: String
    var fstype: String
    var source: String
    var major: Int
    var minor: Int
}

/// Mounts of real block devices, in mount order: what fsfreeze, fstrim and fsinfo act on
/// (no pseudo filesystems, which have major number 0; no network filesystems; a device
/// mounted twice, a bind mount, counts once). btrfs reports major 0 in mountinfo: as
/// qemu-ga does, its device number is taken from the block device it was mounted from.
func realMounts(
    _ text: String? = readTextFile("/proc/self/mountinfo"),
    blockDevice: (String) -> (major: Int, minor: Int)? = blockDeviceNumber
) -> [Mount] {
    var mounts: [Mount] = []
    for line in (text ?? "").split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count, fields.count > 4 else { continue }
        let devnum = fields[2].split(separator: ":")
        guard devnum.count == 2, var major = Int(devnum[0]), var minor = Int(devnum[1]) else { continue }
        let fstype = String(fields[dash + 1])
        if major == 0 && fstype == "btrfs" {
            guard let device = blockDevice(unescapeOctal(fields[dash + 2])) else { continue }
            (major, minor) = device
        }
        if major == 0 || fstype == "smbfs" || fstype == "cifs" { continue }
        if mounts.contains(where: { $0.major == major && $0.minor == minor }) { continue }
        mounts.append(Mount(
            mountpoint: unescapeOctal(fields[4]), fstype: fstype, source: unescapeOctal(fields[dash + 2]),
            major: major, minor: minor))
    }
    return mounts
}

/// The device number of a block device node; nil for anything else.
func blockDeviceNumber(_ path: String) -> (major: Int, minor: Int)? {
    var st = stat()
    guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFBLK else { return nil }
    // glibc's encoding of dev_t (gnu_dev_major, gnu_dev_minor).
    let dev = UInt64(st.st_rdev)
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
    let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
    return (Int(truncatingIfNeeded: major), Int(truncatingIfNeeded: minor))
}

/// mountinfo writes spaces and friends as \040-style octal escapes.
func unescapeOctal(_ field: Substring) -> String {
    guard field.contains("\\") else { return String(field) }
    var bytes: [UInt8] = []
    let utf8 = Array(field.utf8)
    var i = 0
    while i < utf8.count {
        if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count,
            let v = UInt8(String(decoding: utf8[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
        {
            bytes.append(v)
            i += 4
        } else {
            bytes.append(utf8[i])
            i += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
