import CQGAShims
import Glibc
import QGASystem
import SystemPackage

/// Where requests come from.
enum Channel: CustomStringConvertible {
    /// unix-listen or vsock-listen: one client at a time, as qemu-ga.
    case listening(FileDescriptor)
    /// virtio-serial or isa-serial: one device, always open.
    case device(FileDescriptor, path: String, method: Config.Method)

    static func open(_ config: Config, log: Log) throws -> Channel {
        while true {
            do {
                return try openOnce(config)
            } catch where config.retryPath {
                log.error("\(error); retrying in 5 s")
                sleep(5)
            }
        }
    }

    static func openOnce(_ config: Config) throws -> Channel {
        switch config.method {
        case .unixListen:
            guard let path = config.path else { throw ConfigError("must specify a path for this channel") }
            unlink(path)
            guard let address = try? UnixAddress(path, operation: "bind") else { throw ConfigError("socket path too long: \(path)") }
            do throws(SystemError) {
                // 0600 (bind gave 0700 under qgad's umask): only root talks to the agent. A
                // socket handed over by systemd keeps the mode its unit sets (SocketMode=).
                return .listening(try address.listen(mode: 0o600, backlog: 1))
            } catch {
                throw ConfigError("cannot listen on \(path): \(FileSystem.strerror(error.errno.rawValue))")
            }
        case .vsockListen:
            let text = config.path ?? "-1:1234"
            let parts = text.split(separator: ":")
            guard parts.count == 2, let cid = Int64(parts[0]), let port = UInt32(parts[1]) else {
                throw ConfigError("invalid vsock address '\(text)': write <cid>:<port>")
            }
            let fd = qga_vsock_listen(UInt32(truncatingIfNeeded: cid), port)
            guard fd >= 0 else { throw ConfigError("cannot listen on vsock \(text): \(FileSystem.strerror(errno))") }
            return .listening(FileDescriptor(rawValue: fd))
        case .virtioSerial, .isaSerial:
            guard let path = config.channelPath else { throw ConfigError("no channel path") }
            let fd = retryingEINTR { Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
            guard fd >= 0 else { throw ConfigError("cannot open channel \(path): \(FileSystem.strerror(errno))") }
            if config.method == .isaSerial {
                var settings = termios()
                if tcgetattr(fd, &settings) == 0 {
                    cfmakeraw(&settings)
                    tcsetattr(fd, TCSANOW, &settings)
                }
            }
            return .device(FileDescriptor(rawValue: fd), path: path, method: config.method)
        }
    }

    var description: String {
        switch self {
        case .listening(let fd): "listening socket (fd \(fd.rawValue))"
        case .device(_, let path, let method): "\(method.rawValue) \(path)"
        }
    }
}
