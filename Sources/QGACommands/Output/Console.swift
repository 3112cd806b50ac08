import Glibc
import QGAProtocol

/// Where results and diagnostics go: results to stdout, diagnostics to stderr.
enum Console {
    /// Writes bytes to stdout; a reader that went away (EPIPE) ends the output quietly.
    static func out(_ bytes: [UInt8]) {
        write(fd: 1, bytes)
    }

    /// Writes one line to stderr.
    static func error(_ line: String) {
        write(fd: 2, Array((line + "\n").utf8))
    }

    private static func write(fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    /// True when `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The value of an environment variable, if set.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
