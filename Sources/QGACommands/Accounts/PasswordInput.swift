import Glibc
import QGASystem
import SystemPackage

/// Reads a secret: from the terminal without echo, or as the first line of stdin when
/// stdin is not a terminal. Never from argv or the environment, where other users of the
/// host (ps, /proc) could read it.
enum PasswordInput {
    /// The longest secret accepted, in bytes (a terminal's line holds 4095).
    static let maxLength = 4095

    /// The secret, asked for on the terminal (twice when `confirmation` is given) or read
    /// from stdin. Refused when empty, too long or holding a NUL byte. No message ever
    /// quotes it.
    static func read(prompt: String, confirmation: String?) throws -> [UInt8] {
        let secret: [UInt8]
        if Console.isTerminal(0) {
            let terminal = try Terminal()
            secret = try terminal.readSecret(prompt: prompt)
            if let confirmation, try terminal.readSecret(prompt: confirmation) != secret {
                throw failure("the two entries differ; nothing was changed")
            }
        } else {
            secret = try firstLine(of: FileDescriptor(rawValue: 0))
        }
        return try checked(secret)
    }

    /// The first line of `fd` without its line end (`\n` or `\r\n`), or all of it when it
    /// has no line break; at most `maxLength` bytes.
    static func firstLine(of fd: FileDescriptor) throws -> [UInt8] {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let count = try chunk.withUnsafeMutableBytes { (buffer) throws(SystemError) in try fd.readAvailable(into: buffer) }
            guard let count else {
                // A non-blocking stdin with nothing yet.
                var entry = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, -1)
                continue
            }
            if count == 0 { break }
            if let end = chunk[..<count].firstIndex(of: 0x0A) {
                line += chunk[..<end]
                if line.last == 0x0D { line.removeLast() }
                break
            }
            line += chunk[..<count]
            guard line.count <= maxLength else { break }
        }
        return line
    }

    static func checked(_ secret: [UInt8]) throws -> [UInt8] {
        guard !secret.isEmpty else { throw failure("no password was given; nothing was changed") }
        guard secret.count <= maxLength else { throw failure("the password is longer than \(maxLength) bytes; nothing was changed") }
        guard !secret.contains(0) else { throw failure("the password holds a NUL byte; nothing was changed") }
        return secret
    }

    private static func failure(_ message: String) -> CommandFailure {
        CommandFailure(code: ExitCodes.usage, message: message)
    }

    /// The controlling terminal (or stdin, when /dev/tty cannot be opened), with echo
    /// turned off while a secret is typed.
    private final class Terminal {
        let fd: Int32
        let owned: Bool

        init() throws {
            let tty = retryingEINTR { open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC) }
            (fd, owned) = tty >= 0 ? (tty, true) : (0, false)
        }

        deinit { if owned { close(fd) } }

        /// Shows `prompt`, reads one line with echo off, and restores the terminal as it
        /// was, also when a signal ends the wait: the signals that would end or stop qga
        /// are held meanwhile and read from a signalfd, so that the terminal is restored
        /// before qga exits with 128+N.
        func readSecret(prompt: String) throws -> [UInt8] {
            var saved = termios()
            guard tcgetattr(fd, &saved) == 0 else { throw SystemError("tcgetattr", Errno(rawValue: errno)) }
            let held = SignalWatcher.terminating + SignalWatcher.stopping
            let watcher = try SignalWatcher(held)
            // Declared first, so it runs last: the signals come back only after the terminal.
            defer {
                var set = sigset_t()
                sigemptyset(&set)
                for signal in held { sigaddset(&set, signal) }
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
            }
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ECHONL)
            guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { throw SystemError("tcsetattr", Errno(rawValue: errno)) }
            defer { _ = tcsetattr(fd, TCSAFLUSH, &saved) }

            write(Array(prompt.utf8))
            var line: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 512)
            while true {
                var entries = [
                    pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: watcher.descriptor, events: Int16(POLLIN), revents: 0),
                ]
                if poll(&entries, 2, -1) < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("poll", Errno(rawValue: errno))
                }
                if entries[1].revents != 0, let signal = try watcher.next(deadline: .after(seconds: 0)),
                    !SignalWatcher.stopping.contains(signal)
                {
                    write([0x0A])
                    throw CommandFailure(code: 128 + signal, message: nil)
                }
                guard entries[0].revents != 0 else { continue }
                let count = Glibc.read(fd, &chunk, chunk.count)
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw SystemError("read the terminal", Errno(rawValue: errno))
                }
                if count == 0 { return line }  // end of input (^D)
                if let end = chunk[..<count].firstIndex(of: 0x0A) {
                    return line + chunk[..<end]
                }
                line += chunk[..<count]
                if line.count > PasswordInput.maxLength { return line }
            }
        }

        private func write(_ bytes: [UInt8]) {
            _ = try? FileDescriptor(rawValue: owned ? fd : 2).writeFully(bytes)
        }
    }
}
