import Glibc
import QGASystem
import SystemPackage

/// Why a file under a user's directory was not read or written.
enum UserFileError: Error, Equatable {
    /// It does not exist (ENOENT), so a caller may treat it as empty.
    case missing
    /// A system call failed with this errno.
    case system(Int32)
    /// It is there but qgad refuses it: a symbolic link, a FIFO, a device, too large...
    case refused(String)
}

/// A directory opened by descriptor, and the files in it, for qgad (root) working in a
/// directory that a user controls. Nothing in it is reached through a name the user can
/// redirect: no symbolic link is followed, only regular files are opened (without
/// blocking, never as a controlling terminal), new files get unique names created
/// exclusively, and ownership and mode are set on descriptors.
final class UserDirectory {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Opens a directory by path; symbolic links in it are followed, as for a path from
    /// passwd(5) that the administrator chose.
    static func open(path: String) throws(UserFileError) -> UserDirectory {
        let fd = retryingEINTR { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { throw errno == ENOENT ? .missing : .system(errno) }
        return UserDirectory(fd: fd)
    }

    /// The subdirectory `name`, which must be a real directory, not a link to one.
    func directory(_ name: String) throws(UserFileError) -> UserDirectory {
        let fd = retryingEINTR { openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { throw UserDirectory.openError(errno, name: name, isLink: isSymbolicLink(name)) }
        return UserDirectory(fd: fd)
    }

    /// Creates the subdirectory `name` with `mode`, owned by `uid`:`gid`, and opens it.
    func makeDirectory(_ name: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(UserFileError) -> UserDirectory {
        guard mkdirat(fd, name, mode) == 0 else { throw errno == ENOENT ? .missing : .system(errno) }
        let made = try directory(name)
        // Changed only if it is still the one just made (root's), not one swapped in since.
        var info = stat()
        guard fstat(made.fd, &info) == 0 else { throw .system(errno) }
        guard info.st_uid == geteuid() else { throw .refused("'\(name)' was replaced while being created") }
        guard fchown(made.fd, uid, gid) == 0, fchmod(made.fd, mode) == 0 else { throw .system(errno) }
        return made
    }

    /// The whole regular file `name`, at most `limit` bytes. A file with other hard links
    /// must belong to `owner`: a link to someone else's file is not read on their behalf.
    func readFile(_ name: String, owner: uid_t, limit: Int) throws(UserFileError) -> [UInt8] {
        // Checked before opening, so that opening a device has no side effect.
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw errno == ENOENT ? .missing : .system(errno) }
        try UserDirectory.checkRegular(info, name: name, owner: owner)
        let file = retryingEINTR { openat(self.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) }
        guard file >= 0 else { throw UserDirectory.openError(errno, name: name, isLink: isSymbolicLink(name)) }
        defer { close(file) }
        // And again on what was opened: the name may have been replaced in between.
        guard fstat(file, &info) == 0 else { throw .system(errno) }
        try UserDirectory.checkRegular(info, name: name, owner: owner)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got: Int?
            do {
                got = try chunk.withUnsafeMutableBufferPointer { (buffer) throws(SystemError) in
                    try FileDescriptor(rawValue: file).readAvailable(into: UnsafeMutableRawBufferPointer(buffer))
                }
            } catch {
                throw .system(error.errno.rawValue)
            }
            // A regular file never says EAGAIN; were it to, that is an error here, as before.
            guard let n = got else { throw .system(EAGAIN) }
            if n == 0 { return bytes }
            guard n <= limit - bytes.count else { throw .refused("'\(name)' is larger than \(limit) bytes") }
            bytes += chunk[0..<n]
        }
    }

    /// Replaces `name` with a regular file holding `bytes`, with `mode`, owned by
    /// `uid`:`gid`: written under a unique new name, then renamed over `name` (whatever
    /// `name` was, the rename replaces the entry itself and follows nothing).
    func replaceFile(_ name: String, with bytes: [UInt8], mode: mode_t, uid: uid_t, gid: gid_t) throws(UserFileError) {
        var temporary = ""
        var file: Int32 = -1
        for _ in 0..<16 {
            temporary = "\(name).qgad-\(UInt64.random(in: 0...UInt64.max))"
            file = retryingEINTR { openat(self.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0o600) }
            if file >= 0 || errno != EEXIST { break }
        }
        guard file >= 0 else { throw .system(errno) }
        var failure: Int32 = 0
        do {
            try FileDescriptor(rawValue: file).writeFully(bytes)
        } catch {
            failure = error.errno.rawValue
        }
        if failure == 0 && (fchown(file, uid, gid) != 0 || fchmod(file, mode) != 0 || fsync(file) != 0) {
            failure = errno
        }
        if close(file) != 0 && failure == 0 && errno != EINTR { failure = errno }
        if failure == 0 && renameat(fd, temporary, fd, name) != 0 { failure = errno }
        if failure != 0 {
            unlinkat(fd, temporary, 0)
            throw .system(failure)
        }
    }

    /// Whether `name` here is a symbolic link (to explain an ELOOP from O_NOFOLLOW).
    private func isSymbolicLink(_ name: String) -> Bool {
        var info = stat()
        return fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    private static func openError(_ code: Int32, name: String, isLink: Bool) -> UserFileError {
        if code == ENOENT { return .missing }
        if isLink { return .refused("'\(name)' is a symbolic link, not followed") }
        return .system(code)
    }

    private static func checkRegular(_ info: stat, name: String, owner: uid_t) throws(UserFileError) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw .refused("'\(name)' is a symbolic link, not followed")
        default: throw .refused("'\(name)' is not a regular file")
        }
        guard info.st_nlink <= 1 || info.st_uid == owner else {
            throw .refused("'\(name)' has other hard links and belongs to another user")
        }
    }
}
