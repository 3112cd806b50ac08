import Glibc
import QGASystem
import SystemPackage

/// A guest account: what the ssh and password commands need from a passwd entry.
struct UserAccount: Equatable {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let home: String

    /// One passwd(5) line (`name:password:uid:gid:gecos:home:shell`), or nil when malformed.
    init?(passwdLine line: Substring) {
        let fields = line.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 7, !fields[0].isEmpty, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else {
            return nil
        }
        name = String(fields[0])
        self.uid = uid
        self.gid = gid
        home = String(fields[5])
    }
}

/// Finds accounts without calling getpwnam: in the static qgad, glibc would load the NSS
/// modules that nsswitch.conf names (systemd, sss, ldap...) into a process that cannot
/// use them, and crash. The guest's own `getent` resolves through every module, as
/// qemu-ga's getpwnam does; plain /etc/passwd is the fallback when `getent` is missing,
/// fails or does not answer in time.
enum UserLookup {
    /// How long `getent` may take. The serving loop waits for it (signals, other
    /// requests and guest-exec's pipes wait too), so this is short: a name service that
    /// needs longer is treated as silent, and /etc/passwd decides.
    static let getentTimeout: Duration = .seconds(5)
    /// More than any one passwd line needs; a longer answer is not trusted.
    static let getentOutputLimit = 64 << 10
    /// Larger than any real /etc/passwd; the read stops there.
    static let passwdFileLimit = 32 << 20

    /// The account called `name`, or nil when the guest has none.
    static func account(named name: String, passwdFile: String = "/etc/passwd") -> UserAccount? {
        // Not names: getpwnam finds no "" and stops at a NUL; a leading '-' would be an
        // option to getent (and useradd refuses such names anyway).
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        if !name.hasPrefix("-"), let output = captureOutput(["getent", "passwd", name]) {
            // getent takes an all-digit key as a uid: only an entry with this very name counts.
            if let account = accounts(in: output).first(where: { $0.name == name }) { return account }
        }
        guard let bytes = readFile(passwdFile, limit: passwdFileLimit) else { return nil }
        return accounts(in: bytes).first { $0.name == name }
    }

    /// The well-formed entries of passwd(5) text, in order; `+`/`-` compat lines are skipped.
    static func accounts(in bytes: [UInt8]) -> [UserAccount] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            line.hasPrefix("+") || line.hasPrefix("-") ? nil : UserAccount(passwdLine: line)
        }
    }

    /// What `argv` prints on stdout when it exits 0 within `getentTimeout`, or nil (it is
    /// killed at the deadline or once it prints more than `getentOutputLimit` bytes).
    private static func captureOutput(_ argv: [String]) -> [UInt8]? {
        guard let pipe = try? FileDescriptor.closeOnExecPipe() else { return nil }
        let ends = [pipe.reader.rawValue, pipe.writer.rawValue]
        let pid: pid_t
        do {
            pid = try spawn(argv, stdout: ends[1])
        } catch {
            close(ends[0]); close(ends[1])
            return nil
        }
        close(ends[1])
        defer { close(ends[0]) }
        let deadline = Deadline.after(getentTimeout)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var complete = false
        while !deadline.hasPassed && output.count <= getentOutputLimit {
            var entry = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, deadline.pollMilliseconds)
            if ready < 0 && errno != EINTR { break }
            guard ready > 0 else { continue }
            let got = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in try FileDescriptor(rawValue: ends[0]).readAvailable(into: buffer) }
            }
            // An error ends the read; nothing yet (EAGAIN, nil) waits for more.
            guard case .success(let available) = got else { break }
            guard let n = available else { continue }
            if n == 0 {
                complete = true
                break
            }
            output += chunk[0..<n]
        }
        let status = reap(pid, deadline: complete ? deadline : .after(.zero))
        guard complete, output.count <= getentOutputLimit, status == .exited(0) else { return nil }
        return output
    }

    /// Waits for `pid` until `deadline`, then kills it; its exit status.
    private static func reap(_ pid: pid_t, deadline: Deadline) -> ChildStatus? {
        while true {
            do {
                if let status = try reapChild(pid) { return status }
            } catch {
                return nil
            }
            if deadline.hasPassed { break }
            // It closed stdout and is about to exit; a short pause instead of a busy loop.
            _ = poll(nil, 0, min(5, deadline.pollMilliseconds))
        }
        kill(pid, SIGKILL)
        _ = try? reapChild(pid, blocking: true)
        return nil
    }
}
