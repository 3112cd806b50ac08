import Glibc
import QGAProtocol

/// Where results and diagnostics go: results to stdout, diagnostics to stderr.
enum Console {
    /// Writes bytes to stdout; a reader that went away (EPIPE) ends the output quietly.
    static func out(_ bytes: [UInt8]) {
        write(fd: 1, bytes)
    }

    /// Writes one line of a result to stdout.
    static func line(_ text: String) {
        out(Array((text + "\n").utf8))
    }

    /// Writes one line to stderr. Messages can quote the guest (error descriptions, paths),
    /// so control characters are escaped here, once for every message.
    static func error(_ line: String) {
        write(fd: 2, Array((sanitized(line) + "\n").utf8))
    }

    /// `text` with C0 and C1 control characters and DEL written as `\u00XX`.
    static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
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
