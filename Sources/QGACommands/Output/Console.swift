import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

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

    /// Writes bytes to stderr as they are (a guest command's own stderr, for `qga run`);
    /// true unless the reader went away or the write failed.
    @discardableResult
    static func errorBytes(_ bytes: [UInt8]) -> Bool {
        write(fd: 2, bytes) == 0
    }

    /// Writes one line of a result to stdout, with anything that could act on the terminal
    /// escaped (`JSONPrinter.isUnsafe`).
    static func line(_ text: String) throws {
        try out(escaped(text) + [0x0A])
    }

    /// Writes one line to stderr. Messages can quote the guest (error descriptions, paths),
    /// so they are escaped here, once for every message: a line break in a guest's text
    /// becomes `\n` and cannot start a line of its own, and neither can a carriage return
    /// or a bidirectional control change what the line appears to say.
    static func error(_ line: String) {
        write(fd: 2, escaped(line) + [0x0A])
    }

    /// `text` as UTF-8 with control characters, line breaks and bidirectional controls
    /// written as JSON escapes (`\n`, `\u001b`, `\u202e`).
    static func escaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        JSONPrinter.writeEscapingUnsafe(text, into: &out)
        return out
    }

    /// A raw reply made safe for a terminal: escaped as `escaped` does. Inside strings that
    /// keeps valid JSON valid; a line break or carriage return between tokens (whitespace to
    /// JSON) shows as `\n` or `\r`, which a terminal user reads as what was sent.
    static func terminalSafe(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 < 0x20 || $0 >= 0x7F }) else { return bytes }
        return escaped(String(decoding: bytes, as: UTF8.self))
    }

    /// Writes everything; returns 0 or the errno that stopped it.
    @discardableResult
    private static func write(fd: Int32, _ bytes: [UInt8]) -> Int32 {
        do throws(SystemError) {
            try FileDescriptor(rawValue: fd).writeFully(bytes)
            return 0
        } catch {
            return error.errno.rawValue
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
