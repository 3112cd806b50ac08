import Glibc
import SystemPackage

/// The address of a unix-domain socket at a file-system path: the package's one builder
/// of a `sockaddr_un`.
public struct UnixAddress {
    /// The socket's path.
    public let path: String
    private var storage = sockaddr_un()

    /// The address of `path`; fails with `Errno.fileNameTooLong` (naming `operation`) when
    /// the path does not fit `sun_path` with its terminating NUL (108 bytes on Linux).
    public init(_ path: String, operation: String = "connect") throws(SystemError) {
        self.path = path
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw SystemError(operation, .fileNameTooLong, subject: path)
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
    }

    /// Calls `body` with the address as the socket calls take it.
    public func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// A new unix stream socket (close-on-exec, plus `flags` such as `SOCK_NONBLOCK`).
    public static func streamSocket(flags: Int32 = 0, subject: String? = nil) throws(SystemError) -> FileDescriptor {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | flags, 0)
        guard fd >= 0 else { throw SystemError("socket", .last, subject: subject) }
        return FileDescriptor(rawValue: fd)
    }

    /// A stream socket bound here, with file mode `mode`, listening with `backlog`. The
    /// path must not exist (the caller removes a stale socket first).
    public func listen(mode: mode_t, backlog: Int32) throws(SystemError) -> FileDescriptor {
        let fd = try UnixAddress.streamSocket(subject: path)
        let failure: SystemError?
        if withSocketAddress({ Glibc.bind(fd.rawValue, $0, $1) }) != 0 {
            failure = SystemError("bind", .last, subject: path)
        } else if chmod(path, mode) != 0 {
            failure = SystemError("chmod", .last, subject: path)
        } else if Glibc.listen(fd.rawValue, backlog) != 0 {
            failure = SystemError("listen", .last, subject: path)
        } else {
            failure = nil
        }
        if let failure {
            try? fd.close()
            throw failure
        }
        return fd
    }
}
