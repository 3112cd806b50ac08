import Glibc
import QGAProtocol

/// Where results and diagnostics go: results to stdout, diagnostics to stderr.
enum Console {
    /// Writes bytes to stdout. A reader that went away (EPIPE) ends the output quietly and
    /// returns false; any other failure (a full disk) is an error, so that no output is lost
    /// silently.
    @discardableResult
    static func out(_ bytes: [UInt8]) throws -> Bool {
        let code = write(fd: 1, bytes)
        guard code == 0 || code == EPIPE else {
            throw CommandFailure(code: ExitCodes.operationFailed, message: "cannot write the output: \(String(cString: strerror(code)))")
        }
        return code == 0
    }

    /// Prints a JSON value and a newline to stdout as the printer produces it, through a
    /// bounded buffer: a large reply never exists twice over as text in memory.
    static func print(_ value: JSONValue, with printer: JSONPrinter) throws {
        struct ReaderGone: Error {}
        do {
            try printer.write(value, terminator: [0x0A]) { chunk in
                guard try out(chunk) else { throw ReaderGone() }
            }
        } catch is ReaderGone {
            return
        }
    }

    /// Writes one line of a result to stdout, control characters escaped.
    static func line(_ text: String) throws {
        try out(Array((sanitized(text) + "\n").utf8))
    }

    /// Writes one line to stderr. Messages can quote the guest (error descriptions, paths),
    /// so control characters are escaped here, once for every message.
    static func error(_ line: String) {
        let lines = line.split(separator: "\n", omittingEmptySubsequences: false).map { sanitized(String($0)) }
        write(fd: 2, Array((lines.joined(separator: "\n") + "\n").utf8))
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

    /// Writes everything; returns 0 or the errno that stopped it.
    @discardableResult
    private static func write(fd: Int32, _ bytes: [UInt8]) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return 0
    }

    /// Raw agent bytes made safe for a terminal: C1 controls (UTF-8 C2 80...C2 9F) and DEL
    /// become \u00XX escapes, which keeps valid JSON valid (they can only occur in strings).
    static func terminalSafe(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        let hex = Array("0123456789abcdef".utf8)
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x7F {
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            } else if b == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) {
                let c = bytes[i + 1]
                out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
                i += 1
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    /// True when `fd` is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The value of an environment variable, if set.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
