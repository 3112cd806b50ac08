import Glibc

/// Gives back the pages of qgad's own code that only start-up used.
///
/// The kernel maps file pages in 64 KiB windows around each fault, so parsing options,
/// reading the config and registering commands leave some 4 MB of the executable's code
/// mapped, most of it never run again. Dropping the executable's code mapping lets the
/// serving loop fault back in only what it uses; the pages stay in the page cache, so this
/// costs a few minor faults. Only code (r-x): read-only data includes the GOT, which the
/// loader has written (relocations, ifuncs), and dropping it would revert it.
func releaseStartupPages() {
    guard let exe = FileSystem.realPath("/proc/self/exe"), let maps = readTextFile("/proc/self/maps") else { return }
    for line in maps.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[5] == exe, fields[1] == "r-xp" else { continue }
        let bounds = fields[0].split(separator: "-")
        guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
            end > start, let length = Int(exactly: end - start), let pointer = UnsafeMutableRawPointer(bitPattern: start)
        else { continue }
        _ = madvise(pointer, length, MADV_DONTNEED)
    }
}
