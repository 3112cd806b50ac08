import Glibc
import QGASystem
import SystemPackage

/// The pidfile of a daemonized qgad, locked so that a second daemon refuses to start.
struct Pidfile {
    let path: String
    let fd: Int32

    init(_ path: String) throws(ConfigError) {
        let fd = retryingEINTR { open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0o600) }
        guard fd >= 0 else { throw ConfigError("cannot open pid file \(path): \(FileSystem.strerror(errno))") }
        guard lockf(fd, F_TLOCK, 0) == 0 else {
            close(fd)
            throw ConfigError("cannot lock pid file \(path): is another agent running?")
        }
        _ = ftruncate(fd, 0)
        _ = try? FileDescriptor(rawValue: fd).writeFully(Array("\(getpid())\n".utf8))
        self.path = path
        self.fd = fd
    }

    func remove() {
        unlink(path)
        close(fd)
    }
}
