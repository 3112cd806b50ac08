import Glibc
import QGASystem
import SystemPackage

/// The host side of `qga cp -r`: a directory made into a tar stream, and a tar stream from
/// the guest made into a directory without trusting it. Everything works on directory
/// descriptors, one name at a time, and never follows a symbolic link.
enum HostTree {
    // MARK: Archiving a host directory

    /// Writes the tree under the open directory `root` as tar to `emit`: `NAME/` first,
    /// then every entry as `NAME/a/b`, names sorted. Files, directories and symbolic links
    /// go in (a hard-linked file as a file each time); anything else (a FIFO, a socket, a
    /// device) is passed to `skipped` and left out.
    static func archive(directory root: Int32, name: [UInt8], emit: ([UInt8]) throws -> Void, skipped: (String) -> Void) throws {
        let prefix = name + [UInt8(ascii: "/")]
        var info = stat()
        guard fstat(root, &info) == 0 else { throw hostError("cannot read", name) }
        try emit(Tar.header(for: Tar.Entry(path: prefix, kind: .directory, mode: UInt32(info.st_mode) & 0o777, size: 0, mtime: info.st_mtim.tv_sec)))
        try archiveContents(of: root, prefix: prefix, emit: emit, skipped: skipped)
        try emit(Tar.end)
    }

    private static func archiveContents(of directory: Int32, prefix: [UInt8], emit: ([UInt8]) throws -> Void, skipped: (String) -> Void) throws {
        for name in try names(in: directory, path: prefix) {
            let path = prefix + name
            var info = stat()
            guard withCName(name, { fstatat(directory, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { throw hostError("cannot read", path) }
            let mode = UInt32(info.st_mode) & 0o777
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let child = withCName(name) { n in retryingEINTR { openat(directory, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
                guard child >= 0 else { throw hostError("cannot open", path) }
                defer { _ = close(child) }
                try emit(Tar.header(for: Tar.Entry(path: path + [UInt8(ascii: "/")], kind: .directory, mode: mode, size: 0, mtime: info.st_mtim.tv_sec)))
                try archiveContents(of: child, prefix: path + [UInt8(ascii: "/")], emit: emit, skipped: skipped)
            case S_IFLNK:
                var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = withCName(name) { name in
                    target.withUnsafeMutableBufferPointer { buffer in
                        buffer.baseAddress.map { readlinkat(directory, name, UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self), buffer.count) } ?? -1
                    }
                }
                guard count >= 0, count < target.count else { throw hostError("cannot read the link", path) }
                try emit(Tar.header(for: Tar.Entry(path: path, kind: .symlink(target: Array(target[..<count])), mode: 0o777, size: 0, mtime: info.st_mtim.tv_sec)))
            case S_IFREG:
                try archiveFile(named: name, in: directory, path: path, mode: mode, emit: emit)
            default:
                skipped(String(decoding: path, as: UTF8.self))
            }
        }
    }

    private static func archiveFile(named name: [UInt8], in directory: Int32, path: [UInt8], mode: UInt32, emit: ([UInt8]) throws -> Void) throws {
        // O_NONBLOCK: a FIFO swapped in after the stat must not block the open.
        let fd = withCName(name) { n in retryingEINTR { openat(directory, n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) } }
        guard fd >= 0 else { throw hostError("cannot open", path) }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size >= 0 else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "\(display(path)) changed during the copy")
        }
        let size = Int(info.st_size)
        try emit(Tar.header(for: Tar.Entry(path: path, kind: .file, mode: mode, size: size, mtime: info.st_mtim.tv_sec)))
        var left = size
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while left > 0 {
            let wanted = min(left, buffer.count)
            let n = buffer.withUnsafeMutableBytes { raw in retryingEINTR { Int32(truncatingIfNeeded: read(fd, raw.baseAddress, wanted)) } }
            guard n > 0 else {
                if n < 0 { throw hostError("cannot read", path) }
                throw CommandFailure(code: ExitCodes.operationFailed, message: "\(display(path)) shrank during the copy")
            }
            try emit(Array(buffer[..<Int(n)]))
            left -= Int(n)
        }
        try emit(Tar.padding(after: size))
    }

    /// The names in a directory other than `.` and `..`, sorted by their bytes.
    private static func names(in directory: Int32, path: [UInt8]) throws -> [[UInt8]] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { _ = close(copy) }
            throw hostError("cannot list", path)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        errno = 0
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append(name) }
            errno = 0
        }
        guard errno == 0 else { throw hostError("cannot list", path) }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    // MARK: Extracting an archive from the guest

    /// Extracts a guest's archive under the directory `root` (a new, empty directory of
    /// ours), refusing whatever could write elsewhere: absolute names, `..`, a path through
    /// a symbolic link or a non-directory, a hard link to anything but a file extracted
    /// before; and refusing devices and FIFOs. Symbolic links are created as they are, and
    /// never followed. Permissions are kept without set-id and sticky bits, less the umask;
    /// owners and times are not. Directories stay 0700 until `finish`.
    final class Extractor {
        private let root: Int32
        private let umask: UInt32
        /// Directories and the modes they get at the end; the root's is first.
        private var directories: [([[UInt8]], UInt32)] = []
        /// Files extracted as regular files, the only targets a hard link may name.
        private var files: Set<[[UInt8]]> = []
        private(set) var entries = 0
        private(set) var bytes = 0

        init(root: Int32) {
            self.root = root
            let mask = Glibc.umask(0o022)
            Glibc.umask(mask)
            umask = UInt32(mask)
        }

        /// Extracts every entry `reader` yields; `progress` sees the data bytes so far.
        func extract(_ reader: Tar.Reader, progress: (Int) -> Void = { _ in }) throws {
            while let entry = try reader.next() {
                try extract(entry, from: reader, progress: progress)
                entries += 1
            }
        }

        private func extract(_ entry: Tar.Entry, from reader: Tar.Reader, progress: (Int) -> Void) throws {
            let components = try HostTree.components(entry.path)
            let mode = entry.mode & 0o777 & ~umask
            guard let name = components.last else {
                guard entry.kind == .directory else { throw refusal(entry.path, "names the destination itself and is not a directory") }
                directories.insert(([], mode), at: 0)
                return
            }
            let parent = try open(Array(components.dropLast()), entry: entry.path)
            defer { _ = close(parent) }
            // Whatever this entry replaces is no longer a file a hard link may name.
            files.remove(components)
            switch entry.kind {
            case .directory:
                if withCName(name, { mkdirat(parent, $0, 0o700) }) != 0 {
                    guard errno == EEXIST, kind(of: name, in: parent) == S_IFDIR else { throw failure("cannot create the directory", entry.path) }
                }
                directories.append((components, mode))
            case .file:
                let fd = try create(name, in: parent, path: entry.path) { name in
                    retryingEINTR { openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
                }
                defer { _ = close(fd) }
                let file = FileDescriptor(rawValue: fd)
                while true {
                    let chunk = try reader.data(upTo: 1 << 20)
                    if chunk.isEmpty { break }
                    do { try file.writeFully(chunk) } catch { throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot write \(display(entry.path)): \(error.errno)") }
                    bytes += chunk.count
                    progress(bytes)
                }
                fchmod(fd, mode_t(mode))
                files.insert(components)
            case .symlink(let target):
                guard !target.isEmpty, !target.contains(0) else { throw refusal(entry.path, "is a symbolic link to nothing") }
                _ = try create(name, in: parent, path: entry.path) { name in withCName(target) { symlinkat($0, parent, name) } }
            case .hardlink(let target):
                let targetComponents = try HostTree.components(target)
                guard let targetName = targetComponents.last, files.contains(targetComponents) else {
                    throw refusal(entry.path, "is a hard link to \(display(target)), not a file extracted before it")
                }
                let targetParent = try open(Array(targetComponents.dropLast()), entry: target)
                defer { _ = close(targetParent) }
                _ = try create(name, in: parent, path: entry.path) { name in
                    withCName(targetName) { linkat(targetParent, $0, parent, name, 0) }
                }
                files.insert(components)
            case .other(let flag):
                let what = [UInt8(ascii: "3"): "a character device", UInt8(ascii: "4"): "a block device", UInt8(ascii: "6"): "a FIFO"][flag]
                throw CommandFailure(
                    code: ExitCodes.operationFailed,
                    message: "\(display(entry.path)) in the guest's tree is \(what ?? "of an unsupported kind (tar type \(String(decoding: [flag], as: UTF8.self)))"); qga cp -r copies files, directories and links only")
            }
        }

        /// Gives each directory its mode, deepest first (so that a read-only one does not
        /// stop the others); call once everything is extracted.
        func finish() throws {
            for (components, mode) in directories.reversed() {
                let fd = try open(components, entry: Array(components.joined(separator: [UInt8(ascii: "/")])))
                defer { _ = close(fd) }
                fchmod(fd, mode_t(mode))
            }
        }

        /// Creates `name` with `make` (returning a descriptor or 0, or -1 with errno); a file
        /// or link already there (an archive may repeat a name) is replaced, as tar does; a
        /// directory there is refused.
        private func create(_ name: [UInt8], in parent: Int32, path: [UInt8], _ make: (UnsafePointer<CChar>) -> Int32) throws -> Int32 {
            var result = withCName(name, make)
            if result < 0 && errno == EEXIST {
                guard kind(of: name, in: parent) != S_IFDIR else { throw refusal(path, "would replace a directory") }
                guard withCName(name, { unlinkat(parent, $0, 0) }) == 0 else { throw failure("cannot replace", path) }
                result = withCName(name, make)
            }
            guard result >= 0 else { throw failure("cannot create", path) }
            return result
        }

        /// Opens the directory `components` below the root, one name at a time without
        /// following links; a directory the archive did not list first is created.
        private func open(_ components: [[UInt8]], entry: [UInt8]) throws -> Int32 {
            var fd = dup(root)
            guard fd >= 0 else { throw failure("cannot open the destination for", entry) }
            for component in components {
                var next = withCName(component) { n in retryingEINTR { openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
                if next < 0 && errno == ENOENT {
                    if withCName(component, { mkdirat(fd, $0, 0o700) }) == 0 || errno == EEXIST {
                        next = withCName(component) { n in retryingEINTR { openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
                    }
                }
                let failed = errno
                _ = close(fd)
                guard next >= 0 else {
                    if failed == ELOOP || failed == ENOTDIR { throw refusal(entry, "goes through a symbolic link or a file") }
                    errno = failed
                    throw failure("cannot open the directory of", entry)
                }
                fd = next
            }
            return fd
        }

        private func kind(of name: [UInt8], in parent: Int32) -> mode_t? {
            var info = stat()
            guard withCName(name, { fstatat(parent, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { return nil }
            return info.st_mode & S_IFMT
        }

        private func refusal(_ path: [UInt8], _ why: String) -> CommandFailure {
            HostTree.refusal(path, why)
        }

        private func failure(_ what: String, _ path: [UInt8]) -> CommandFailure {
            hostError(what, path)
        }
    }

    /// An archive path as names below the destination: empty and `.` names dropped; an
    /// absolute path or a `..` refused.
    static func components(_ path: [UInt8]) throws -> [[UInt8]] {
        guard path.first != UInt8(ascii: "/") else { throw refusal(path, "is an absolute path") }
        let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init).filter { $0 != [UInt8(ascii: ".")] }
        guard !parts.contains([UInt8(ascii: "."), UInt8(ascii: ".")]) else { throw refusal(path, "climbs out with '..'") }
        return parts
    }

    static func refusal(_ path: [UInt8], _ why: String) -> CommandFailure {
        CommandFailure(code: ExitCodes.protocolViolation, message: "refusing the guest's archive: \(display(path)) \(why); nothing was copied")
    }

    // MARK: Removing a partial result

    /// Removes `name` in `parent` and everything below it, never following a link; best
    /// effort (for cleaning up after a failure).
    static func remove(_ name: [UInt8], in parent: Int32) {
        let fd = withCName(name) { n in retryingEINTR { openat(parent, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } }
        if fd >= 0 {
            // A directory left read-only by a failed finish must still be emptied.
            fchmod(fd, 0o700)
            for child in (try? names(in: fd, path: [])) ?? [] { remove(child, in: fd) }
            _ = close(fd)
            _ = withCName(name) { unlinkat(parent, $0, AT_REMOVEDIR) }
        } else {
            _ = withCName(name) { unlinkat(parent, $0, 0) }
        }
    }

    // MARK: Helpers

    static func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    /// A failure of a host call on `path`, with errno's text.
    static func hostError(_ what: String, _ path: [UInt8]) -> CommandFailure {
        CommandFailure(code: ExitCodes.operationFailed, message: "\(what) \(display(path)): \(Errno(rawValue: errno))")
    }

    /// Calls `body` with `bytes` as a C string (a name cannot hold NUL: the tar reader stops
    /// at one, and readdir gives none).
    static func withCName<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R where R: BinaryInteger {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress else {
                    errno = EINVAL
                    return -1
                }
                return body(base)
            }
        }
    }
}

private func withCName<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R where R: BinaryInteger {
    HostTree.withCName(bytes, body)
}
