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
/// mounted twice, a bind mount, counts once).
func realMounts(_ text: String? = readTextFile("/proc/self/mountinfo")) -> [Mount] {
    var mounts: [Mount] = []
    for line in (text ?? "").split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count, fields.count > 4 else { continue }
        let devnum = fields[2].split(separator: ":")
        guard devnum.count == 2, let major = Int(devnum[0]), let minor = Int(devnum[1]) else { continue }
        let fstype = String(fields[dash + 1])
        if major == 0 || fstype == "smbfs" || fstype == "cifs" { continue }
        if mounts.contains(where: { $0.major == major && $0.minor == minor }) { continue }
        mounts.append(Mount(
            mountpoint: unescapeOctal(fields[4]), fstype: fstype, source: unescapeOctal(fields[dash + 2]),
            major: major, minor: minor))
    }
    return mounts
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
