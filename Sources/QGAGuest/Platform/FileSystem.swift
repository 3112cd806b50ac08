import Glibc
import QGASystem
import SystemPackage

/// Small file-system helpers over Glibc, for procfs, sysfs and state files.
enum FileSystem {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Writes `bytes` to `path` (created 0600, truncated); false on failure.
    @discardableResult
    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) -> Bool {
        let fd = retryingEINTR { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return (try? FileDescriptor(rawValue: fd).writeFully(bytes)) != nil
    }

    /// The names in a directory, without "." and "..", sorted.
    static func list(_ path: String) -> [String] { entries(path).map(\.name).sorted() }

    /// A directory's entries with their `d_type`, in the order `readdir` gives them
    /// (qemu-ga's replies follow that order); empty if it cannot be opened.
    static func entries(_ path: String) -> [(name: String, type: UInt8)] { entriesIfDirectory(path) ?? [] }

    /// As `entries`, but nil when the directory cannot be opened.
    static func entriesIfDirectory(_ path: String) -> [(name: String, type: UInt8)]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var found: [(name: String, type: UInt8)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { found.append((name, entry.pointee.d_type)) }
        }
        return found
    }

    /// A symlink's target resolved to an absolute canonical path.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A sysfs-style one-line value, trimmed.
    static func value(_ path: String) -> String? {
        readTextFile(path, limit: 4096).map { String($0.trimmingWhitespace().split(separator: "\n").first ?? "") }
    }

    static func strerror(_ code: Int32) -> String { String(cString: Glibc.strerror(code)) }
}
